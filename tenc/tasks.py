"""Tasks: an unlabelled pool, an optional labelled dev set, labelled test sets, each graded or binary.

| task     | pool                                      | dev                | tests                    | metric       |
|----------|-------------------------------------------|--------------------|--------------------------|--------------|
| `sts`    | STS12-16 + STS-B + SICK (`pool` setting)  | STS-B dev          | the seven STS sets       | Spearman x100|
| `qqp`    | 10k train + 1k dev + 10k test pairs       | 1k from validation | 10k from validation      | ROC-AUC x100 |
| `qnli`   | 10k train (one order: question, sentence) | half of validation | other half of validation | ROC-AUC x100 |
| `mrpc`   | all splits                                | validation         | test                     | ROC-AUC x100 |
| `trecqa` | all splits (one order: question, answer)  | dev.csv            | test.csv                 | ROC-AUC x100 |
| `custom` | ``--pairs FILE``                          | ``--dev FILE``     | ``--test FILE ...``      | by labels    |

QQP, QNLI and MRPC come from local files (``DIR/{train,dev,test}.{tsv,csv,jsonl}`` with sentence1,
sentence2, label) or, online, from the GLUE sets through ``datasets``. TrecQA (answer-sentence selection,
``qtext,label,atext`` CSVs) comes from ``--task-data DIR`` or ``data/binary/trecqa`` or
``../shared/data/binary/trecqa``; it has no hub fallback. A labelled file whose labels
are all 0/1 is scored by ROC-AUC, otherwise by Spearman. Unlike the reference code, a custom task is
never selected or evaluated on STS-B: with no dev file the label-free rule is used, and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import data as tdata
from .corpora import read_pairs
from .data import DataError

ORDERED = ("qnli", "trecqa")  # (question, sentence) tasks: one order throughout
GLUE = {
    "qqp": ("glue", "qqp", "question1", "question2"),
    "qnli": ("glue", "qnli", "question", "sentence"),
    "mrpc": ("glue", "mrpc", "sentence1", "sentence2"),
}


@dataclass
class LabelledSet:
    name: str
    frame: pd.DataFrame  # sentence1, sentence2, label (+ subset for STS)
    metric: str  # "spearman" or "auc"

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class Task:
    name: str
    pool: pd.DataFrame  # sentence1, sentence2 (unlabelled)
    dev: LabelledSet | None
    tests: list[LabelledSet] = field(default_factory=list)
    both_orders: bool = True  # QNLI keeps (question, sentence) only

    def describe(self) -> str:
        dev = (
            f"dev {self.dev.name} ({len(self.dev)}, {self.dev.metric})" if self.dev else "no dev (label-free selection)"
        )
        tests = ", ".join(f"{t.name} ({len(t)}, {t.metric})" for t in self.tests) or "no test sets"
        return f"task {self.name}: pool {len(self.pool)} pairs; {dev}; tests: {tests}"


def metric_for(labels: np.ndarray) -> str:
    return "auc" if set(np.unique(labels)) <= {0.0, 1.0} else "spearman"


def labelled(name: str, path: str | Path) -> LabelledSet:
    """A labelled dev or test file; its labels must make a usable metric (both classes; not constant)."""
    df, _ = read_pairs(path, require_label=True)
    labels = df["label"].to_numpy()
    metric = metric_for(labels)
    binary = np.isin(labels, (0.0, 1.0))
    if metric == "spearman" and binary.mean() >= 0.9:  # a stray label must not switch ROC-AUC to Spearman
        raise DataError(
            f"{path}: labels look binary (0/1) but {int((~binary).sum())} are not, e.g. "
            f"{float(labels[~binary][0]):g}; fix them (graded scores need more than two values)"
        )
    check_varies(labels, metric, path)
    return LabelledSet(name, df, metric)


def check_varies(labels: np.ndarray, metric: str, where) -> None:
    """A metric needs both classes (ROC-AUC) or more than one score (Spearman): refuse the file at the start."""
    if len(np.unique(labels)) < 2:
        need = "ROC-AUC needs both classes" if metric == "auc" else "a correlation needs varying scores"
        raise DataError(f"{where}: every label is {labels[0]:g}; {need}")


def custom_task(
    pairs: str | Path,
    dev: str | Path | None = None,
    tests: list[str | Path] | None = None,
    name: str = "custom",
    max_pairs: int | None = None,
    seed: int = 0,
    both_orders: bool = True,
) -> Task:
    """A user corpus: unlabelled (or labelled, labels ignored) pairs, optional dev and test files."""
    pool, dropped = read_pairs(pairs)
    pool = _dedup(pool[["sentence1", "sentence2"]], max_pairs, seed)
    dev_set, test_sets = labelled_files(dev, tests)
    return Task(name, pool, dev_set, test_sets, both_orders)


def labelled_files(
    dev: str | Path | None, tests: list[str | Path] | None
) -> tuple[LabelledSet | None, list[LabelledSet]]:
    """A user's labelled dev file and test files, each named by its stem; a file given twice (above all,
    the dev file as a test file) is refused."""
    files = ([Path(dev)] if dev else []) + [Path(t) for t in tests or []]
    resolved = [f.resolve() for f in files]
    if dev and resolved[0] in resolved[1:]:
        raise DataError(
            f"{dev}: given twice, as the dev file and as a test file; selecting on the test set is not allowed"
        )
    if len(set(resolved)) < len(resolved):
        raise DataError(f"a test file is given twice: {', '.join(str(t) for t in tests)}")
    names = _unique_names(files)
    for name, file in zip(names[1 if dev else 0 :], tests or []):
        if name.lower() in RESERVED_NAMES:  # a result row holds dev, cycle, kind, member beside the test scores
            raise DataError(
                f"{file}: a test file named {name!r} would overwrite the result row's own {name!r} column "
                f"(and a test set scored as dev would select the cycles); rename the file"
            )
    dev_set = labelled(names[0], dev) if dev else None
    return dev_set, [labelled(n, t) for n, t in zip(names[1 if dev else 0 :], tests or [])]


RESERVED_NAMES = {"dev", "cycle", "kind", "member"}  # a result row's own keys


def _unique_names(files: list[Path]) -> list[str]:
    """Each file's stem, or parent/stem where two files share a stem (results are keyed by name)."""
    stems = [f.stem for f in files]
    names = [f"{f.parent.name}/{f.stem}" if stems.count(f.stem) > 1 else f.stem for f in files]
    return [f"{n}#{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]


def sts_task(pairs: pd.DataFrame, mode: str = "transductive", max_pairs: int | None = None, seed: int = 0) -> Task:
    pool = tdata.build_pool(pairs, mode, max_pairs, seed).pairs
    ev = tdata.eval_sets(pairs)
    tests = [LabelledSet(n, df.rename(columns={"score": "label"}), "spearman") for n, df in ev.items()]
    dev = LabelledSet("STS-B-dev", tdata.dev_set(pairs).rename(columns={"score": "label"}), "spearman")
    return Task("sts", pool, dev, tests)


def glue_task(name: str, folder: str | Path | None = None, max_pairs: int | None = None, seed: int = 0) -> Task:
    """QQP / QNLI / MRPC from ``folder`` (train/dev/test files) or, online, from the hub's GLUE sets."""
    if name not in GLUE:
        raise DataError(f"unknown task {name!r}: use sts, qqp, qnli, mrpc or custom")
    splits = _local_splits(Path(folder)) if folder else _hub_splits(name, seed)
    return _binary_task(name, splits, folder or "the hub", max_pairs, seed)


def trecqa_task(folder: str | Path | None = None, max_pairs: int | None = None, seed: int = 0) -> Task:
    """TrecQA answer selection: (question, candidate sentence) pairs, label 1 when the sentence answers."""
    folder = binary_dir("trecqa", folder)
    splits = {}
    for split in ("train", "dev", "test"):
        path = folder / f"{split}.csv"
        if not path.is_file():
            raise DataError(f"{folder}: no {split}.csv for task trecqa")
        try:
            df = pd.read_csv(path, dtype={"qtext": str, "atext": str}, keep_default_na=False)
        except (ValueError, pd.errors.ParserError) as err:
            raise DataError(f"{path}: not a readable CSV ({str(err).splitlines()[0]})") from None
        missing = [c for c in ("qtext", "label", "atext") if c not in df.columns]
        if missing:
            raise DataError(f"{path}: no {', '.join(missing)} column (TrecQA files have qtext,label,atext)")
        splits[split] = pd.DataFrame(
            {
                "sentence1": df["qtext"],
                "sentence2": df["atext"],
                "label": pd.to_numeric(df["label"], errors="coerce").astype(float),
            }
        )
    return _binary_task("trecqa", splits, folder, max_pairs, seed)


def binary_dir(name: str, folder: str | Path | None) -> Path:
    """A binary task's folder: explicit > ./data/binary/NAME > ../shared/data/binary/NAME."""
    candidates = [folder] if folder else [f"data/binary/{name}", f"../shared/data/binary/{name}"]
    for c in candidates:
        if Path(c).is_dir():
            return Path(c)
    raise DataError(
        f"task {name}: no data folder (tried {', '.join(str(c) for c in candidates)}); "
        "pass --task-data DIR with train/dev/test files"
    )


def _binary_task(name: str, splits: dict[str, pd.DataFrame], where, max_pairs: int | None, seed: int) -> Task:
    for split in ("train", "dev", "test"):
        if split not in splits:
            raise DataError(f"{where}: no {split} file ({split}.tsv, .csv or .jsonl) for task {name}")
        labels = splits[split]["label"]
        if not set(np.unique(labels)) <= {0.0, 1.0}:
            raise DataError(f"{where}/{split}: task {name} needs binary 0/1 labels")
        if split != "train":
            check_varies(labels.to_numpy(), "auc", f"{where}/{split}")
    pool = pd.concat([splits["train"], splits["dev"], splits["test"]])  # every pair, labels unused (PAPER.md)
    pool = _dedup(pool[["sentence1", "sentence2"]], max_pairs, seed, ordered=name in ORDERED)
    return Task(
        name,
        pool,
        LabelledSet(f"{name}-dev", splits["dev"], "auc"),
        [LabelledSet(f"{name}-test", splits["test"], "auc")],
        both_orders=name not in ORDERED,
    )


def _local_splits(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for split in ("train", "dev", "test"):
        for ext in (".tsv", ".csv", ".jsonl"):
            path = folder / f"{split}{ext}"
            if path.is_file():
                df, _ = read_pairs(path, require_label=True)
                out[split] = df
                break
    return out


def _hub_splits(name: str, seed: int) -> dict[str, pd.DataFrame]:  # pragma: no cover - needs the network
    try:
        import datasets

        repo, cfg, c1, c2 = GLUE[name]
        dsd = datasets.load_dataset(repo, cfg)
    except Exception as err:
        raise DataError(
            f"task {name}: no local folder given and the hub is unreachable ({type(err).__name__}); "
            "pass --task-data DIR with train/dev/test files"
        ) from None

    def frame(ds):
        df = ds.to_pandas()
        return pd.DataFrame(
            {
                "sentence1": df[c1],
                "sentence2": df[c2],
                "label": (df["label"] == 0).astype(float) if name == "qnli" else df["label"].astype(float),
            }
        )

    train, val = frame(dsd["train"]), frame(dsd["validation"]).sample(frac=1.0, random_state=seed)
    if name == "qqp":  # the reference sizes: 10k / 1k / 10k
        return {"train": train.sample(10_000, random_state=seed), "dev": val[:1000], "test": val[1000:11_000]}
    if name == "qnli":  # the reference: 10k train, dev = the first 1,000 validation pairs, test = the rest
        val = frame(dsd["validation"])  # (label 1 = entailment)
        return {"train": train.sample(10_000, random_state=seed), "dev": val[:1000], "test": val[1000:]}
    return {"train": train, "dev": frame(dsd["validation"]), "test": frame(dsd["test"])}


def _dedup(df: pd.DataFrame, max_pairs: int | None, seed: int, ordered: bool = False) -> pd.DataFrame:
    key = df["sentence1"] + "\x00" + df["sentence2"] if ordered else tdata._pair_keys(df)
    df = df.loc[~key.duplicated()]
    if max_pairs and max_pairs < len(df):
        df = df.sample(n=max_pairs, random_state=seed)
    return df.reset_index(drop=True)
