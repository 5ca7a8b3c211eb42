"""The Trans-Encoder loop: bi -> cross -> bi for T cycles, with N >= 1 members, resumable by stage.

Run folder layout (every stage ends by writing ``<stage>.done.json``; only marked outputs are trusted)::

    run/config.json                  the settings (a rerun with other settings is refused)
    run/pool.tsv                     the unlabelled pairs, fixed at the first run
    run/start/                       metrics of each member's start checkpoint ("cycle 0")
    run/cycle_1/labels_bi.npy        teacher bi cosines, mean over members
    run/cycle_1/cross[_i]/           cross-encoder(s), sentence-transformers format
    run/cycle_1/labels_cross.npy     teacher cross scores (sigmoid), mean over members
    run/cycle_1/bi[_i]/              bi-encoder(s)
    run/cycle_1/train_*.ckpt         mid-stage training progress (every checkpoint_minutes; deleted when done)
    run/summary.json                 every cycle, the selected cycle per encoder type and member
    run/metrics.json                 the same rows for tenc.tables (settings, tags, versions, protocol)
    run/best/{bi,cross}[_i]/         the selected students with model cards (tenc.export)

One cycle is four steps, in this order (`Run.run_cycle`): label the pool with the bi-encoders, train
the cross-encoders, label the pool with the cross-encoders, train the bi-encoders. The run folder's
set-up lives in `tenc.runfolder`, the selection rules in `tenc.selection`, reuse of finished runs in
`tenc.reuse`.

Pseudo-labels for N members are the mean of the members' scores, and every student trains on the
same averaged labels (PAPER.md, mutual distillation). N = 1 is self-distillation.

The pseudo-labels and their BCE target maps live in `tenc.labelling`, the students in `tenc.students`,
every path of the folder in `tenc.runfolder.Layout`.

Example::

    from tenc.config import DistillConfig
    from tenc.distill import run
    summary = run(DistillConfig.from_preset("quick"), "papermill_runs/distill/quick")
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from . import distributed as tdist
from . import evaluation, models, runfolder, selection
from .config import ConfigError, DistillConfig
from .export import publish_best
from .grading import Grades
from .inputs import input_digests
from .io import read_marker, run_lock
from .labelling import Labels
from .loop import seed_everything
from .mteb_format import write_summary_mteb
from .runfolder import Layout
from .students import Students, student_seed


class Run:
    """A run folder plus the data it needs; stages are methods that skip themselves when done."""

    def __init__(
        self,
        cfg: DistillConfig,
        folder: str | Path,
        progress: bool = True,
        log=print,
        tags: dict | None = None,
        force: bool = False,
    ):
        self.cfg, self.folder, self.progress, self.log = cfg, Path(folder), progress, log
        self.layout = runfolder.Layout(self.folder)
        self.tags = tags or {}  # e.g. {"name": ..., "ablation": ..., "value": ...} for tenc.tables
        self.device = cfg.device or str(tdist.device())
        cfg = self.cfg = amp_decided(cfg, self.device, log)
        check_machine(cfg, self.device)  # before anything is evaluated, labelled or written
        torch.set_num_threads(cfg.threads)
        if not force:  # a user's own files under --out are not replaced unless asked (--force)
            runfolder.check_out_folder(self.folder)
        # inputs and models are checked before anything is written: a failed start leaves the folder usable
        self.task, self.pairs = runfolder.load_task(cfg, log)
        self.teachers = check_models(cfg)
        inputs = input_digests(cfg)  # by content: a rerun whose files changed since is refused
        self.folder.mkdir(parents=True, exist_ok=True)
        # under torchrun rank 0 writes, the others read
        tdist.then_others(lambda: runfolder.check_config(self.folder, cfg, log))
        self.pool = tdist.then_others(lambda: runfolder.fix_pool(self.folder, self.task, log, inputs))
        self.cfg = runfolder.fit_lengths(cfg, self.pool, self.task.name, log)  # config.json keeps the settings as given
        self.students = Students(self.layout, self.cfg, self.device)
        self.labels = Labels(
            layout=self.layout,
            cfg=self.cfg,
            students=self.students,
            pool=self.pool,
            both_orders=self.task.both_orders,
            teachers=self.teachers,
            device=self.device,
            progress=self.progress,
            log=self.log,
        )
        self.grades = Grades(
            layout=self.layout,
            cfg=self.cfg,
            students=self.students,
            labels=self.labels,
            task=self.task,
            pairs=self.pairs,
            cross_orders=self.cross_orders,
            progress=self.progress,
            log=self.log,
        )

    @property
    def selection(self) -> str:
        return (
            "agreement" if self.task.dev is None and self.cfg.selection in selection.DEV_RULES else self.cfg.selection
        )

    @property
    def cross_orders(self) -> str:
        """How cross-encoders are scored: one order unless asked for both, and never both on an ordered task."""
        return self.cfg.cross_orders if self.task.both_orders else "one"

    # -- stages -------------------------------------------------------------------------------------
    def train_student(self, cycle: int, m: int, kind: str) -> str:
        """Member ``m``'s ``kind`` student of ``cycle``, trained on this cycle's labels (skipped when done):
        a cross-encoder on the bi-encoders' labels mapped to [0, 1], a bi-encoder on the cross scores."""
        folder, stage = self.layout.cycle(cycle), f"train_{kind}{self.students.suffixes[m]}"
        if read_marker(folder, stage) is not None:
            return self.students.path(kind, cycle, m)
        c = self.cfg
        targets = self.labels.targets(cycle, kind)
        seed = student_seed(c.seed, cycle, m, kind)
        seed_everything(seed)  # data order, dropout and any new head come from this seed alone
        if c.trainer == "st":
            from . import st_train as loops
        else:
            from . import train as loops
        if kind == "cross":
            init = self.students.cross_init(cycle, m)
            model = models.cross_encoder(
                init, max_length=c.cross_max_length, device=self.device, layers=c.cross_layers, seed=seed
            )
            fit, extra = loops.train_cross, {"both_orders": self.task.both_orders}
        else:
            init, model = self.students.bi_init(cycle, m)
            fit, extra = loops.train_bi, {}
        ckpt = runfolder.checkpoint(folder, stage, init, seed, targets, c)
        stats = fit(
            model,
            self.labels.s1,
            self.labels.s2,
            targets,
            **c.student(kind),
            seed=seed,
            dev_fn=self.grades.dev_fn(model, kind, self.selection),
            eval_steps=c.eval_steps,
            progress=self.progress and tdist.is_main(),
            checkpoint=ckpt,
            grad_accum=c.grad_accum,
            amp=c.amp,
            patience=c.patience,
            min_delta=c.min_delta,
            **extra,
        )
        target = self.layout.student(cycle, kind, self.students.suffixes[m])
        runfolder.save_trained(model, target, stage, {"init": init, "train": stats.summary()}, ckpt)
        self.log(
            f"cycle {cycle}: {stage} done in {stats.seconds:.0f}s "
            f"({stats.summary()['tokens_per_second']:.0f} tok/s, padding {stats.padding:.1%})"
        )
        return str(target)

    def evaluate(self, cycle: int, kind: str) -> dict:
        """Dev (+ test) metrics of every member and, for N > 1, of their ensemble (rank 0 under torchrun)."""
        return tdist.then_others(lambda: self.grades.evaluate(cycle, kind))

    def agreement(self, cycle: int) -> float:
        return self.grades.agreement(cycle)

    # -- driving ------------------------------------------------------------------------------------
    def run_cycle(self, cycle: int, direction: str = "both") -> None:
        """One cycle; ``direction`` "cross" (bi -> cross), "bi" (cross -> bi) or "both"."""
        if direction not in ("both", "cross", "bi"):
            raise ConfigError(f"direction must be 'both', 'cross' or 'bi', got {direction!r}")
        if not 1 <= cycle <= self.cfg.cycles:  # a cycle past `cycles` would train but never be summarised
            raise ConfigError(
                f"cycle must be between 1 and the run's cycles={self.cfg.cycles}, got {cycle} "
                "(set cycles higher to run more)"
            )
        seed_everything(self.cfg.seed + cycle)
        if direction in ("both", "cross") and self.cfg.teachers_teach != "bi":
            # bi -> cross: the bi-encoders of cycle - 1 score every pool pair (the mean over members) ...
            self.labels.bi(cycle)
            # ... and each member's cross-encoder learns those scores (BCE on soft targets, both orders)
            self.train_students(cycle, "cross")
            self.evaluate(cycle, "cross")
        if direction in ("both", "bi"):
            # cross -> bi: the new cross-encoders score every pool pair (sigmoid, one order) ...
            self.labels.cross(cycle)
            # ... and each member's bi-encoder learns them (MSE between cosine and score)
            self.train_students(cycle, "bi")
            self.evaluate(cycle, "bi")

    def train_students(self, cycle: int, kind: str) -> None:
        """Train every member's ``kind`` student on the cycle's labels (on disk before any member starts);
        with ``parallel`` one process per member."""
        todo = [
            m
            for m in range(len(self.students.members))
            if read_marker(self.layout.cycle(cycle), f"train_{kind}{self.students.suffixes[m]}") is None
        ]
        if not self.cfg.parallel or len(todo) < 2 or tdist.active():
            for m in range(len(self.students.members)):
                self.train_student(cycle, m, kind)
            return
        train_in_processes(self.folder, cycle, kind, todo, max(1, self.cfg.threads // len(todo)))

    def run(self) -> dict:
        self.evaluate(0, "bi")
        for cycle in range(1, self.cfg.cycles + 1):
            self.run_cycle(cycle)
        return self.summarise()

    def summarise(self) -> dict:
        """summary.json and metrics.json (written by rank 0 under torchrun; the others read them)."""
        out = self._summarise() if tdist.is_main() else None
        tdist.barrier()
        return out if out is not None else json.loads(self.layout.summary.read_text())

    def _summarise(self) -> dict:
        rows = runfolder.evaluation_rows(self.folder, self.cfg.cycles)
        rule = self.selection
        selected, picks = selection.summarise(
            rows, rule, self.agreement if rule == "agreement" else None, has_dev=self.task.dev is not None
        )
        summary = {
            "config": self.cfg.to_dict(),
            "pool_pairs": len(self.pool),
            "metrics": {t.name: t.metric for t in self.task.tests},
            "cycles": rows,
            "selected": selected,
            "picks": picks,
        }
        protocol = evaluation.provenance(cross=evaluation.protocol("cross", self.cross_orders))
        params = {**self.cfg.to_dict(), **self.tags}
        runfolder.write_summary(self.folder, summary, params, protocol)
        publish_best(self.folder, summary, params, protocol["protocol"])  # best/: the selected students
        write_summary_mteb(self.folder)  # mteb/: their scores in MTEB's result format
        return summary


def train_in_processes(folder: Path, cycle: int, kind: str, members: list[int], threads: int) -> None:
    """``parallel`` mutual runs: each member's student trained by a process of its own (`_member_main`)."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "tenc.distill", str(folder), str(cycle), kind]
    procs = [subprocess.Popen([*argv, str(m), str(threads)]) for m in members]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise RuntimeError(f"{folder}: cycle {cycle}: a parallel member failed (exit codes {codes}); rerun to resume")


def amp_decided(cfg: DistillConfig, device: str, log=print) -> DistillConfig:
    """``amp="auto"`` decided by what this machine has (`tenc.cpu.resolve_amp`); config.json then keeps the
    decision, so the run is never resumed in another precision."""
    if cfg.amp != "auto":
        return cfg
    from dataclasses import replace

    from .cpu import resolve_amp

    cfg = replace(cfg, amp=resolve_amp(cfg.amp, device))
    log(f"amp=auto: {cfg.amp or 'fp32'} on {device}")
    return cfg


def check_models(cfg: DistillConfig) -> list[str]:
    """The members' and frozen teachers' token limits, checked before anything is written; the teachers."""
    for start, cross in cfg.members:
        models.check_lengths(start, cfg.bi_max_length, "bi_max_length")
        models.check_lengths(cross, cfg.cross_max_length, "cross_max_length")
    teachers = [t.strip() for t in cfg.teachers.split(",") if t.strip()]
    if cfg.teachers_teach in ("both", "bi") and not teachers:
        raise ConfigError(f"teachers_teach={cfg.teachers_teach!r} needs frozen teachers: set teachers=MODEL[,MODEL]")
    for teacher in teachers:
        models.check_lengths(teacher, cfg.bi_max_length, "bi_max_length")
    return teachers


def check_machine(cfg: DistillConfig, device: str) -> None:
    """Settings this machine or this training path cannot honour, refused in one line before any work."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r}: no CUDA device here; set device=cpu (or leave it empty)")
    if device.startswith("mps") and not torch.backends.mps.is_available():
        raise ConfigError(f"device={device!r}: no MPS device here; set device=cpu (or leave it empty)")
    if cfg.amp == "fp16" and not device.startswith("cuda"):
        raise ConfigError(f"amp='fp16' needs a CUDA device (this run's is {device!r}); use amp='bf16' on a CPU")
    if cfg.trainer == "st" and tdist.active():  # refused before any labelling, not at the first training stage
        from .st_train import TORCHRUN_REFUSED

        raise ConfigError(TORCHRUN_REFUSED)
    if cfg.trainer == "st":
        for kind in ("bi", "cross"):
            size = getattr(cfg, f"{kind}_batch_size")
            if size % cfg.grad_accum:
                raise ConfigError(
                    f"trainer='st': {kind}_batch_size={size} does not divide into grad_accum={cfg.grad_accum} "
                    "micro-batches; pick a grad_accum that divides it"
                )


def run(
    cfg: DistillConfig,
    folder: str | Path,
    progress: bool = True,
    log=print,
    tags: dict | None = None,
    force: bool = False,
) -> dict:
    """Run (or resume) the whole loop in ``folder``; a second process on the same folder is refused.
    ``tags`` (name, ablation, value) are recorded in metrics.json for the tables. A folder that is not a
    tenc run but holds files a run writes (``best/``, ``metrics.json``, ...) is refused unless ``force``."""
    import contextlib

    tdist.init_from_env()
    if not force:
        runfolder.check_out_folder(Path(folder))  # before the lock file is made in it
    main = tdist.is_main()
    with run_lock(folder) if main else contextlib.nullcontext():  # one lock for the torchrun job
        return Run(cfg, folder, progress and main, log if main else (lambda *_: None), tags, force).run()


def _member_main(argv: list[str]) -> int:
    """Worker of ``parallel`` mutual runs: train one member's student in an existing run folder."""
    folder, cycle, kind, member, threads = argv
    cfg = DistillConfig.from_dict({**json.loads(Layout(folder).config.read_text()), "threads": int(threads)})
    run = Run(cfg, folder, progress=False, log=lambda *_: None)
    run.train_student(int(cycle), int(member), kind)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_member_main(sys.argv[1:]))
