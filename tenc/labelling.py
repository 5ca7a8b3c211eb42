"""The pseudo-labels of a run: what each cycle's teachers say about every pool pair, kept as a marked stage.

| stage            | file (`runfolder.Layout.labels`)  | what                                                         |
|------------------|-----------------------------------|--------------------------------------------------------------|
| `label_teachers` | start/labels_teachers.npy         | the frozen teachers' cosines, one column per teacher          |
| `label_bi`       | cycle_k/labels_bi.npy             | mean over members' bi cosines of cycle k - 1 (and teachers)   |
| `label_cross`    | cycle_k/labels_cross.npy          | mean over members' cross scores of cycle k (teachers: `both`) |

BCE targets: the paper feeds raw cosines to BCE; cosines below 0 are not probabilities, so
``target_map="clip"`` (default) clips them to [0, 1] (2.4 % of the pool's pairs for the 2-layer primed
rampart), ``"minmax"`` rescales the pool's range onto [0, 1], and ``"rank"`` replaces each cosine by its
rank in the pool, spread evenly over [0, 1] (the order alone: squeezed cosines still give spread targets).

``label_history="mean"`` trains each cycle's students on the mean of their direction's labels over every
cycle so far (`Labels.targets`; the label files stay per cycle, so a run's labels are still read as above).
"""

from __future__ import annotations

import time

import numpy as np

from . import distributed as tdist
from . import encode, models
from .config import ConfigError, DistillConfig
from .io import CorruptRun, atomic_save_npy, load_npy_checked, read_marker, write_marker
from .runfolder import Layout
from .students import Students


