"""Reuse of finished runs: a new run folder takes what a finished run beside it shares with it.

| what differs from the sibling           | what it lends                                   |
|-----------------------------------------|-------------------------------------------------|
| nothing (same settings and cycles)      | its results, recorded under the new name        |
| only ``cycles``                         | every finished cycle (cycle k never depends on T) |
| only the init modes or label history    | cycle 1 (they first act in cycle 2)             |
| only the bi student's training settings | cycle 1 up to its bi student                    |
| only whom the frozen teachers teach     | cycle 1 up to its cross labels (relabelled)     |

Files are hard-linked where the file system allows (every stage output is replaced, never edited).

Example::

    from tenc.reuse import run_or_reuse
    run_or_reuse(cfg, "runs/abl/cycles=2", {"name": "cycles=2"})  # takes cycles=1's cycle, trains one more
"""

from __future__ import annotations

import json
import shutil
import typing
from pathlib import Path

from .config import EXTENDABLE, RUNTIME_ONLY, DistillConfig, saved_settings
from .io import atomic_write_text, link_or_copy, read_marker

# What a finished sibling run can lend when its settings differ from this run's only in these keys.
# The init modes and the label history first act in cycle 2, so cycle 1 is the same; the bi student's own
# training settings first act at the end of a cycle, so everything of cycle 1 before it (bi labels, the
# cross-encoder, its evaluation and its labels) is the same.
FROM_CYCLE_2 = ("cross_init_mode", "bi_init_mode", "label_history")
BI_STUDENT = ("bi_epochs", "bi_batch_size", "bi_lr", "bi_warmup", "bi_loss", "bi_batches")
CROSS_LABELS = ("teachers_teach",)  # what goes into the cross -> bi labels, not into the cross-encoder
LABEL_CROSS_FILES = ("label_cross.", "labels_cross.")
CROSS_HALF_FILES = (
    "label_bi.",
    "labels_bi.",
    "cross",
    "train_cross",
    "eval_cross.",
    "preds_cross",
    *LABEL_CROSS_FILES,
)  # a cycle's files before its bi student


class Loan(typing.NamedTuple):
    """What a finished sibling run can give a new run folder."""

    cycles: int  # whole finished cycles
    cross_half: bool  # and the next cycle's stages before its bi student
    same: bool  # the same settings and cycles: its results can be reused as they are
    cross_labels: bool = True  # the cross half includes the cross-encoder's labels (not when they are made otherwise)


def finished_siblings(cfg: DistillConfig, search: str | Path, exclude: str | Path | None = None) -> dict[Path, Loan]:
    """Run folders directly under ``search`` whose settings equal ``cfg`` apart from runtime-only ones, the
    number of cycles, the init modes and the bi student's training settings, and that read the same input
    files by content (sha256, recorded with their pool), each with what its finished stages can lend
    (judged by the stage markers, so a run stopped half-way lends what it finished)."""
    from .inputs import input_digests

    skip = RUNTIME_ONLY + EXTENDABLE
    mine = {k: v for k, v in cfg.to_dict().items() if k not in skip}
    inputs = None  # the files this run would read, by content (computed once, when a sibling qualifies)
    found = {}
    for config in sorted(Path(search).glob("*/config.json")):
        folder = config.parent
        if exclude is not None and folder.resolve() == Path(exclude).resolve():
            continue
        try:
            saved = saved_settings(json.loads(config.read_text()))
        except (OSError, ValueError, TypeError):
            continue  # not a run this one can borrow from (unreadable config.json)
        diff = {k for k, v in mine.items() if saved[k] != v}
        if not diff <= set(FROM_CYCLE_2 + BI_STUDENT + CROSS_LABELS):
            continue
        inputs = input_digests(cfg) if inputs is None else inputs
        if (read_marker(folder, "pool") or {}).get("inputs") != inputs:  # read other files, or not recorded
            continue
        if diff & set(BI_STUDENT + CROSS_LABELS):
            relabel = bool(diff & set(CROSS_LABELS))
            needed = ("eval_cross",) if relabel else ("eval_cross", "label_cross")
            loan = Loan(0, all(read_marker(folder / "cycle_1", s) for s in needed), False, not relabel)
        else:
            done = 0  # whole cycles, both evaluations marked
            while done < saved["cycles"] and all(
                read_marker(folder / f"cycle_{done + 1}", f"eval_{kind}") for kind in ("bi", "cross")
            ):
                done += 1
            same = not diff and done == saved["cycles"] == cfg.cycles and _summarised(folder, done)
            loan = Loan(min(done, cfg.cycles, 1 if diff else cfg.cycles), False, same)
        if loan.cycles or loan.cross_half or loan.same:
            found[folder] = loan
    return found


