"""Which cycle to keep: the selection rules, as plain functions of a run's evaluation rows.

| rule        | candidates                    | picks                                                        |
|-------------|-------------------------------|--------------------------------------------------------------|
| `dev`       | trained cycles 1..T           | the best dev score, per encoder type and per member (paper)  |
| `dev+start` | the start (bi only) and 1..T  | the best dev score: never worse on dev than the start        |
| `last`      | trained cycles                | the last one                                                 |
| `agreement` | trained cycles                | the best label-free agreement (no gold score is read)        |

Each row is one evaluation: ``{"cycle": 1, "kind": "bi", "member": "m0", "dev": 81.2, ...}``; members are
``"model"`` (one-model runs), ``"m0"``, ``"m1"`` … and ``"ensemble"`` (mutual runs). Every member is
selected on its own dev score, as the reference does; the ensemble on the ensemble's.

Example::

    from tenc.selection import pick
    rows = [{"cycle": 0, "kind": "bi", "member": "model", "dev": 80.0},
            {"cycle": 1, "kind": "bi", "member": "model", "dev": 79.0}]
    pick(rows, "bi", "model", "dev")        # 1: the start is not a candidate
    pick(rows, "bi", "model", "dev+start")  # 0
"""

from __future__ import annotations

import math
import typing

RULES = ("dev", "dev+start", "last", "agreement")
DEV_RULES = ("dev", "dev+start")  # the rules that read a dev set (a task without one falls back to agreement)


def candidates(rows: list[dict], kind: str, member: str, rule: str) -> list[dict]:
    """The rows of ``kind`` and ``member`` that ``rule`` may pick from (cycle 0 only under ``dev+start``)."""
    if rule not in RULES:
        raise ValueError(f"unknown selection rule {rule!r}: use one of {', '.join(RULES)}")
    return [r for r in rows if r["kind"] == kind and r["member"] == member and (r["cycle"] > 0 or rule == "dev+start")]


def pick(
    rows: list[dict],
    kind: str,
    member: str,
    rule: str,
    agreement: typing.Callable[[int], float] | None = None,
    min_delta: float = 0.0,
) -> int | None:
    """The selected cycle, or None when ``rule`` has no candidate (e.g. no trained cycle yet).
    Ties go to the earlier cycle; a missing or non-finite dev score never wins. Under a dev rule a later cycle
    displaces the best so far only if its dev score is higher by more than ``min_delta`` (0: the paper's plain
    best; what a tolerance would have done to every committed run is `tenc.analysis.selection_tolerance`)."""
    rows = sorted(candidates(rows, kind, member, rule), key=lambda r: r["cycle"])
    if not rows:
        return None
    if rule == "last":
        return rows[-1]["cycle"]
    if rule == "agreement":
        if agreement is None:
            raise ValueError("rule 'agreement' needs an agreement(cycle) function")
        return max((r["cycle"] for r in rows), key=agreement)
    scored = [r for r in rows if r.get("dev") is not None and math.isfinite(float(r["dev"]))]
    if not scored:
        return None
    best = scored[0]
    for r in scored[1:]:
        if float(r["dev"]) > float(best["dev"]) + min_delta:
            best = r
    return best["cycle"]


def picks(rows: list[dict], rule: str, agreement=None) -> dict[str, dict[str, int]]:
    """``{kind: {member: cycle}}`` for every encoder type and member that has a candidate."""
    out: dict[str, dict[str, int]] = {}
    for kind in ("bi", "cross"):
        for member in dict.fromkeys(r["member"] for r in rows if r["kind"] == kind):
            cycle = pick(rows, kind, member, rule, agreement)
            if cycle is not None:
                out.setdefault(kind, {})[member] = cycle
    return out


def main_member(rows: list[dict], kind: str) -> str | None:
    """The member a run is reported by: its ensemble when it has one, else its one model."""
    members = list(dict.fromkeys(r["member"] for r in rows if r["kind"] == kind))
    if not members:
        return None
    return "ensemble" if "ensemble" in members else members[0]


def summarise(rows: list[dict], rule: str, agreement=None, has_dev: bool = True) -> tuple[dict, dict]:
    """``(selected, picks)`` of a run's evaluation rows: per encoder type, the cycle ``rule`` picks for the
    member the run is reported by (with every member's own pick), and both dev rules' picks side by side
    (the paper's, and the never-worse one in which the start competes)."""
    selected = {}
    for kind, members in picks(rows, rule, agreement).items():
        main = main_member(rows, kind)
        if main in members:
            row = next(r for r in rows if r["kind"] == kind and r["member"] == main and r["cycle"] == members[main])
            selected[kind] = {"cycle": members[main], "rule": rule, "row": row, "members": members}
    return selected, ({r: picks(rows, r) for r in DEV_RULES} if has_dev else {})
