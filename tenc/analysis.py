"""Research questions answered from the committed CSVs (no model runs): each function returns the table a
notebook draws and a claim quotes.

| function             | question                                                                   |
|----------------------|----------------------------------------------------------------------------|
| `selection_picks`    | per run and encoder type: the cycle dev picked, the last cycle, the test oracle |
| `selection_summary`  | how often dev and the last cycle hit the test oracle, and what missing it costs |
| `selection_tolerance`| what a dev tolerance (`min_delta`: keep the earlier cycle unless dev gains more) would change |
| `pool_gold`          | the gold score of the pool pairs that are scored test pairs (transductive pools) |
| `label_spearman`     | how good a set of pseudo-labels is against that gold                        |
| `noise_comparisons`  | every pair of seed groups: is the difference of their means beyond noise?   |
| `paired_seeds`       | recipe B against recipe A seed by seed (same seed: same pool sample, same order) |
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd


def selection_picks(cycles: str | Path | pd.DataFrame) -> pd.DataFrame:
    """One row per (run, kind) of results/cycles.csv with two or more trained cycles (the reported member):
    the cycle the run's dev rule picked, the last cycle and the test oracle (the best 7-set average), with
    each pick's average."""
    df = pd.read_csv(cycles) if not isinstance(cycles, pd.DataFrame) else cycles
    df = df[(df["cycle"] > 0) & df["member"].isin(["model", "ensemble"])]
    rows = []
    for (run, kind), sub in df.groupby(["run", "kind"], sort=False):
        member = "ensemble" if (sub["member"] == "ensemble").any() else "model"
        sub = sub[sub["member"] == member].sort_values("cycle")
        if len(sub) < 2:
            continue
        picked = sub[sub["selected"].astype(str) == "True"]
        oracle = sub.loc[sub["avg"].idxmax()]
        dev = picked.iloc[0] if len(picked) else None
        last = sub.iloc[-1]
        rows.append(
            {
                "run": run,
                "kind": kind,
                "cycles": len(sub),
                "dev_cycle": None if dev is None else int(dev["cycle"]),
                "dev_avg": None if dev is None else float(dev["avg"]),
                "last_cycle": int(last["cycle"]),
                "last_avg": float(last["avg"]),
                "oracle_cycle": int(oracle["cycle"]),
                "oracle_avg": float(oracle["avg"]),
            }
        )
    return pd.DataFrame(rows)


def selection_summary(cycles: str | Path | pd.DataFrame) -> dict:
    """How many picks there are, how often dev and the last cycle hit the test oracle, and the mean 7-set
    average lost to the oracle by each rule."""
    picks = selection_picks(cycles).dropna(subset=["dev_cycle"])
    return {
        "picks": len(picks),
        "runs": picks["run"].nunique(),
        "dev_hits_oracle": int((picks["dev_cycle"] == picks["oracle_cycle"]).sum()),
        "last_hits_oracle": int((picks["last_cycle"] == picks["oracle_cycle"]).sum()),
        "dev_mean_loss": round(float((picks["oracle_avg"] - picks["dev_avg"]).mean()), 2),
        "last_mean_loss": round(float((picks["oracle_avg"] - picks["last_avg"]).mean()), 2),
    }


def selection_tolerance(cycles: str | Path | pd.DataFrame, deltas=(0.0, 0.01, 0.05, 0.1, 0.2, 0.5)) -> pd.DataFrame:
    """One row per tolerance: every (run, kind, member) of results/cycles.csv with two or more trained cycles
    that have a dev score, picked by `tenc.selection.pick` with that ``min_delta``; how many picks move off
    the plain dev pick (delta 0), what moving costs or gains on the 7-set average, and the mean loss to the test
    oracle."""
    from . import selection

    df = pd.read_csv(cycles) if not isinstance(cycles, pd.DataFrame) else cycles
    df = df[(df["cycle"] > 0) & df["dev"].notna()]
    groups = []  # per (run, kind, member): its rows for `selection.pick`, each cycle's average, the plain pick
    for (_run, kind, member), sub in df.groupby(["run", "kind", "member"], sort=False):
        if len(sub) < 2:
            continue
        rows = [{"cycle": int(r.cycle), "kind": kind, "member": member, "dev": float(r.dev)} for r in sub.itertuples()]
        avg = dict(zip(sub["cycle"].astype(int), sub["avg"].astype(float), strict=True))
        groups.append((rows, kind, member, avg, selection.pick(rows, kind, member, "dev")))
    out = []
    for delta in deltas:
        moved, change, loss = 0, 0.0, 0.0
        for rows, kind, member, avg, plain in groups:
            tolerant = selection.pick(rows, kind, member, "dev", min_delta=delta)
            moved += plain != tolerant
            change += avg[tolerant] - avg[plain]
            loss += max(avg.values()) - avg[tolerant]
        out.append(
            {
                "min_delta": delta,
                "picks": len(groups),
                "moved": moved,
                "avg_change_sum": round(change, 2),
                "mean_loss_to_oracle": round(loss / max(len(groups), 1), 3),
            }
        )
    return pd.DataFrame(out)