def _summarised(folder: Path, cycles: int) -> bool:
    """summary.json and metrics.json exist and hold the last cycle (a notebook-run cycle 0 writes them too)."""
    try:
        rows = json.loads((folder / "summary.json").read_text())["cycles"]
    except (OSError, ValueError, KeyError):
        return False
    return (folder / "metrics.json").is_file() and any(r["cycle"] == cycles for r in rows)


def seed_cycles(
    folder: str | Path,
    donor: str | Path,
    cycles: int,
    cfg: DistillConfig | None = None,
    cross_half: bool = False,
    cross_labels: bool = True,
) -> None:
    """Start ``folder`` from the pool, start metrics and first ``cycles`` finished cycles of ``donor`` (cycle k
    never depends on T), and with ``cross_half`` the next cycle's stages before its bi student too (without
    its cross labels unless ``cross_labels``).
    Files are hard-linked where the file system allows (every stage output is replaced, never edited).
    config.json (``cfg``'s settings, or the donor's) comes last: a folder without it is seeded again."""

    folder, donor = Path(folder), Path(donor)
    half = donor / f"cycle_{cycles + 1}"

    def skip(path, names):
        if Path(path) == half:  # the cross half only: its outputs, markers and predictions
            return [
                n
                for n in names
                if not n.startswith(CROSS_HALF_FILES)
                or n.endswith(".ckpt")
                or (not cross_labels and n.startswith(LABEL_CROSS_FILES))
            ]
        return [n for n in names if n.endswith(".ckpt")]

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("pool.tsv", "pool.done.json"):
        link_or_copy(donor / name, folder / name)
    parts = [donor / "start"] + [donor / f"cycle_{k}" for k in range(1, cycles + 1)] + ([half] if cross_half else [])
    for part in parts:
        shutil.copytree(part, folder / part.name, copy_function=link_or_copy, dirs_exist_ok=True, ignore=skip)
    if cfg is None:
        shutil.copy2(donor / "config.json", folder / "config.json")  # the run then rewrites its cycles
    else:
        atomic_write_text(folder / "config.json", json.dumps(cfg.to_dict(), indent=2, sort_keys=True))


def run_or_reuse(
    cfg: DistillConfig, folder: str | Path, tags: dict, search=None, progress: bool = True, log=print, force=False
) -> dict:
    """`run`, unless a finished run with the same settings sits beside ``folder``: then only its results
    are recorded in ``folder`` under these ``tags`` (ablation values that equal the base run, e.g.
    cycles=1, cross_loss=bce and bi_loss=mse on the quick budget, are trained once). Otherwise a sibling
    lends what it shares with this run (`finished_siblings`): all its cycles when only the number of
    cycles differs (cycles=2 after cycles=1 trains one cycle), cycle 1 when the init modes differ, cycle 1
    up to the bi student when the bi student's training settings differ. ``search``: the folder, or list
    of folders, whose runs are looked at (default: the one holding ``folder``)."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        searches = [search] if isinstance(search, (str, Path)) else list(search or [folder.parent])
        siblings = {
            f: loan
            for where in searches
            if Path(where).is_dir()
            for f, loan in finished_siblings(cfg, where, exclude=folder).items()
        }
        same = [f for f, loan in siblings.items() if loan.same]
        if same:
            return _reuse(folder, same[0], tags, log)
        if siblings:
            donor = max(siblings, key=lambda f: (siblings[f].cycles, siblings[f].cross_half))  # lends the most
            loan = siblings[donor]
            seed_cycles(folder, donor, loan.cycles, cfg, loan.cross_half, loan.cross_labels)
            lent = [f"cycles 1-{loan.cycles}"] if loan.cycles else []
            upto = "its bi student" if loan.cross_labels else "its cross labels"
            lent += [f"cycle {loan.cycles + 1} up to {upto}"] if loan.cross_half else []
            log(f"{folder.name}: {' and '.join(lent)} taken from the run {donor}")
    from .distill import run

    return run(cfg, folder, progress, log, tags, force)


def _reuse(folder: Path, same: Path, tags: dict, log) -> dict:
    log(f"{folder.name}: same settings as the finished run {same}; reusing its results")
    doc = json.loads((same / "metrics.json").read_text())
    doc["params"] = {**doc["params"], "name": None, "ablation": "", "value": "", **tags, "same_as": str(same)}
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "metrics.json", json.dumps(doc, indent=2, default=float))
    summary = json.loads((same / "summary.json").read_text())
    atomic_write_text(folder / "summary.json", json.dumps({**summary, "same_as": str(same)}, indent=2, default=float))
    return summary
