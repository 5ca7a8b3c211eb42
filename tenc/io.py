"""Crash-safe files: atomic writes, completed-stage markers and a run-folder lock.

A stage is finished only when its marker ``<name>.done.json`` exists; the marker is written last,
after the stage's outputs were moved into place with ``os.replace``. A later run trusts outputs only
through their marker, so a kill -9 at any point leaves either the old state or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import numpy as np


class RunLocked(RuntimeError):
    """Another live process holds the run folder."""


class CorruptRun(ValueError):
    """A stage output that does not match its marker; the message names the exact remedy."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _share(path: str | Path, mode: int) -> None:
    """Give a file made by mkstemp/mkdtemp (0600/0700) the permissions a plain open/mkdir would have."""
    os.chmod(path, mode & ~_umask())


def remedy(*paths: str | Path) -> str:
    """The command that makes a stage run again: remove its outputs and its marker."""
    return "rm -r " + " ".join(f"'{p}'" for p in paths) + " and rerun the same command"


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        _share(tmp, 0o666)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_save_npy(path: str | Path, array: np.ndarray) -> str:
    """Save an array atomically; return its sha256 (recorded in the stage marker)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent, suffix=".npy")
    os.close(fd)
    try:
        np.save(tmp, array)
        _share(tmp, 0o666)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return sha256(path)


def load_npy_checked(
    path: str | Path, digest: str | None, length: int | None = None, marker: str | Path | None = None
) -> np.ndarray:
    """Load an array whose checksum (and length) must match what its stage marker recorded, holding only
    finite numbers; anything else raises `CorruptRun` naming the remedy (remove the file and ``marker``)."""
    path = Path(path)
    fix = remedy(path, marker) if marker else remedy(path)
    if not path.is_file():
        raise CorruptRun(f"{path}: missing though its stage is marked done; {fix}")
    if digest is not None and sha256(path) != digest:
        raise CorruptRun(f"{path}: checksum mismatch (corrupted or overwritten); {fix}")
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as err:
        raise CorruptRun(f"{path}: unreadable ({err}); {fix}") from None
    if length is not None and len(arr) != length:
        raise CorruptRun(f"{path}: holds {len(arr)} values, expected {length}; {fix}")
    if not np.isfinite(arr).all():
        raise CorruptRun(f"{path}: {int((~np.isfinite(arr)).sum())} non-finite values; {fix}")
    return arr


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folder_digest(folder: str | Path) -> dict[str, str]:
    """The sha256 of every file of a saved model folder (recorded in its stage marker)."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def check_folder(folder: str | Path, expected: dict[str, str | int], marker: str | Path | None = None) -> None:
    """Every recorded file of ``folder`` is there with its recorded content (sha256; markers written before
    hashes were recorded hold sizes); else `CorruptRun` naming the remedy."""
    folder = Path(folder)
    fix = remedy(folder, marker) if marker else remedy(folder)
    if not folder.is_dir():
        raise CorruptRun(f"{folder}: model folder missing though its stage is marked done; {fix}")
    for name, want in expected.items():
        path = folder / name
        have = (path.stat().st_size if isinstance(want, int) else sha256(path)) if path.is_file() else None
        if have != want:
            raise CorruptRun(
                f"{path}: {'missing' if have is None else 'content differs from its marker'} "
                f"(corrupted or replaced); {fix}"
            )


def link_or_copy(src: str | Path, dst: str | Path) -> None:
    """Hard-link ``src`` to ``dst`` (a file left there is replaced), or copy it on another file system.
    Safe for stage outputs: they are replaced, never edited in place."""
    if os.path.lexists(dst):
        os.remove(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@contextlib.contextmanager
def atomic_dir(target: str | Path):
    """Yield a temporary folder beside ``target``; on success it takes ``target``'s place by renames only (the
    old folder is moved aside first and removed last), so a failure at any point leaves the old or the new
    folder whole at ``target``, never a half-deleted one."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    old = None
    try:
        yield tmp
        _share(tmp, 0o777)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, old / target.name)
        try:
            os.replace(tmp, target)
        except OSError:
            if old is not None:
                os.replace(old / target.name, target)  # put the old folder back
            raise
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


# the types of the marker fields tenc reads back; a hand-edited marker with another type is refused in one line
MARKER_TYPES = {
    "pairs": int,
    "sentences": int,
    "sha256": str,
    "files": dict,
    "results": dict,
    "seconds": (int, float),
    "train": dict,
    "init": str,
}


def read_marker(folder: str | Path, stage: str) -> dict | None:
    path = Path(folder) / f"{stage}.done.json"
    if not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a marker is written atomically; an unreadable one means "not done"
    if not isinstance(marker, dict):
        raise CorruptRun(f"{path}: not a stage marker (a JSON object expected); {remedy(path)}")
    for key, kind in MARKER_TYPES.items():
        value = marker.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise CorruptRun(f"{path}: '{key}' is {type(value).__name__}, not what tenc wrote; {remedy(path)}")
    return marker


def write_marker(folder: str | Path, stage: str, info: dict) -> None:
    atomic_write_text(Path(folder) / f"{stage}.done.json", json.dumps(info, indent=2, sort_keys=True))
    if os.environ.get("TENC_KILL_AFTER_MARKER") == stage:  # fault injection (tests): die as the next stage starts
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as err:
        return err.errno == errno.EPERM
    return True


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, /proc's field 22); None where unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _lock_holder(lock: Path) -> dict:
    """The lock's holder: {"pid", "host", "started"} (older locks hold a bare pid)."""
    try:
        text = lock.read_text().strip()
    except OSError:
        return {}
    try:
        holder = json.loads(text) if text.startswith("{") else {"pid": int(text or 0)}
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _holder_alive(holder: dict) -> bool:
    """Alive unless provably gone: on this host, its pid is dead or now belongs to a later process (pid reuse).
    A holder on another host (a shared filesystem) cannot be checked from here, so it counts as alive."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if holder.get("host", socket.gethostname()) != socket.gethostname():
        return True
    if not _pid_alive(pid):
        return False
    return holder.get("started") is None or holder["started"] == _started(pid)


@contextlib.contextmanager
def run_lock(folder: str | Path):
    """Hold ``<folder>/.lock`` for the duration. It names our pid, host and process start time, so a lock left
    by a dead process is taken over even when its pid has since been reused by another process."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / ".lock"
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _started(os.getpid())}
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(me))
            break
        except FileExistsError:
            holder = _lock_holder(lock)
            if _holder_alive(holder):
                where = "" if holder.get("host", me["host"]) == me["host"] else f" on {holder['host']}"
                raise RunLocked(
                    f"{folder} is in use by process {holder['pid']}{where}; wait for it or pick another run folder"
                ) from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # stale: its process is gone
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


@contextlib.contextmanager
def quiet_loading():
    """Silence the load reports that transformers / sentence-transformers print for expected new heads."""
    import logging

    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    st_logger = logging.getLogger("sentence_transformers")
    old = st_logger.level
    st_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()
        st_logger.setLevel(old)


@contextlib.contextmanager
def file_lock(path: str | Path):
    """Hold an exclusive lock on ``<path>.lock`` for a read-modify-write of ``path`` (results CSVs): two runs
    finishing together queue instead of one replacing the other's rows. The lock dies with its process."""
    import fcntl

    lock = Path(str(path) + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
