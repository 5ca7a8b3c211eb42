"""Sentence-pair data: the seven STS evaluation sets, the unlabelled pool, custom corpora.

Everything is a tidy ``pandas.DataFrame`` with one row per pair:

| column     | meaning                                                           |
|------------|-------------------------------------------------------------------|
| dataset    | ``STS12`` … ``STS16``, ``STS-B``, ``SICK-R`` or a custom name     |
| split      | ``test`` for STS12-16, ``train``/``dev``/``test`` for STS-B, SICK |
| subset     | the source file (``MSRpar``, ``headlines`` …)                      |
| sentence1  | first sentence                                                    |
| sentence2  | second sentence                                                   |
| score      | gold score (0-5), ``NaN`` where the pair is unscored              |

Example::

    from tenc import data
    root = data.resolve_data_dir()          # explicit > $TENC_DATA > ./data/sts > ../shared/data/sts
    pairs = data.load_sts(root)             # every pair of every set, scored or not
    pool = data.build_pool(pairs)           # the transductive unlabelled pool (~37k unique pairs)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import POOL_MODES

EVAL_SETS = ("STS12", "STS13", "STS14", "STS15", "STS16", "STS-B", "SICK-R")
STS_YEARS = {
    "STS12": ("MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"),
    "STS13": ("FNWN", "headlines", "OnWN"),
    "STS14": ("deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"),
    "STS15": ("answers-forums", "answers-students", "belief", "headlines", "images"),
    "STS16": ("answer-answer", "headlines", "plagiarism", "postediting", "question-question"),
}
SPLITS = {"STS-B": ("train", "dev", "test"), "SICK-R": ("train", "dev", "test")}
COLUMNS = ["dataset", "split", "subset", "sentence1", "sentence2", "score"]
# mteb ids on the Hugging Face hub, used only when no local copy exists and the hub is reachable.
HUB_IDS = {
    "STS12": "mteb/sts12-sts",
    "STS13": "mteb/sts13-sts",
    "STS14": "mteb/sts14-sts",
    "STS15": "mteb/sts15-sts",
    "STS16": "mteb/sts16-sts",
    "STS-B": "mteb/stsbenchmark-sts",
    "SICK-R": "mteb/sickr-sts",
}
HUB = "hub"
MAX_SENTENCE_CHARS = 20_000  # a "sentence" longer than this is a broken file, not text to truncate


class DataError(ValueError):
    """Bad or missing input data; the message names the file and line."""


# ---------------------------------------------------------------------------------------------
# where the data lives


def resolve_data_dir(explicit: str | os.PathLike | None = None, allow_hub: bool = True) -> Path | str:
    """Return the STS data folder: explicit > ``$TENC_DATA`` > ``./data/sts`` > ``../shared/data/sts``.

    Falls back to the string ``"hub"`` (the mteb datasets through ``datasets``) when no local folder
    exists and ``allow_hub``; :func:`load_sts` then fails with one line naming every place tried if
    the hub is unreachable.
    """
    if explicit is not None and str(explicit) != HUB:
        path = Path(explicit).expanduser()
        if not _looks_like_sts(path):
            raise DataError(f"data directory {path} does not hold senteval/ or raw/ STS files")
        return path
    if explicit is not None:
        return HUB
    tried = []
    candidates = [os.environ.get("TENC_DATA"), "data/sts", "../shared/data/sts"]
    for cand in candidates:
        if not cand:
            continue
        path = Path(cand).expanduser().resolve()
        tried.append(str(path))
        if _looks_like_sts(path):
            return path
    if allow_hub:
        return HUB
    raise DataError("no STS data found; tried " + ", ".join(tried) + " (set $TENC_DATA or pass --data)")


def _looks_like_sts(path: Path) -> bool:
    return (path / "senteval" / "STS").is_dir() or (path / "raw" / "STS12").is_dir()


# ---------------------------------------------------------------------------------------------
# the STS / SICK-R loaders


def load_sts(root: str | os.PathLike | None = None, layout: str = "senteval") -> pd.DataFrame:
    """Load every pair of STS12-16, STS-B (3 splits) and SICK-R (3 splits) as one DataFrame.

    ``layout`` is ``senteval`` (lower-cased, Moses-tokenised text the papers evaluate on) or ``raw``
    (the official distributions). Unscored pairs are kept with ``score = NaN``.
    """
    root = resolve_data_dir(root) if root is None or str(root) != HUB else HUB
    if root == HUB:
        return _load_hub()
    root = Path(root)
    if layout not in ("senteval", "raw"):
        raise DataError(f"unknown layout {layout!r}: use 'senteval' or 'raw'")
    frames = []
    for year, subsets in STS_YEARS.items():
        for subset in subsets:
            frames.append(_read_sts_subset(root, layout, year, subset))
    frames.extend(_read_stsb(root, layout))
    frames.extend(_read_sick(root, layout))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def _read_sts_subset(root: Path, layout: str, year: str, subset: str) -> pd.DataFrame:
    if layout == "senteval":
        folder = root / "senteval" / "STS" / f"{year}-en-test"
        prefix = "STS"
    else:
        folder = root / "raw" / year
        prefix = "STS2016" if year == "STS16" else "STS"
    inp = folder / f"{prefix}.input.{subset}.txt"
    gs = folder / f"{prefix}.gs.{subset}.txt"
    lines = read_lines(inp)
    gold = read_lines(gs)
    if len(gold) != len(lines):
        raise DataError(f"{gs}: {len(gold)} gold lines for {len(lines)} input lines in {inp}")
    rows = []
    for i, (line, g) in enumerate(zip(lines, gold), start=1):
        cols = line.split("\t")
        if len(cols) < 2:  # raw STS16 has 4 columns (two sources); the first two are the pair
            raise DataError(f"{inp}:{i}: expected sentence1<TAB>sentence2, got {len(cols)} column(s)")
        rows.append((year, "test", subset, cols[0].strip(), cols[1].strip(), _parse_score(g, gs, i)))
    return pd.DataFrame(rows, columns=COLUMNS)


def _read_stsb(root: Path, layout: str) -> list[pd.DataFrame]:
    folder = root / ("senteval/STS/STSBenchmark" if layout == "senteval" else "raw/STSBenchmark")
    frames = []
    for split, fname in (("train", "sts-train.csv"), ("dev", "sts-dev.csv"), ("test", "sts-test.csv")):
        path = folder / fname
        rows = []
        for i, line in enumerate(read_lines(path), start=1):
            cols = line.split("\t")  # quotes are literal: never use the csv module here
            if len(cols) < 7:
                raise DataError(f"{path}:{i}: expected 7 tab-separated columns, got {len(cols)}")
            rows.append(("STS-B", split, cols[1], cols[5].strip(), cols[6].strip(), _parse_score(cols[4], path, i)))
        frames.append(pd.DataFrame(rows, columns=COLUMNS))
    return frames


def _read_sick(root: Path, layout: str) -> list[pd.DataFrame]:
    folder = root / layout / "SICK"
    frames = []
    for split, fname in (("train", "SICK_train.txt"), ("dev", "SICK_trial.txt"), ("test", "SICK_test_annotated.txt")):
        path = folder / fname
        rows = []
        for i, line in enumerate(read_lines(path)[1:], start=2):  # header line
            cols = line.split("\t")
            if len(cols) < 4:
                raise DataError(
                    f"{path}:{i}: expected pair_ID, sentence_A, sentence_B, score; got {len(cols)} column(s)"
                )
            rows.append(("SICK-R", split, "SICK", cols[1].strip(), cols[2].strip(), _parse_score(cols[3], path, i)))
        frames.append(pd.DataFrame(rows, columns=COLUMNS))
    return frames


def iter_lines(path: Path):
    """The lines of a UTF-8 text file one at a time (split on \\n only, a trailing \\r dropped; a leading
    BOM skipped), so a large file is never held whole; a byte that is not UTF-8 is a `DataError` naming
    its line."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with open(path, "rb") as f:
        for i, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8-sig" if i == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise DataError(f"{path}:{i}: not valid UTF-8 ({err.reason})") from None
            yield line.removesuffix("\n").rstrip("\r")