def pool_gold(pool: pd.DataFrame, pairs: pd.DataFrame) -> pd.Series:
    """The gold score of each pool pair that is a scored test pair of the seven sets (NaN for the others),
    matched on the unordered pair: on a transductive pool it says how good a label set is, on a disjoint one
    nothing (no test pair is there)."""
    from .data import _pair_keys, eval_sets

    tests = pd.concat(list(eval_sets(pairs).values()))
    gold = tests.assign(key=_pair_keys(tests)).groupby("key")["score"].mean()
    return _pair_keys(pool.reset_index(drop=True)).map(gold)


def label_spearman(labels: dict[str, np.ndarray], gold: pd.Series) -> dict[str, float]:
    """Spearman x 100 of each label set against gold, over the pool pairs that have gold."""
    from scipy.stats import spearmanr

    has = gold.notna().to_numpy()
    if has.sum() < 3:
        return {}
    return {name: round(float(spearmanr(values[has], gold[has]).statistic * 100), 2) for name, values in labels.items()}


def label_quality(path: str | Path) -> pd.DataFrame:
    """results/label_quality.csv in the shape the question asks: one row per run and cycle with the test
    average of the labels the cross student learns (``label_bi``) and the labels the bi student learns
    (``label_cross``), and what the cross-encoder added over its own labels (cross labels minus bi labels)."""
    df = pd.read_csv(path)
    df = df[df["labels"].isin(["label_bi", "label_cross"])]
    wide = df.pivot_table(index=["run", "cycle"], columns="labels", values="test avg", aggfunc="first")
    wide = wide.dropna().reset_index()
    wide["cross_over_bi_labels"] = (wide["label_cross"] - wide["label_bi"]).round(2)
    return wide


def noise_comparisons(groups: pd.DataFrame, sd: float, sds: float = 2.0) -> pd.DataFrame:
    """Every pair of seed groups at the same kind, stage and pool, from the same start where both recorded one
    (a recipe on another track is no comparison): the difference of their means against ``sds`` times the pooled
    sd (``beyond_noise``), the evidence behind "X beats Y" claims."""
    rows = []
    for (kind, stage, _), sub in groups.groupby(["kind", "stage", "pool"]):
        sub = sub.reset_index(drop=True)
        for i in range(len(sub)):
            for j in range(i + 1, len(sub)):
                a, b = sub.loc[i], sub.loc[j]
                if abs(float(a["start"]) - float(b["start"])) > 0.05:  # False where either start is NaN
                    continue
                diff = float(b["mean"] - a["mean"])
                rows.append(
                    {
                        "kind": kind,
                        "stage": stage,
                        "a": a["group"],
                        "b": b["group"],
                        "b_minus_a": round(diff, 2),
                        "n": f"{int(a['n'])} vs {int(b['n'])}",
                        "beyond_noise": abs(diff) > sds * sd,
                    }
                )
    return pd.DataFrame(rows)


