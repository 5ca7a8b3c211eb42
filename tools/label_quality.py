"""How good each cycle's pseudo-labels are: their Spearman x 100 with the gold scores of the pool pairs
that carry one (an STS run's transductive pool holds the test and dev pairs, unlabelled).

For every cycle of each run and both labelling steps — ``label_bi`` (the bi-encoders' cosines that teach
the cross-encoder) and ``label_cross`` (the cross-encoders' scores that teach the bi-encoder) — the
Spearman with STS-B dev gold and with each of the seven test sets' gold, and their mean: where the loop
gains information and where it loses it — and each label set's mean, sd and share above 0.9 over the
whole pool (a range that narrows cycle by cycle gives the next student less to learn from). The pool's
labelled pairs that no evaluation or selection reads, STS-B train and SICK-R train, are scored too
(``train avg``): most of what the bi student learns from is pairs like these, not test pairs. Reads only
the run folder (pool.tsv, labels_*.npy) and the STS data; no model runs. A pair scored in several sets
(or twice in one) is matched by its unordered text.

    python tools/label_quality.py RUN [RUN ...] --out results/label_quality.csv
    python tools/label_quality.py RUN [RUN ...] --out results/label_quality.csv --append   # add or replace these runs
    python tools/label_quality.py runs/adapt-mpnet-teacher --mix     # + a frozen teacher's labels and mixes
    python tools/label_quality.py runs/trecqa-quick                  # a TrecQA run: ROC-AUC x 100 per split

On a TrecQA run (its pool holds the train, dev and test pairs, unlabelled) each label set is scored by
ROC-AUC x 100 against each split's 0/1 answer labels, matched by the ordered (question, sentence) text,
with the mean label of the answers and of the other sentences.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import data  # noqa: E402
from tenc.data import EVAL_SETS, _pair_keys  # noqa: E402
from tenc.runfolder import Layout, read_pool  # noqa: E402

TRAIN_SETS = ("STS-B train", "SICK-R train")


def run_name(run: Path) -> str:
    """The run's name in the table: its folder's, with the folder above for a ``--seeds`` member
    (``runs/main-cosent-rank/seed-0`` is ``main-cosent-rank/seed-0``, not a bare ``seed-0``)."""
    return f"{run.parent.name}/{run.name}" if re.fullmatch(r"seed-\d+", run.name) and run.parent.name else run.name


def write(table: pd.DataFrame, out: Path, append: bool) -> None:
    """Write ``table`` to ``out``; with ``append``, into the rows already there: a run scored again replaces its
    earlier rows, other runs keep theirs (columns are the union, in the file's order first)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if append and out.is_file():
        kept = pd.read_csv(out)
        kept = kept[~kept["run"].isin(set(table["run"]))]
        table = pd.concat([kept, table], ignore_index=True)
    table.to_csv(out, index=False)


def train_sets(sts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The labelled pool pairs that no evaluation or selection reads: STS-B's and SICK-R's train splits."""
    scored = sts[sts["score"].notna() & (sts["split"] == "train")]
    by_name = {name: scored[scored["dataset"] == name.removesuffix(" train")] for name in TRAIN_SETS}
    return {name: frame.reset_index(drop=True) for name, frame in by_name.items()}


def quality(run: Path, sts: pd.DataFrame, mix: bool = False) -> list[dict]:
    """One row per labelling step and cycle of ``run`` (a ``label_history=mean`` run: also ``label_bi mean 1-k``
    and ``label_cross mean 1-k``, the averaged labels its students learned); with ``mix``, also its frozen
    teachers' cosines (cycle 0, ``teachers``) and each cycle's cross labels averaged with them as
    ``teachers_teach=both`` would (``label_cross+teachers``: each teacher clipped to [0, 1] and weighted as one
    member)."""
    pool = read_pool(run)
    index = pd.Series(np.arange(len(pool)), index=_pair_keys(pool))
    index = index[~index.index.duplicated()]
    gold = {"STS-B dev": data.dev_set(sts), **data.eval_sets(sts), **train_sets(sts)}
    found_labels = []
    layout = Layout(run)
    teachers_path = layout.labels(0, "teachers")
    teachers = np.load(teachers_path).reshape(len(pool), -1).T if mix and teachers_path.is_file() else None
    if teachers is not None:
        found_labels.append((0, "teachers", teachers.mean(axis=0)))
    history = {}  # a label_history=mean run: its students of cycle k learned the mean of cycles 1..k
    averaged = (
        json.loads(layout.config.read_text()).get("label_history") == "mean" if layout.config.is_file() else False
    )
    for cycle in layout.cycles():
        for stage in ("label_bi", "label_cross"):
            path = layout.labels(cycle, stage.removeprefix("label_"))
            if path.is_file():
                labels = np.load(path)
                found_labels.append((cycle, stage, labels))
                history.setdefault(stage, []).append(labels)
                if averaged and len(history[stage]) > 1:
                    found_labels.append((cycle, f"{stage} mean 1-{cycle}", np.mean(history[stage], axis=0)))
                if stage == "label_cross" and teachers is not None:
                    members = [labels] + list(np.clip(teachers, 0, 1))
                    found_labels.append((cycle, "label_cross+teachers", np.mean(members, axis=0)))
    rows = []
    for cycle, stage, labels in found_labels:
        row = {"run": run_name(run), "cycle": cycle, "labels": stage}
        for name, frame in gold.items():
            where = index.reindex(_pair_keys(frame))
            found = where.notna().to_numpy()
            if found.sum() < 10:
                row[name] = None
                continue
            row[name] = round(100 * spearmanr(labels[where[found].astype(int)], frame["score"][found]).statistic, 2)
            row[f"{name} pairs"] = int(found.sum())
        tests = [row[n] for n in EVAL_SETS if row.get(n) is not None]
        row["test avg"] = round(float(np.mean(tests)), 2) if len(tests) == len(EVAL_SETS) else None
        train = [row[n] for n in TRAIN_SETS if row.get(n) is not None]
        row["train avg"] = round(float(np.mean(train)), 2) if len(train) == len(TRAIN_SETS) else None
        # the labels' own spread over the whole pool: a range that shrinks cycle by cycle is a weaker signal
        row |= {
            "mean": round(float(labels.mean()), 3),
            "sd": round(float(labels.std()), 3),
            "share above 0.9": round(float((labels > 0.9).mean()), 3),
        }
        rows.append(row)
    return rows


def quality_binary(run: Path) -> list[dict]:
    """One row per labelling step and cycle of a TrecQA ``run``: ROC-AUC x 100 of its labels against each
    split's answer labels, and the mean label of answers and non-answers over the pool."""
    from tenc import tasks
    from tenc.evaluation import roc_auc

    config = json.loads((run / "config.json").read_text())
    task = tasks.trecqa_task(config.get("task_data") or None)
    pool = read_pool(run)
    key = pool["sentence1"] + "\x00" + pool["sentence2"]
    index = pd.Series(np.arange(len(pool)), index=key)
    index = index[~index.index.duplicated()]
    train = pd.read_csv(
        tasks.binary_dir("trecqa", config.get("task_data") or None) / "train.csv", keep_default_na=False
    )
    train = pd.DataFrame({"sentence1": train["qtext"], "sentence2": train["atext"], "label": train["label"]})
    splits = {"train": train, "dev": task.dev.frame, "test": task.tests[0].frame}
    layout, rows = Layout(run), []
    for cycle in layout.cycles():
        for stage in ("label_bi", "label_cross"):
            path = layout.labels(cycle, stage.removeprefix("label_"))
            if not path.is_file():
                continue
            labels = np.load(path)
            row = {"run": run_name(run), "cycle": cycle, "labels": stage}
            for name, frame in splits.items():
                where = index.reindex(frame["sentence1"] + "\x00" + frame["sentence2"])
                found = where.notna().to_numpy()
                got, gold = labels[where[found].astype(int)], frame["label"].to_numpy()[found]
                row[f"{name} auc"] = round(roc_auc(got, gold), 2)  # x 100 already
                row[f"{name} answers mean"] = round(float(got[gold == 1].mean()), 3)
                row[f"{name} others mean"] = round(float(got[gold == 0].mean()), 3)
                row[f"{name} pairs"] = int(found.sum())
            row |= {"mean": round(float(labels.mean()), 3), "sd": round(float(labels.std()), 3)}
            rows.append(row)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="STS or TrecQA run folders")
    p.add_argument("--data", help="STS data folder (default resolution otherwise)")
    p.add_argument("--out", help="write the table here (CSV)")
    p.add_argument(
        "--append", action="store_true", help="with --out: keep the file's other runs, replace these runs' rows"
    )
    p.add_argument(
        "--mix",
        action="store_true",
        help="also the frozen teachers' cosines and each cycle's cross "
        "labels averaged with them (what teachers_teach=both trains the bi student on)",
    )
    args = p.parse_args()
    if args.append and not args.out:
        p.error("--append adds to the file --out names: give --out")
    sts = data.load_sts(args.data)
    rows, binary = [], []
    for run in map(Path, args.runs):
        config = json.loads((run / "config.json").read_text()) if (run / "config.json").is_file() else {}
        if config.get("task", "sts") == "trecqa":
            binary += quality_binary(run)
        elif config.get("task", "sts") != "sts":
            print(f"{run}: neither an STS nor a TrecQA run, skipped")
        else:
            rows += quality(run, sts, args.mix)
    if binary:  # TrecQA runs: their own table (one CSV per kind of run)
        table = pd.DataFrame(binary)
        with pd.option_context("display.width", 220, "display.max_columns", 20):
            print(table.to_string(index=False))
        if args.out and not rows:
            write(table, Path(args.out), args.append)
    if not rows:
        if not binary:
            print("no pseudo-labels found")
        return 0 if binary else 1
    df = pd.DataFrame(rows)
    shown = ["run", "cycle", "labels", "STS-B dev", *EVAL_SETS, "test avg", *TRAIN_SETS, "train avg"]
    shown += [c for c in ("mean", "sd", "share above 0.9") if c in df]
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(df[shown].to_string(index=False))
    if args.out:
        write(df, Path(args.out), args.append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