def read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 ({err.reason})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.rstrip("\r") for ln in lines]


def _parse_score(text: str, path, line: int) -> float:
    text = text.strip()
    if not text:
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}:{line}: gold score {text!r} is not a number") from None
    if not np.isfinite(value) or not 0.0 <= value <= 5.0:
        raise DataError(f"{path}:{line}: gold score {value} outside [0, 5]")
    return value


def _load_hub() -> pd.DataFrame:
    tried = [
        os.environ.get("TENC_DATA") or "$TENC_DATA (unset)",
        str(Path("data/sts").resolve()),
        str(Path("../shared/data/sts").resolve()),
        "the Hugging Face hub (mteb/*-sts)",
    ]
    try:
        import datasets

        print(
            "tenc: STS data from the hub (mteb/*-sts); SICK-R there is MTEB's test set, all 9,927 SICK pairs, "
            "not SICK's 4,927-pair test split the local copy scores: SICK-R numbers differ between the two",
            file=sys.stderr,
        )
        frames = []
        for name, hub_id in HUB_IDS.items():
            dsd = datasets.load_dataset(hub_id)
            for hub_split, ds in dsd.items():
                split = {"validation": "dev"}.get(hub_split, hub_split)
                df = ds.to_pandas()
                frames.append(
                    pd.DataFrame(
                        {
                            "dataset": name,
                            "split": split,
                            "subset": name,
                            "sentence1": df["sentence1"],
                            "sentence2": df["sentence2"],
                            "score": df["score"].astype(float),
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)[COLUMNS]
    except Exception as err:  # offline: say where we looked, in one line
        raise DataError("no STS data found; tried " + ", ".join(tried) + f" ({type(err).__name__})") from None


# ---------------------------------------------------------------------------------------------
# evaluation sets and the unlabelled pool


def eval_sets(pairs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The seven test sets of the "all" setting (scored pairs only), in the paper's order."""
    scored = pairs[pairs["score"].notna()]
    out = {}
    for name in EVAL_SETS:
        sel = scored[(scored["dataset"] == name) & (scored["split"] == "test")]
        if name == "SICK-R" and sel.empty:  # the hub ships SICK-R as one "test" split
            sel = scored[scored["dataset"] == name]
        out[name] = sel.reset_index(drop=True)
    return out


def dev_set(pairs: pd.DataFrame) -> pd.DataFrame:
    """STS-B dev (scored), the paper's model-selection set."""
    sel = pairs[(pairs["dataset"] == "STS-B") & (pairs["split"] == "dev") & pairs["score"].notna()]
    return sel.reset_index(drop=True)


@dataclass(frozen=True)
class Pool:
    """Unlabelled sentence pairs: ``pairs`` (sentence1, sentence2) and how the pool was made."""

    pairs: pd.DataFrame
    mode: str
    n_before_dedup: int

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def sentences(self) -> list[str]:
        """Unique sentences of both sides, in first-seen order."""
        return list(dict.fromkeys(self.pairs["sentence1"].tolist() + self.pairs["sentence2"].tolist()))

    def __repr__(self) -> str:
        return f"Pool({len(self)} unique pairs, {len(self.sentences)} sentences, mode={self.mode})"


def build_pool(pairs: pd.DataFrame, mode: str = "transductive", max_pairs: int | None = None, seed: int = 0) -> Pool:
    """The unlabelled training pool, de-duplicated on the unordered pair.

    ``transductive`` (the paper): every pair of STS12-16, STS-B (all splits) and SICK (all splits),
    scored or not; no label is used. ``inductive``: the same minus every scored pair of the seven
    test sets and of STS-B dev, so no evaluation or selection pair is ever seen in training (the
    unscored STS15/16 pairs stay: nothing is measured on them). ``disjoint``: the inductive pool
    minus every pair that holds any sentence of the seven test sets, so no test sentence is seen.
    ``max_pairs`` subsamples (seeded) after de-duplication.
    """
    if mode not in POOL_MODES:
        raise DataError(f"unknown pool mode {mode!r}: use {', '.join(repr(m) for m in POOL_MODES)}")
    df = pairs[["sentence1", "sentence2"]]
    df = df[(df["sentence1"].str.len() > 0) & (df["sentence2"].str.len() > 0)]
    n_before = len(df)
    key = _pair_keys(df)
    df = df.loc[~key.duplicated()].copy()
    if mode == "inductive":
        scored = pairs["score"].notna()
        held = pairs[
            scored & ((pairs["split"] == "test") | ((pairs["dataset"] == "STS-B") & (pairs["split"] == "dev")))
        ]
        df = df.loc[~_pair_keys(df).isin(set(_pair_keys(held)))]
    if mode == "disjoint":
        held = pd.concat(list(eval_sets(pairs).values()))
        test_sentences = set(held["sentence1"]) | set(held["sentence2"])
        dev = dev_set(pairs)
        df = df.loc[~_pair_keys(df).isin(set(_pair_keys(dev)))]
        df = df.loc[~(df["sentence1"].isin(test_sentences) | df["sentence2"].isin(test_sentences))]
    if max_pairs is not None and max_pairs < len(df):
        df = df.sample(n=max_pairs, random_state=seed)
    return Pool(df.reset_index(drop=True), mode, n_before)


def _pair_keys(df: pd.DataFrame) -> pd.Series:
    a, b = df["sentence1"], df["sentence2"]
    lo = a.where(a <= b, b)
    hi = b.where(a <= b, a)
    return lo + "\x00" + hi
