"""How a run's students are graded: dev checks inside a training stage, each cycle's evaluation stage (dev and
test metrics of every member and their ensemble, with per-pair predictions kept), and the label-free agreement
between a cycle's cross scores and bi cosines (the `agreement` selection rule)."""

from __future__ import annotations

import time

import numpy as np
from scipy.stats import spearmanr

from . import encode, evaluation, selection
from .config import DistillConfig
from .io import read_marker, write_marker
from .labelling import Labels
from .runfolder import Layout
from .students import Students


class Grades:
    """The grading half of a `tenc.distill.Run` (one per run)."""

    def __init__(
        self,
        *,
        layout: Layout,
        cfg: DistillConfig,
        students: Students,
        labels: Labels,
        task,
        pairs,
        cross_orders: str,
        progress: bool = True,
        log=print,
    ):
        self.layout, self.cfg, self.students, self.labels = layout, cfg, students, labels
        self.task, self.pairs, self.cross_orders, self.progress, self.log = task, pairs, cross_orders, progress, log

    def dev_fn(self, model, kind: str, rule: str):
        """A dev check for a training stage, or None when dev checks are off or the rule does not use dev."""
        if not self.cfg.eval_steps or rule not in selection.DEV_RULES:
            return None
        return lambda: self.dev_score([model], kind)

    def dev_score(self, members, kind: str) -> float | None:
        if self.task.dev is None:
            return None
        if self.task.name == "sts":
            return evaluation.dev_spearman(members, kind, self.pairs, cross_orders=self.cross_orders)
        return evaluation.labelled_metric(members, kind, self.task.dev, cross_orders=self.cross_orders)

    def evaluate(self, cycle: int, kind: str) -> dict:
        """The stage ``eval_<kind>`` of ``cycle``: dev (+ test) metrics of every member and their ensemble."""
        folder, stage = self.layout.cycle(cycle), f"eval_{kind}"
        marker = read_marker(folder, stage)
        if marker is not None:
            return marker
        t = time.perf_counter()
        folder.mkdir(parents=True, exist_ok=True)
        load = lambda c, m: self.students.load(kind, c, m)
        results, predictions = evaluation.score_sets(
            [load(cycle, m) for m in range(len(self.students.members))],
            kind,
            self.task.dev,
            self.task.tests if self.cfg.evaluate_test else [],
            self.task.name == "sts",
            self.cross_orders,
            self.progress,
        )
        for name, preds in predictions.items():
            preds.to_csv(self.layout.preds(cycle, kind, name), index=False)
        info = {"kind": kind, "cycle": cycle, "results": results, "seconds": round(time.perf_counter() - t, 1)}
        write_marker(folder, stage, info)
        main = results.get("ensemble", results.get("model", next(iter(results.values()))))
        self.log(f"cycle {cycle}: {kind} dev {main['dev']}" + (f", test {main['test']}" if "test" in main else ""))
        return info

    def agreement(self, cycle: int) -> float:
        """Label-free score of a cycle: Spearman between its cross scores and its bi cosines on the pool."""
        folder = self.layout.cycle(cycle)
        marker = read_marker(folder, "agreement")
        if marker is not None:
            return marker["spearman"]
        cross = self.labels.cross(cycle)
        bi = np.mean(
            [
                encode.pair_cosines(
                    self.students.load_bi(cycle, m), self.labels.s1, self.labels.s2, max_length=self.cfg.bi_max_length
                )
                for m in range(len(self.students.members))
            ],
            axis=0,
        )
        value = float(spearmanr(cross, bi).statistic * 100)
        write_marker(folder, "agreement", {"spearman": value})
        return value