class Labels:
    """Each cycle's pseudo-labels of one run (computed once, then read back checked against their sha256)."""

    def __init__(
        self,
        *,
        layout: Layout,
        cfg: DistillConfig,
        students: Students,
        pool,
        both_orders: bool,
        teachers: list[str],
        device: str,
        progress: bool = True,
        log=print,
    ):
        self.layout, self.cfg, self.students, self.pool = layout, cfg, students, pool
        self.both_orders, self.teacher_models, self.device = both_orders, teachers, device
        self.progress, self.log = progress, log
        self.s1, self.s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()

    def targets(self, cycle: int, kind: str) -> np.ndarray:
        """What ``kind``'s student of ``cycle`` learns: BCE targets from the bi labels, or the cross labels;
        with ``label_history="mean"`` the mean of that direction's labels over cycles 1..``cycle`` (a
        temporal ensemble: each cycle's teacher is averaged with the earlier ones, all read back checked)."""
        source = self.bi if kind == "cross" else self.cross
        cycles = range(1, cycle + 1) if self.cfg.label_history == "mean" else [cycle]
        found = [source(c) for c in cycles]  # each cycle's file read once
        values = found[0] if len(found) == 1 else np.mean(found, axis=0).astype(np.float32)
        return to_unit(values, self.cfg.target_map) if kind == "cross" else values

    def _precision(self):
        """Pseudo-labels are computed under the run's ``amp`` (bf16 or fp16 autocast), as its students train;
        evaluation stays fp32 (the scoring protocol)."""
        import contextlib

        import torch

        if not self.cfg.amp:
            return contextlib.nullcontext()
        kind = "cuda" if str(self.device).startswith("cuda") else "cpu"
        return torch.autocast(kind, dtype=torch.bfloat16 if self.cfg.amp == "bf16" else torch.float16)

    def _labels(self, cycle: int, stage: str, compute, per_pair: int = 1) -> np.ndarray:
        folder = self.layout.cycle(cycle)
        marker = read_marker(folder, stage)
        path = self.layout.labels(cycle, stage.removeprefix("label_"))
        if marker is not None:
            return load_npy_checked(path, marker["sha256"], per_pair * len(self.pool), self.layout.marker(cycle, stage))
        t = time.perf_counter()
        folder.mkdir(parents=True, exist_ok=True)
        with self._precision():
            values = tdist.sharded(compute, [self.s1, self.s2])  # one process: compute(s1, s2)
        if not np.isfinite(values).all():  # a teacher with NaN weights: stop before a student learns from it
            teacher = {
                "label_bi": f"cycle {cycle - 1}'s bi-encoder",
                "label_cross": f"cycle {cycle}'s cross-encoder",
                "label_teachers": "a frozen teacher",
            }[stage]
            raise CorruptRun(
                f"{folder}: {stage}: {int((~np.isfinite(values)).sum())} of {len(values)} pseudo-labels "
                f"are not finite: {teacher} is broken (non-finite weights?)"
            )
        if tdist.is_main():
            digest = atomic_save_npy(path, values.astype(np.float32))
            write_marker(
                folder,
                stage,
                {
                    "sha256": digest,
                    "seconds": round(time.perf_counter() - t, 1),
                    "mean": float(values.mean()),
                    "std": float(values.std()),
                    "below_0": float((values < 0).mean()),
                    "pairs": len(values),
                    "ranks": tdist.world(),
                },
            )
            self.log(f"cycle {cycle}: {stage} done in {time.perf_counter() - t:.0f}s")
        tdist.barrier()
        return values

    def bi(self, cycle: int) -> np.ndarray:
        """Teacher bi cosines on the pool for ``cycle``: the mean over the members' bi-encoders of cycle - 1
        and the frozen teachers (each weighted as one member)."""
        # the teachers' cosines cover the whole pool (once a run), so they are read before the sharded pass
        # and each rank takes its own slice of them
        teachers = self.teachers() if self.teacher_models else np.empty((0, len(self.pool)), dtype=np.float32)

        def compute(s1, s2):
            out = [
                encode.pair_cosines(
                    self.students.load_bi(cycle - 1, m),
                    s1,
                    s2,
                    max_length=self.cfg.bi_max_length,
                    progress=self.progress,
                )
                for m in range(len(self.students.members))
            ]
            return np.mean(out + list(teachers[:, tdist.shard(len(self.pool))]), axis=0)

        return self._labels(cycle, "label_bi", compute)

    def teachers(self) -> np.ndarray:
        """The frozen teachers' pool cosines, one row per teacher (computed once a run, kept in start/)."""

        def compute(s1, s2):  # pair-major (pair, teacher) order, so that ranks' slices gather in order
            return np.stack(
                [
                    encode.pair_cosines(
                        models.bi_encoder(t, max_seq_length=self.cfg.bi_max_length, device=self.device),
                        s1,
                        s2,
                        max_length=self.cfg.bi_max_length,
                        progress=self.progress,
                    )
                    for t in self.teacher_models
                ],
                axis=1,
            ).ravel()

        values = self._labels(0, "label_teachers", compute, per_pair=len(self.teacher_models))
        return values.reshape(-1, len(self.teacher_models)).T

    def cross(self, cycle: int) -> np.ndarray:
        """Cross scores on the pool for ``cycle``'s bi students: the mean over the members' cross-encoders and,
        with ``teachers_teach="both"``, the frozen teachers' cosines mapped to [0, 1] (each weighted as one member)."""
        teachers = (
            [to_unit(t, self.cfg.target_map) for t in self.teachers()] if self.cfg.teachers_teach == "both" else []
        )
        if self.cfg.teachers_teach == "bi":  # the standard distillation baseline: the teachers' cosines alone
            cosines = self.teachers().mean(axis=0)
            return self._labels(cycle, "label_cross", lambda s1, s2: cosines[tdist.shard(len(self.pool))])

        def compute(s1, s2):
            out = [
                encode.cross_scores(
                    self.students.load_cross(cycle, m),
                    s1,
                    s2,
                    both_orders=self.cfg.label_both_orders and self.both_orders,
                    max_length=self.cfg.cross_max_length,
                    progress=self.progress,
                )
                for m in range(len(self.students.members))
            ]
            return np.mean(out + [t[tdist.shard(len(self.pool))] for t in teachers], axis=0)

        return self._labels(cycle, "label_cross", compute)


def to_unit(cosines: np.ndarray, how: str = "clip") -> np.ndarray:
    """Map bi cosines in [-1, 1] to BCE targets in [0, 1] (see module docstring)."""
    if how == "clip":
        return np.clip(cosines, 0.0, 1.0).astype(np.float32)
    if how == "minmax":
        lo, hi = float(cosines.min()), float(cosines.max())
        if hi - lo < 1e-8:
            raise ConfigError(
                f"target_map='minmax': every bi label is {lo:.4g}, so there is no range to rescale (a broken "
                "or collapsed bi-encoder?); use target_map='clip'"
            )
        return ((cosines - lo) / (hi - lo)).astype(np.float32)
    if how == "rank":
        from scipy.stats import rankdata

        if len(cosines) < 2:
            raise ConfigError("target_map='rank' needs at least two pool pairs to rank; use target_map='clip'")
        return ((rankdata(cosines) - 1) / max(len(cosines) - 1, 1)).astype(np.float32)  # ties share a rank
    raise ConfigError(f"unknown target_map {how!r}: use 'clip', 'minmax' or 'rank'")
