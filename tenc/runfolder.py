"""The run folder: what a run checks and fixes before its first stage, and how a stage's output is kept.

| function           | what                                                                         |
|--------------------|------------------------------------------------------------------------------|
| `check_out_folder` | refuse a file, or a user's folder whose files a run would overwrite          |
| `load_task`        | the task's pool, dev and test sets, read before anything is written          |
| `check_config`     | ``config.json``: written once; a rerun with other settings is refused        |
| `fix_pool`         | ``pool.tsv``: the unlabelled pairs, fixed at the first run                   |
| `fit_lengths`      | the token limits: the paper's on STS, the pool's own on other tasks          |
| `checkpoint`       | a training stage's mid-stage progress file, tied to its settings and labels |
| `save_trained`     | a trained student saved atomically, then its marker with content hashes      |
| `Layout`           | every path of a run folder: cycle folders, labels, students, predictions, ... |

Example::

    from tenc import runfolder
    runfolder.check_out_folder(Path("runs/mine"))
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import data as tdata
from . import distributed as tdist
from .config import EXTENDABLE, RUNTIME_ONLY, ConfigError, DistillConfig, saved_settings
from .inputs import changed_inputs
from .io import (
    CorruptRun,
    atomic_dir,
    atomic_write_text,
    folder_digest,
    quiet_loading,
    read_marker,
    remedy,
    sha256,
    write_marker,
)
from .loop import Checkpoint
from .selection import DEV_RULES

RUN_FILES = ("metrics.json", "summary.json", "pool.tsv", "best", "start", "mteb")  # what a run writes
RUN_GLOBS = ("cycle_*",)  # ... and its cycle folders: a user's own of these names would be replaced


@dataclass(frozen=True)
class Layout:
    """Every path of a run folder, in one place (distill, reuse, export, plots, widgets and the analyses read
    paths from here, never spell them)::

        config.json  pool.tsv  summary.json  metrics.json
        start/                        cycle 0: the start's evaluation, the frozen teachers' cosines
        cycle_<k>/labels_<source>.npy the pseudo-labels stage ``label_<source>`` wrote (source: bi, cross, teachers)
        cycle_<k>/<kind><suffix>/     the student stage ``train_<kind><suffix>`` wrote (suffix: "" or _<member>)
        cycle_<k>/preds_<kind>_<member>.csv   the stage ``eval_<kind>``'s per-pair predictions on dev and tests
        cycle_<k>/<stage>.done.json   the marker that makes a stage's output trusted
        best/<kind><suffix>/          the selected students (tenc.export)
    """

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def pool(self) -> Path:
        return self.root / "pool.tsv"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def best(self) -> Path:
        return self.root / "best"

    def cycle(self, cycle: int) -> Path:
        return self.root / ("start" if cycle == 0 else f"cycle_{cycle}")

    def cycles(self) -> list[int]:
        """The trained cycles present, in order (cycle_10 after cycle_9)."""
        found = (p.name.split("_", 1)[1] for p in self.root.glob("cycle_*") if p.is_dir())
        return sorted(int(n) for n in found if n.isdigit())

    def labels(self, cycle: int, source: str) -> Path:
        """The labels stage ``label_<source>`` of ``cycle`` writes (the teachers' live in start/)."""
        return self.cycle(cycle) / f"labels_{source}.npy"

    def student(self, cycle: int, kind: str, suffix: str = "") -> Path:
        return self.cycle(cycle) / f"{kind}{suffix}"

    def best_student(self, kind: str, suffix: str = "") -> Path:
        return self.best / f"{kind}{suffix}"

    def mteb(self, kind: str, suffix: str = "") -> Path:
        """The selected student's scores in MTEB's result format (`tenc.mteb_format`)."""
        return self.root / "mteb" / f"{kind}{suffix}"

    def preds(self, cycle: int, kind: str, member: str = "model") -> Path:
        return self.cycle(cycle) / f"preds_{kind}_{member}.csv"

    def marker(self, cycle: int, stage: str) -> Path:
        return self.cycle(cycle) / f"{stage}.done.json"


def check_out_folder(folder: Path) -> None:
    """Refuse a run folder that is a file, or an existing folder of something else that a run would
    overwrite (a tenc run folder has config.json; a seeded one pool.done.json)."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: is a file, not a run folder; pick another --out")
    if folder.is_dir() and not (folder / "config.json").is_file() and not (folder / "pool.done.json").is_file():
        if reused_from(folder) is not None:  # results a reuse recorded here: tenc's own
            return
        theirs = [n for n in RUN_FILES if (folder / n).exists()]
        theirs += sorted(p.name for pattern in RUN_GLOBS for p in folder.glob(pattern))
        if theirs:
            raise ConfigError(
                f"{folder}: not a tenc run folder but holds {', '.join(theirs)}, which a run would "
                "overwrite; pick a new --out (or pass --force to let it)"
            )


def reused_from(folder: Path) -> Path | None:
    """The finished run whose results a reuse recorded in ``folder`` (summary.json's ``same_as``; looked for as
    written, then beside ``folder``), else None."""
    try:
        same = json.loads(Layout(folder).summary.read_text()).get("same_as")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(same, str):
        return None
    for candidate in (Path(same), folder.parent / Path(same).name):
        if (candidate / "summary.json").is_file() and candidate.resolve() != folder.resolve():
            return candidate
    return None


def load_task(cfg: DistillConfig, log=print):
    """(task, STS pairs or None): the pool, dev and test sets of ``cfg.task``, read and checked."""
    from . import tasks

    if cfg.task == "sts":
        pairs = tdata.load_sts(cfg.data or None)
        return tasks.sts_task(pairs, cfg.pool, cfg.max_pairs or None, cfg.seed), pairs
    if cfg.task == "custom":
        if not cfg.pairs:
            raise ConfigError("task 'custom' needs 'pairs' (the unlabelled pair file)")
        tests = [t.strip() for t in cfg.tests.split(",") if t.strip()]
        task = tasks.custom_task(cfg.pairs, cfg.dev or None, tests, max_pairs=cfg.max_pairs or None, seed=cfg.seed)
    elif cfg.task == "trecqa":
        task = tasks.trecqa_task(cfg.task_data or None, cfg.max_pairs or None, cfg.seed)
    else:
        task = tasks.glue_task(cfg.task, cfg.task_data or None, cfg.max_pairs or None, cfg.seed)
    if task.dev is None and cfg.selection in DEV_RULES:
        log(f"task {cfg.task}: no dev set, so cycles are selected by the label-free 'agreement' rule")
    return task, None


def check_config(folder: Path, cfg: DistillConfig, log=print) -> None:
    """Write ``config.json``, or check a rerun against it: other settings are refused, except ``cycles``
    (cycle k never depends on T, so more cycles extend a run) and runtime-only settings."""
    path = Layout(folder).config
    mine = cfg.to_dict()
    if not path.is_file():
        atomic_write_text(path, json.dumps(mine, indent=2, sort_keys=True))
        return
    raw = json.loads(path.read_text())
    saved = saved_settings(raw)  # what the code that wrote it did, never today's default for a changed setting
    diff = {k: (saved[k], v) for k, v in mine.items() if saved[k] != v and k not in RUNTIME_ONLY + EXTENDABLE}
    if diff and not finished_any(folder):  # a start that failed before its first cycle: nothing worth keeping
        log(f"{folder}: no cycle stage finished under its settings {diff}; starting over with the new ones")
        for name in ("pool.tsv", "pool.done.json"):  # the pool and the start's scores may depend on them
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(Layout(folder).cycle(0), ignore_errors=True)
        atomic_write_text(path, json.dumps(mine, indent=2, sort_keys=True))
        return
    if diff:
        raise ConfigError(f"{folder} holds a run with other settings {diff}; use a new folder")
    if saved.get("cycles") != mine["cycles"]:
        log(f"{folder}: cycles {saved.get('cycles')} -> {mine['cycles']} (finished cycles are kept)")
        atomic_write_text(path, json.dumps({**raw, "cycles": mine["cycles"]}, indent=2, sort_keys=True))


def finished_any(folder: Path) -> bool:
    """Whether any stage of a cycle finished (its marker written) or left mid-stage progress."""
    return any(p.name.endswith((".done.json", ".ckpt")) for p in folder.glob("cycle_*/*"))


TRUNCATION_WARNING = 0.05  # a token limit that cuts more than this share of the pool's sentences or pairs is flagged


def fit_lengths(cfg: DistillConfig, pool: pd.DataFrame, task: str, log=print) -> DistillConfig:
    """The run's token limits. On STS, or with ``lengths="fixed"``, ``bi_max_length`` / ``cross_max_length``
    as given (the paper's 32 / 64). On any other task with ``lengths="auto"``: the pool's 99th-percentile
    sentence and pair lengths in the members' tokenizers, rounded up to a multiple of 8 and capped by the
    models' positions. Either way the share of pool sentences and pairs each limit cuts is logged, with a
    warning above 5 %."""
    from dataclasses import replace

    from . import models

    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    sentences = list(dict.fromkeys(s1 + s2))
    fit_here = cfg.lengths == "auto" and task != "sts"
    fitted, shown = {}, {}
    for setting, names in (
        ("bi_max_length", [m.start for m in cfg.members]),
        ("cross_max_length", [m.cross_init for m in cfg.members]),
    ):
        lengths, caps = [], []
        for name in dict.fromkeys(names):
            tok = models.tokenizer(name)
            lengths.append(
                _token_lengths(tok, sentences) if setting == "bi_max_length" else _token_lengths(tok, s1, s2)
            )
            caps.append(models.max_positions(name))
        given = getattr(cfg, setting)
        if fit_here:
            fit = max(-(-int(np.percentile(n, 99)) // 8) * 8 for n in lengths)
            given = min([fit] + [c for c in caps if c])
        fitted[setting], shown[setting] = given, lengths[0]  # the first member's tokenizer is reported
    for setting, what in (("bi_max_length", "sentences"), ("cross_max_length", "pairs")):
        n, lens = fitted[setting], shown[setting]
        cut = float(np.mean(lens > n))
        p50, p95, p99 = (int(np.percentile(lens, q)) for q in (50, 95, 99))
        paper = task == "sts" and n == getattr(DistillConfig, setting)
        source = "fitted to the pool" if fit_here else "the paper's" if paper else "as set"
        line = (
            f"{setting}={n} ({source}): {cut:.1%} of the pool's {len(lens)} {what} are cut "
            f"(tokens p50 {p50}, p95 {p95}, p99 {p99})"
        )
        if cut > TRUNCATION_WARNING and not paper:  # the paper's STS limits are the protocol, not a mistake
            line = f"warning: {line}; raise {setting}" + (" or set lengths=auto" if task != "sts" else "")
        log(line)
    return replace(cfg, **fitted)


def _token_lengths(tokenizer, s1: list[str], s2: list[str] | None = None) -> np.ndarray:
    enc = (
        tokenizer(s1, s2, add_special_tokens=True, truncation=False, verbose=False)
        if s2 is not None
        else tokenizer(s1, add_special_tokens=True, truncation=False, verbose=False)
    )
    return np.array([len(ids) for ids in enc["input_ids"]])


def fix_pool(folder: Path, task, log=print, inputs: dict | None = None) -> pd.DataFrame:
    """The run's unlabelled pairs: ``pool.tsv`` as the first run wrote it, else the task's pool, written now.
    ``inputs`` (`input_digests`) are recorded with it, and a rerun whose inputs changed is refused."""
    path = Layout(folder).pool
    marker = read_marker(folder, "pool")
    if marker is not None:
        changed = changed_inputs(marker.get("inputs"), inputs or {})
        if inputs is not None and changed:
            raise ConfigError(
                f"{folder}: the run's {', '.join(changed)} changed since it began (sha256 differs), so its labels "
                "and selections would mix two versions; restore the files or use a new folder"
            )
        df = read_pool(folder)
        if len(df) != marker["pairs"]:
            raise CorruptRun(
                f"{path}: {len(df)} pairs, marker says {marker['pairs']}; the pool fixes every "
                f"stage, so start over: {remedy(folder)}"
            )
        if marker.get("sha256") and sha256(path) != marker["sha256"]:  # runs before this check: count only
            raise CorruptRun(
                f"{path}: its content changed since the run wrote it (sha256 differs; the labels belong to the "
                f"pairs as written), so start over: {remedy(folder)}"
            )
        return df
    pool = task.pool
    if pool["sentence1"].str.contains("[\t\n\r]").any() or pool["sentence2"].str.contains("[\t\n\r]").any():
        pool = pool.replace({r"[\t\n\r]": " "}, regex=True)  # pool.tsv is tab-separated, one pair a line
    tmp = path.with_suffix(".tmp")
    pool.to_csv(tmp, sep="\t", index=False, quoting=3)
    tmp.replace(path)
    n_sent = len(set(pool["sentence1"]) | set(pool["sentence2"]))
    record = {"pairs": len(pool), "task": task.name, "sentences": n_sent, "sha256": sha256(path)}
    write_marker(folder, "pool", {**record, "inputs": inputs or {}})
    log(task.describe())
    return pool.reset_index(drop=True)


def read_pool(folder: str | Path) -> pd.DataFrame:
    """A run folder's unlabelled pairs (``pool.tsv``: tab-separated, unquoted, every field a string)."""
    return pd.read_csv(Layout(folder).pool, sep="\t", quoting=3, keep_default_na=False, dtype=str)


def checkpoint(
    folder: Path, stage: str, init: str, seed: int, targets: np.ndarray, cfg: DistillConfig
) -> Checkpoint | None:
    """Mid-stage progress file for a training stage, tied to its settings, start and labels."""
    if not cfg.checkpoint_minutes or tdist.active():  # ranks' RNG states differ: no mid-stage resume
        return None
    key = {
        "stage": stage,
        "init": init,
        "seed": seed,
        "targets": hashlib.sha256(targets.tobytes()).hexdigest(),
        "config": {k: v for k, v in cfg.to_dict().items() if k not in RUNTIME_ONLY + EXTENDABLE},
    }
    folder.mkdir(parents=True, exist_ok=True)
    return Checkpoint(folder / f"{stage}.ckpt", json.dumps(key, sort_keys=True), cfg.checkpoint_minutes)


def save_trained(model, target: Path, stage: str, info: dict, ckpt: Checkpoint | None) -> None:
    """Save a trained student atomically, then its marker (rank 0 under torchrun); drop the checkpoint."""
    if tdist.is_main():
        with atomic_dir(target) as tmp, quiet_loading():  # no shard-writing progress bar in a run's log
            model.save(str(tmp))
        write_marker(target.parent, stage, {**info, "files": folder_digest(target), "ranks": tdist.world()})
        if ckpt:
            ckpt.clear()
    tdist.barrier()


def evaluation_rows(folder: Path, cycles: int) -> list[dict]:
    """Every finished evaluation of a run, one row per cycle, kind and member (the start: bi only)."""
    rows = []
    for cycle in range(0, cycles + 1):
        for kind in ("bi", "cross") if cycle else ("bi",):
            info = read_marker(Layout(folder).cycle(cycle), f"eval_{kind}")
            for name, entry in (info or {}).get("results", {}).items():
                rows.append(
                    {"cycle": cycle, "kind": kind, "member": name, "dev": entry["dev"], **entry.get("test", {})}
                )
    return rows


def write_summary(folder: Path, summary: dict, params: dict, provenance: dict) -> None:
    """``summary.json``; ``metrics.json``, the common format every table and figure is rebuilt from
    (`tenc.tables`), with the settings, tags, versions and scoring protocol."""
    atomic_write_text(Layout(folder).summary, json.dumps(summary, indent=2, default=float))
    doc = {
        "metrics": summary["cycles"],
        "selected": summary["selected"],
        "picks": summary["picks"],
        "params": params,
        **provenance,
    }
    atomic_write_text(Layout(folder).metrics, json.dumps(doc, indent=2, default=float))


class Selected(NamedTuple):
    """A student the run's selection picked: mutual member i lives in ``<kind>_i`` folders, a single model in
    ``<kind>`` (``suffix``); ``cycle`` 0 is a start checkpoint kept by ``dev+start``; ``row`` its result row."""

    kind: str
    member: str
    index: int
    suffix: str
    cycle: int
    row: dict


def selected_students(summary: dict) -> list[Selected]:
    """Every student ``summary`` (summary.json) selected; the members' ensemble is a score, not a student."""
    out = []
    for kind, sel in (summary.get("selected") or {}).items():
        for member, cycle in (sel.get("members") or {}).items():
            if member == "ensemble":
                continue
            index = 0 if member == "model" else int(member[1:])
            key = (kind, member, cycle)
            row = next((r for r in summary.get("cycles", []) if (r["kind"], r["member"], r["cycle"]) == key), {})
            out.append(Selected(kind, member, index, "" if member == "model" else f"_{index}", cycle, row))
    return out
