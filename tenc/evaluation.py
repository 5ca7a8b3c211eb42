"""STS / SICK-R evaluation in the "all" setting (PAPER.md), plus wmean, Pearson and ROC-AUC.

| function       | scores pairs with                                                                       |
|----------------|-----------------------------------------------------------------------------------------|
| `score_pairs`  | a bi-encoder (cosine), a cross-encoder (sigmoid of (s1, s2); opt-in: both orders), mean |
| `evaluate`     | all seven sets at once, each unique sentence embedded once                              |
| `spearman_all` | one Spearman x 100 per set, subsets concatenated ("all")                                |

`evaluate` returns a tidy DataFrame (one row per set: spearman, pearson, wmean, n) and a flat
``dict[str, float]`` with name-prefixed keys (``sts_STS12_spearman`` …) whose primary metric is
``sts_avg_spearman``.

Cross-encoders are scored as the paper and sentence-transformers' ``CrossEncoderCorrelationEvaluator``
score them: one order, (s1, s2) as the pair is stored (``cross_orders="one"``, protocol "one-order").
``cross_orders="both"`` averages (s1, s2) and (s2, s1): a two-view test-time ensemble, protocol
"two-order mean", which every row scored that way must name (`protocol`).

Example::

    from tenc import data, evaluation, models
    pairs = data.load_sts()
    table, metrics = evaluation.evaluate([models.bi_encoder("minilm-l6")], "bi", pairs)
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from . import cpu, encode
from .data import EVAL_SETS, dev_set, eval_sets

KINDS = ("bi", "cross")
CROSS_ORDERS = {"one": "one-order", "both": "two-order mean"}  # cross_orders -> the protocol's name


def protocol(kind: str, cross_orders: str = "one") -> str:
    """The scoring protocol a results row names: "cosine" (bi), "one-order" or "two-order mean" (cross)."""
    return "cosine" if kind == "bi" else CROSS_ORDERS[cross_orders]


def score_pairs(
    members: list,
    kind: str,
    s1: list[str],
    s2: list[str],
    progress: bool = False,
    max_length: int | None = None,
    cross_orders: str = "one",
) -> np.ndarray:
    """Model scores for pairs: cosine (bi) or sigmoid (cross, of (s1, s2), or with ``cross_orders="both"``
    the mean over both orders); several members are averaged."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use 'bi' or 'cross'")
    if cross_orders not in CROSS_ORDERS:
        raise ValueError(f"cross_orders must be 'one' or 'both', got {cross_orders!r}")
    if not isinstance(members, (list, tuple)):
        members = [members]
    scores = []
    for m in members:
        if kind == "bi":
            scores.append(encode.pair_cosines(m, s1, s2, max_length=max_length, progress=progress))
        else:
            scores.append(
                encode.cross_scores(
                    m, s1, s2, both_orders=cross_orders == "both", max_length=max_length, progress=progress
                )
            )
    return np.mean(scores, axis=0)


def spearman(pred, gold) -> float:
    return float(spearmanr(pred, gold).statistic * 100)


def roc_auc(pred, labels) -> float:
    """ROC-AUC x 100 by the rank-sum formula (ties get average ranks)."""
    from scipy.stats import rankdata

    labels = np.asarray(labels)
    if not set(np.unique(labels)) <= {0, 1}:
        raise ValueError("ROC-AUC needs binary 0/1 labels")
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC-AUC needs both classes")
    ranks = rankdata(pred)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg) * 100)


def table_from_predictions(preds: pd.DataFrame) -> pd.DataFrame:
    """Per-set metrics from a predictions frame (dataset, subset, score, pred)."""
    rows = []
    for name in [n for n in EVAL_SETS if n in set(preds["dataset"])]:
        df = preds[preds["dataset"] == name]
        w, wsum = 0.0, 0
        for _, sub in df.groupby("subset"):
            if len(sub) > 1:
                w += spearman(sub["pred"], sub["score"]) * len(sub)
                wsum += len(sub)
        rows.append(
            {
                "set": name,
                "spearman": spearman(df["pred"], df["score"]),
                "pearson": float(pearsonr(df["pred"], df["score"]).statistic * 100),
                "wmean": w / wsum if wsum else float("nan"),
                "n": len(df),
            }
        )
    table = pd.DataFrame(rows)
    if len(table) == len(EVAL_SETS):
        avg = {
            "set": "avg",
            "spearman": table["spearman"].mean(),
            "pearson": table["pearson"].mean(),
            "wmean": table["wmean"].mean(),
            "n": int(table["n"].sum()),
        }
        table = pd.concat([table, pd.DataFrame([avg])], ignore_index=True)
    return table


def predict(
    members,
    kind: str,
    pairs: pd.DataFrame,
    sets: tuple[str, ...] = EVAL_SETS,
    progress: bool = False,
    cross_orders: str = "one",
) -> pd.DataFrame:
    """Scores for every scored test pair of ``sets`` (one call, each unique sentence embedded once)."""
    ev = eval_sets(pairs)
    df = pd.concat([ev[n] for n in sets], ignore_index=True)
    df["pred"] = score_pairs(
        members, kind, df["sentence1"].tolist(), df["sentence2"].tolist(), progress, cross_orders=cross_orders
    )
    return df