def paired_seeds(board: str | Path | pd.DataFrame, a: str, b: str, sds: float = 2.0) -> pd.DataFrame:
    """Recipe ``b`` against recipe ``a`` on the seeds both ran (recipes as `tenc.scoreboard.recipe_name` names
    them), per kind and trained stage: each side's mean and sd, the per-seed differences b - a, their mean and sd,
    the paired t-test's p, and ``beyond_noise``: the mean difference exceeds ``sds`` standard errors of the
    paired differences and every seed moves the same way. A seed's rows share its pool sample, data order and
    initial weights, so the pairing removes what the two recipes have in common; with 3 seeds the test is weak,
    and a difference seen on one seed only is left out (n counts the shared seeds). The newest row wins where a
    seed was scored twice."""
    from scipy.stats import ttest_rel

    from tenc.scoreboard import seeded_cycles

    df = seeded_cycles(board)
    missing = [name for name in (a, b) if name not in set(df["recipe"])]
    if missing:
        raise ValueError(f"no trained rows of recipe {missing[0]!r} on the scoreboard (recipes drop 'seed N')")
    df = df[df["recipe"].isin([a, b])].drop_duplicates(["recipe", "kind", "stage", "seed"], keep="last")
    wide = df.pivot(index=["kind", "stage", "seed"], columns="recipe", values="avg").dropna()
    rows = []
    for (kind, stage), sub in wide.groupby(level=["kind", "stage"]):
        if len(sub) < 2:
            continue
        diff = sub[b] - sub[a]
        se = float(diff.std() / np.sqrt(len(diff)))
        same_way = bool((diff > 0).all() or (diff < 0).all())
        rows.append(
            {
                "kind": kind,
                "stage": stage,
                "n": len(sub),
                "a_mean": round(float(sub[a].mean()), 2),
                "a_sd": round(float(sub[a].std()), 2),
                "b_mean": round(float(sub[b].mean()), 2),
                "b_sd": round(float(sub[b].std()), 2),
                "diffs": " ".join(f"{d:+.2f}" for d in diff),
                "mean_diff": round(float(diff.mean()), 2),
                "sd_diff": round(float(diff.std()), 2),
                # equal differences: certain when they are not zero, no difference at all when they are
                "p": float(ttest_rel(sub[b], sub[a]).pvalue) if se > 0 else (1.0 if (diff == 0).all() else 0.0),
                "beyond_noise": same_way and abs(float(diff.mean())) > sds * se,
            }
        )
    return pd.DataFrame(rows)


def paired_changes(
    board: str | Path | pd.DataFrame, a: str, pattern: str, sds: float = 2.0, prefix: bool = True
) -> pd.DataFrame:
    """`paired_seeds` for every change to recipe ``a``: each other recipe whose name starts with ``a``'s and
    matches ``pattern`` (a regular expression) against ``a``, one block per change, named in ``change``. With
    ``prefix=False`` every other recipe that matches ``pattern`` is compared, whatever its name starts with
    (alternatives to ``a`` rather than changes of it)."""
    from tenc.scoreboard import read_board, seeded_cycles

    board = board if hasattr(board, "columns") else read_board(board)  # read once, not once per change
    recipes = set(seeded_cycles(board)["recipe"])
    changes = sorted(r for r in recipes if r != a and (r.startswith(a) or not prefix) and re.search(pattern, r))
    if not changes:
        start = f"starting with {a!r} " if prefix else ""
        raise ValueError(f"no recipe {start}matches {pattern!r} on the scoreboard (recipes drop 'seed N')")
    return pd.concat([paired_seeds(board, a, b, sds).assign(change=b) for b in changes], ignore_index=True)


def paired_versus(board: str | Path | pd.DataFrame, spec: str, sds: float = 2.0) -> pd.DataFrame:
    """`paired_seeds` for recipes that are not a change of one another's name: ``spec`` lists ``"b vs a"``
    comparisons separated by ``;`` (e.g. ``"main job, rank targets vs main job, minmax targets"``), each block
    named in ``change`` (b) and ``against`` (a). An empty spec gives an empty frame."""
    from tenc.scoreboard import read_board

    pairs = [[name.strip() for name in part.split(" vs ")] for part in spec.split(";") if part.strip()]
    bad = [" vs ".join(p) for p in pairs if len(p) != 2]
    if bad:
        raise ValueError(f"comparison {bad[0]!r} is not 'recipe b vs recipe a'")
    if not pairs:
        return pd.DataFrame()
    board = board if hasattr(board, "columns") else read_board(board)
    return pd.concat([paired_seeds(board, a, b, sds).assign(change=b, against=a) for b, a in pairs], ignore_index=True)
