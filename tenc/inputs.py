"""What a run reads, by content: the sha256 of its pair, dev and test files, or of its data folder.

Recorded with the run's pool (``pool.done.json``), checked on every rerun, extension and reuse: a run whose
files changed since it began is refused, and a finished run is lent only to a run that reads the same files.

Example::

    from tenc.config import DistillConfig
    from tenc.inputs import input_digests
    input_digests(DistillConfig(task="custom", pairs="pairs.tsv", dev="dev.tsv"))  # {"pairs": ..., "dev": ...}
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import data as tdata
from .config import DistillConfig
from .io import sha256


def input_digests(cfg: DistillConfig) -> dict:
    """What the run reads, by content: {role: sha256} for the pair, dev and test files of a custom task, the
    data folder of the others (one digest over its files' names and contents). Recorded in the pool's marker:
    a rerun, an extension or a reuse whose inputs changed since is refused, not silently mixed."""
    if cfg.task == "custom":
        tests = [t.strip() for t in cfg.tests.split(",") if t.strip()]
        files = {"pairs": cfg.pairs, "dev": cfg.dev, **{f"test {i}": t for i, t in enumerate(tests)}}
        return {role: sha256(path) for role, path in files.items() if path and Path(path).is_file()}
    if cfg.task == "sts":
        root = tdata.resolve_data_dir(cfg.data or None)
    elif cfg.task == "trecqa":
        from .tasks import binary_dir

        root = binary_dir("trecqa", cfg.task_data or None)
    else:  # GLUE: the folder given, else the hub's sets
        root = Path(cfg.task_data) if cfg.task_data else cfg.task
    if not isinstance(root, Path) or not root.is_dir():  # the hub fallback: known by its name only
        return {"data": f"hub:{root}"}
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(f"{path.relative_to(root)}\0{sha256(path)}\0".encode())
    return {"data": h.hexdigest()}


def changed_inputs(recorded: dict | None, now: dict) -> list[str]:
    """The roles whose content differs from what a run recorded (none when it recorded nothing: older runs)."""
    if not recorded:
        return []
    return sorted(role for role in set(recorded) | set(now) if recorded.get(role) != now.get(role))