def evaluate(
    members, kind: str, pairs: pd.DataFrame, progress: bool = False, prefix: str = "sts", cross_orders: str = "one"
) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame]:
    """Evaluate on the seven sets: (table, flat metrics, predictions)."""
    preds = predict(members, kind, pairs, progress=progress, cross_orders=cross_orders)
    table = table_from_predictions(preds)
    return table, flatten(table, prefix), preds


def dev_spearman(members, kind: str, pairs: pd.DataFrame, cross_orders: str = "one") -> float:
    """STS-B dev Spearman x 100, the paper's selection metric."""
    dev = dev_set(pairs)
    pred = score_pairs(members, kind, dev["sentence1"].tolist(), dev["sentence2"].tolist(), cross_orders=cross_orders)
    return spearman(pred, dev["score"])


def flatten(table: pd.DataFrame, prefix: str = "sts") -> dict[str, float]:
    out = {}
    for _, row in table.iterrows():
        for col in ("spearman", "pearson", "wmean"):
            out[f"{prefix}_{row['set']}_{col}"] = round(float(row[col]), 4)
    return out


def paper_row(table: pd.DataFrame) -> dict[str, float]:
    """{STS12: …, …, SICK-R: …, avg: …} Spearman x 100, rounded to 2 decimals."""
    return {row["set"]: round(float(row["spearman"]), 2) for _, row in table.iterrows()}


def provenance(**protocol) -> dict:
    """What a metrics.json must say about how its numbers were made: library versions, the git commit of
    tenc, and the scoring protocol (``protocol`` keyword arguments, e.g. ``cross="one-order"``)."""
    import sentence_transformers
    import torch
    import transformers

    return {
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__,
        },
        "commit": _commit(),
        "cpu": {"vendor": cpu.vendor(), "gemm_path": cpu.gemm_path()},
        "protocol": {"bi": "cosine", **protocol},
    }


@functools.lru_cache(maxsize=1)
def _commit() -> str:
    """The git commit of the tenc code this process loaded (one lookup a process)."""
    import subprocess

    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_metrics(path: str | Path, metrics: dict, params: dict | None = None, **protocol) -> None:
    """metrics.json: the numbers, the parameters that produced them and their `provenance` (atomically)."""
    from .io import atomic_write_text

    doc = {"metrics": metrics, "params": params or {}, **provenance(**protocol)}
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True, default=str))


def labelled_metric(members, kind: str, labelled, cross_orders: str = "one") -> float:
    """Spearman x 100 (graded labels) or ROC-AUC x 100 (binary labels) of a ``tasks.LabelledSet``."""
    df = labelled.frame
    pred = score_pairs(members, kind, df["sentence1"].tolist(), df["sentence2"].tolist(), cross_orders=cross_orders)
    return metric_of(labelled, pred)


def metric_of(labelled, pred: np.ndarray) -> float:
    """The set's own metric of given scores: Spearman x 100 or ROC-AUC x 100."""
    gold = labelled.frame["label"].to_numpy()
    return spearman(pred, gold) if labelled.metric == "spearman" else roc_auc(pred, gold)


def score_sets(
    models_: list, kind: str, dev, tests: list, sts: bool, cross_orders: str = "one", progress: bool = False
) -> tuple[dict, dict]:
    """Dev and test metrics of each model and, for several, of their ensemble (mean score): each model
    scores every pair once. ``dev`` and ``tests`` are `tenc.tasks.LabelledSet`s; ``sts`` gives the seven
    sets the paper's row (and their mean). Returns ``(results, predictions)``: ``{"model" | "m0", …,
    "ensemble": {"dev": …, "test": {…}}}`` and, for STS, each group's predictions frame."""
    sets = ([dev] if dev is not None else []) + list(tests)
    names = [f"m{m}" if len(models_) > 1 else "model" for m in range(len(models_))]
    if not sets:  # a custom corpus with neither dev nor test files: nothing to score
        return {n: {"dev": None} for n in names}, {}
    frame = pd.concat([s.frame for s in sets], ignore_index=True)
    bounds = np.cumsum([0] + [len(s) for s in sets])
    scores = [
        score_pairs(
            [m],
            kind,
            frame["sentence1"].tolist(),
            frame["sentence2"].tolist(),
            progress=progress,
            cross_orders=cross_orders,
        )
        for m in models_
    ]
    groups = [(n, [i]) for i, n in enumerate(names)] + (
        [("ensemble", list(range(len(models_))))] if len(models_) > 1 else []
    )
    results, predictions = {}, {}
    for name, idx in groups:
        pred = np.mean([scores[i] for i in idx], axis=0)
        per_set = [(s, pred[lo:hi]) for s, lo, hi in zip(sets, bounds[:-1], bounds[1:])]
        entry = {"dev": None}
        if dev is not None:  # the dev set comes first
            entry["dev"] = round(metric_of(*per_set.pop(0)), 4)
        if per_set and sts:
            preds = pd.concat([s.frame.assign(pred=p) for s, p in per_set], ignore_index=True)
            preds = preds.rename(columns={"label": "score"})
            entry["test"] = paper_row(table_from_predictions(preds))
            predictions[name] = preds[["dataset", "subset", "sentence1", "sentence2", "score", "pred"]]
        elif per_set:
            entry["test"] = {s.name: round(metric_of(s, p), 2) for s, p in per_set}
        results[name] = entry
    return results, predictions
