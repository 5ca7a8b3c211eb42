"""Where each cycle's students of a run live and where each starts (`cross_init_mode`, `bi_init_mode`).

A finished student's folder is checked against its marker's content hashes before it is first handed out
(a stage's outputs are never edited, and hashing a model at every load would read it again and again).

Example::

    students = Students(Layout("runs/mine"), cfg, device="cpu")
    bi = students.load_bi(cycle=1, m=0)
"""

from __future__ import annotations

from . import models
from .config import DistillConfig
from .io import check_folder, read_marker
from .runfolder import Layout


class Students:
    """The members' bi- and cross-encoders of every cycle in one run folder (cycle 0: the starts)."""

    def __init__(self, layout: Layout, cfg: DistillConfig, device: str):
        self.layout, self.cfg, self.device = layout, cfg, device
        self.members = cfg.members
        self.suffixes = [""] if len(self.members) == 1 else [f"_{i}" for i in range(len(self.members))]
        self._checked: dict = {}  # folder -> the marker's file hashes it was verified against

    def bi_path(self, cycle: int, m: int) -> str:
        """The bi-encoder of member ``m`` after ``cycle`` (cycle 0 = its start checkpoint)."""
        return self.members[m].start if cycle == 0 else self._finished(cycle, m, "bi")

    def cross_path(self, cycle: int, m: int) -> str:
        return self._finished(cycle, m, "cross")

    def path(self, kind: str, cycle: int, m: int) -> str:
        return self.bi_path(cycle, m) if kind == "bi" else self.cross_path(cycle, m)

    def _finished(self, cycle: int, m: int, kind: str) -> str:
        stage = f"train_{kind}{self.suffixes[m]}"
        folder = self.layout.student(cycle, kind, self.suffixes[m])
        marker = read_marker(self.layout.cycle(cycle), stage)
        if marker is None:
            raise FileNotFoundError(f"{folder}: stage not finished")
        if self._checked.get(folder) != marker["files"]:
            check_folder(folder, marker["files"], self.layout.marker(cycle, stage))
            self._checked[folder] = marker["files"]
        return str(folder)

    def load_bi(self, cycle: int, m: int):
        pooling = self.cfg.pooling or None if cycle == 0 else None
        return models.bi_encoder(
            self.bi_path(cycle, m), pooling=pooling, max_seq_length=self.cfg.bi_max_length, device=self.device
        )

    def load_cross(self, cycle: int, m: int):
        return models.cross_encoder(self.cross_path(cycle, m), max_length=self.cfg.cross_max_length, device=self.device)

    def load(self, kind: str, cycle: int, m: int):
        return self.load_bi(cycle, m) if kind == "bi" else self.load_cross(cycle, m)

    def cross_init(self, cycle: int, m: int) -> str:
        """Where member ``m``'s cross-encoder of ``cycle`` starts (``cross_init_mode``)."""
        mode = self.cfg.cross_init_mode
        if mode == "handover":  # the reference without --init_with_new_models: from the previous bi-encoder
            return self.bi_path(cycle - 1, m)
        if mode == "continue" and cycle > 1:
            return self.cross_path(cycle - 1, m)
        return self.members[m].cross_init

    def bi_init(self, cycle: int, m: int):
        """(where, model): member ``m``'s bi-encoder of ``cycle`` before training (``bi_init_mode``)."""
        mode = self.cfg.bi_init_mode
        if mode == "handover":  # the reference: this cycle's cross-encoder's backbone, pooled as the start is
            path = self.cross_path(cycle, m)
            pooling = self.cfg.pooling or models.pooling_of(self.bi_path(0, m)) or "cls"
            return path, models.bi_encoder(
                path, pooling=pooling, max_seq_length=self.cfg.bi_max_length, device=self.device
            )
        prev = cycle - 1 if mode == "continue" else 0
        return self.bi_path(prev, m), self.load_bi(prev, m)


def student_seed(seed: int, cycle: int, member: int, kind: str) -> int:
    """One seed per student, distinct across cycles, members and the two kinds: the data order, dropout
    and any new head of a student never depend on what else ran before it in the process."""
    return seed + 1000 * cycle + (500 if kind == "bi" else 0) + member
