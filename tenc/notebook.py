"""Glue for parameterised notebooks: validate papermill's injected parameters, fail fast and clearly.

A notebook declares its parameters with annotations in the cell tagged ``parameters``::

    preset: str = "quick"  # preset name
    cycles: int = 1        # how many cycles

Papermill injects plain assignments after it. ``parameters()`` compares the names that appeared
since ``mark()`` with the annotated ones: an unknown name (a typo, or a parameter of another
notebook) or a value of the wrong type raises ``ConfigError`` naming it.
"""

from __future__ import annotations

import difflib
import json
import random
from pathlib import Path

from .config import ConfigError

_IPYTHON = {"In", "Out", "get_ipython", "exit", "quit", "open"}


def mark(namespace: dict) -> set[str]:
    """Names present before the parameters cell (call in the cell above it). In a notebook it also shows a
    ``matplotlib.figure.Figure`` left as a cell's value as a PNG (tenc draws without pyplot, so the inline
    backend would not be loaded), which keeps figures in executed copies readable without running them."""
    show_figures()
    return set(namespace)


def show_figures() -> None:
    """Register IPython's PNG display of matplotlib figures (a no-op outside IPython)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("png")


def parameters(namespace: dict, before: set[str]) -> dict:
    """The declared parameters and their (validated) values; unknown injected names are an error."""
    declared = dict(namespace.get("__annotations__", {}))
    new = {k for k in namespace if k not in before and not k.startswith("_") and k not in _IPYTHON}
    unknown = sorted(new - set(declared))
    if unknown:
        close = difflib.get_close_matches(unknown[0], declared, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"unknown notebook parameter {unknown[0]!r}{hint}; this notebook takes: " + ", ".join(declared)
        )
    out = {}
    for name, typ in declared.items():
        value = namespace[name]
        typ = {"int": int, "float": float, "str": str, "bool": bool}.get(typ, typ) if isinstance(typ, str) else typ
        ok = (isinstance(value, typ) and not (typ is int and isinstance(value, bool))) or (
            typ is float and isinstance(value, int) and not isinstance(value, bool)
        )
        if not ok:
            raise ConfigError(f"notebook parameter {name!r} must be {typ.__name__}, got {value!r}")
        out[name] = float(value) if typ is float else value
    return out


def overrides(values: dict, config_class) -> dict:
    """The parameters that differ from ``config_class``'s defaults: what a notebook passes on top of a
    YAML ``config``, so that a notebook default never silently undoes a setting the YAML file makes."""
    from dataclasses import MISSING, fields

    defaults = {f.name: f.default for f in fields(config_class) if f.default is not MISSING}
    return {k: v for k, v in values.items() if k in defaults and v != defaults[k]}


def seed_all(seed: int) -> None:
    from .loop import seed_everything

    random.seed(seed)
    seed_everything(seed)


_TIMINGS = ("start_time", "end_time", "duration")


def drop_timings(path) -> bool:
    """Remove what changes on every execution of an executed notebook and nothing else: each cell's
    ``execution`` timestamps and papermill's start, end and duration (cell and notebook level), so a
    rerun whose outputs are the same leaves the committed file unchanged. Returns whether it wrote."""
    path = Path(path)
    nb = json.loads(path.read_text())
    dropped = 0
    for meta in [nb.get("metadata", {})] + [cell.get("metadata", {}) for cell in nb.get("cells", [])]:
        dropped += meta.pop("execution", None) is not None
        dropped += sum(meta.get("papermill", {}).pop(key, None) is not None for key in _TIMINGS)
    if not dropped:
        return False
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False))  # as nbformat writes
    return True
