"""The ``distill`` and ``mutual`` commands: settings from a preset, a YAML and ``--set``, one run or one per
``--seeds``, rows into a results CSV. ``parse_sets`` reads ``--set KEY=VALUE`` for every command."""

from __future__ import annotations

import re
from pathlib import Path

from .scoreboard import summary_table, write_summary_rows

NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_sets(items: list[str]) -> dict:
    import yaml

    from .config import ConfigError

    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        try:
            parsed = yaml.safe_load(value) if value != "" else ""
        except yaml.YAMLError:
            raise ConfigError(
                f"--set {key.strip()}: {value!r} is not a value (quote text, e.g. {key.strip()}='...')"
            ) from None
        if isinstance(parsed, str) and NUMBER.fullmatch(parsed):  # YAML 1.1 reads "3e-5" as a string
            parsed = float(parsed)
        out[key.strip()] = parsed
    return out


def distill_config(args):
    """(settings, run folder) of a parsed ``distill`` or ``mutual`` command, checked, nothing run."""
    from .config import DistillConfig

    values = parse_sets(args.set)
    for key in ("task", "pairs", "dev", "task_data"):
        if getattr(args, key, None):
            values[key] = getattr(args, key)
    if getattr(args, "test", None):
        values["tests"] = ",".join(args.test)
    cfg = DistillConfig.from_sources(args.preset, args.config or "", **values)
    return cfg, Path(args.out or f"papermill_runs/distill/{args.preset}")


def cmd_distill(args) -> int:
    from . import distill, reuse

    cfg, out = distill_config(args)
    import shlex
    from dataclasses import replace

    from . import distributed
    from .scoreboard import seed_rows

    name = args.name or out.name
    seeds = seeds_arg(args.seeds) if getattr(args, "seeds", None) else None
    runs = (
        [(cfg, out, name)]
        if seeds is None
        else [(replace(cfg, seed=s), out / f"seed-{s}", f"{name}, seed {s}") for s in seeds]
    )
    for run_cfg, run_out, run_name in runs:  # --seeds: one run folder and one set of rows per seed
        tags = {"name": run_name, "command": "python -m tenc " + shlex.join(args.argv)}
        force = getattr(args, "force", False)
        if getattr(args, "reuse", False):
            summary = reuse.run_or_reuse(run_cfg, run_out, tags, progress=not args.quiet, force=force)
        else:
            summary = distill.run(run_cfg, run_out, progress=not args.quiet, tags=tags, force=force)
        if not distributed.is_main():  # under torchrun, rank 0 reports
            continue
        print(summary_table(summary))
        if args.results:
            write_summary_rows(summary, args.results, run_name)
    if seeds is not None and len(seeds) > 1 and distributed.is_main():
        table = seed_rows([r[1] for r in runs])
        for kind, rows in table.groupby("kind"):
            print(
                f"{kind}: selected {rows['selected'].mean():.2f} mean, sd {rows['selected'].std():.2f}; gain over the "
                f"start {rows['gain'].mean():+.2f} +- {rows['gain'].std():.2f} (n={len(rows)} seeds: {seeds})"
            )
    return 0


def seeds_arg(text: str) -> list[int]:
    """``--seeds 0,1,2`` -> [0, 1, 2]; anything else is a one-line error."""
    from .config import ConfigError

    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds takes comma-separated integers, e.g. 0,1,2; got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ConfigError(f"--seeds takes distinct non-negative integers, e.g. 0,1,2; got {text!r}")
    return seeds


def cmd_mutual(args) -> int:
    """Mutual distillation: ``distill`` with several members (labels = mean of the members' scores)."""
    mutual_sets(args)
    return cmd_distill(args)


def mutual_sets(args) -> None:
    """``mutual``'s own flags as the settings ``distill`` reads (start = the members, comma-separated)."""
    members = [m.strip() for m in args.members.split(",") if m.strip()]
    if len(members) < 2:
        from .config import ConfigError

        raise ConfigError("--members needs at least two models, comma-separated")
    args.set = (args.set or []) + [f"start={','.join(members)}"]
    if args.cross_init:
        args.set.append(f"cross_init={args.cross_init}")
    if args.parallel:
        args.set.append("parallel=true")
