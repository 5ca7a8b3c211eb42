"""The models a run selected, at stable paths with a model card, and how to copy them out.

Every summarised run keeps its selected students under ``RUN/best/`` (hard links to the cycle folders,
so no extra disk):

| path               | what                                                                  |
|--------------------|-----------------------------------------------------------------------|
| `best/bi`          | the selected bi-encoder (`bi_0`, `bi_1` … for the members of a mutual run) |
| `best/cross`       | the selected cross-encoder (`cross_0`, …)                             |
| `best/*/README.md` | its model card: start and init models, pool, settings, scores, the command |

Each folder loads with plain ``SentenceTransformer(path)`` / ``CrossEncoder(path)``.

Example::

    python -m tenc export runs/quick-minilm-l6 my-models   # my-models/bi, my-models/cross
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import models
from .config import DistillConfig
from .data import EVAL_SETS
from .io import atomic_dir, link_or_copy
from .runfolder import Layout

SETTINGS = (
    "task",
    "pool",
    "max_pairs",
    "cycles",
    "cross_epochs",
    "cross_lr",
    "cross_max_length",
    "bi_epochs",
    "bi_lr",
    "bi_max_length",
    "bi_loss",
    "cross_loss",
    "label_both_orders",
    "cross_orders",
    "selection",
    "cross_init_mode",
    "bi_init_mode",
    "teachers",
    "eval_steps",
    "patience",
    "seed",
)


def model_card(
    kind: str,
    source: str,
    cycle: int,
    member: str,
    row: dict,
    config: dict,
    params: dict,
    protocol: str,
    pool_pairs: int,
) -> str:
    """A README.md for a selected student: what it was made from, how, and how it scores."""
    start, init = config.get("start", ""), config.get("cross_init", "") or config.get("start", "")
    scores = " | ".join(f"{row[s]:.2f}" if isinstance(row.get(s), (int, float)) else "" for s in (*EVAL_SETS, "avg"))
    load = (
        'from sentence_transformers import SentenceTransformer\nmodel = SentenceTransformer("PATH")\n'
        'model.similarity(model.encode(["a man plays a guitar"]), model.encode(["someone plays music"]))'
        if kind == "bi"
        else 'from sentence_transformers import CrossEncoder\nmodel = CrossEncoder("PATH")\n'
        'model.predict([("a man plays a guitar", "someone plays music")])  # sigmoid score in [0, 1]'
    )
    settings = "\n".join(f"| `{k}` | {config[k]} |" for k in SETTINGS if k in config)
    return f"""# tenc {kind}-encoder: {params.get("name") or "a Trans-Encoder run"}

A {"bi-encoder (sentence embeddings, cosine)" if kind == "bi" else "cross-encoder (one score per sentence pair)"}
trained by tenc (Trans-Encoder: bi- and cross-encoders teaching each other on
unlabelled pairs, no human labels). Selected: cycle {cycle} ({"the start checkpoint" if cycle == 0 else "trained"}),
member `{member}`, by the `{config.get("selection", "dev")}` rule.

- start (bi-encoder) model: `{start}`; cross-encoder initialisation: `{init}`
- pool: task `{config.get("task", "sts")}`, {pool_pairs} unlabelled pairs ({config.get("pool", "")})
- copied from: `{source}`
- command: `{params.get("command") or "see the run folder"}`

## Scores (Spearman x 100, "all" setting; scoring protocol: {protocol})

| STS-B dev | {" | ".join(EVAL_SETS)} | avg |
|---|{"---|" * (len(EVAL_SETS) + 1)}
| {row.get("dev", "")} | {scores} |

## Settings

| setting | value |
|---|---|
{settings}

## Use

```python
{load}
```
"""


def publish_best(folder: str | Path, summary: dict, params: dict, protocol: dict) -> dict[str, str]:
    """Write ``folder/best/<kind><suffix>`` for every selected member; return {name: source folder}."""
    folder = Path(folder)
    config, out = summary["config"], {}
    starts = [m.start for m in DistillConfig.from_dict(config).members]
    for kind, sel in (summary.get("selected") or {}).items():
        members = {m: c for m, c in (sel.get("members") or {}).items() if m != "ensemble"}
        for member, cycle in members.items():
            index = 0 if member == "model" else int(member[1:])
            suffix = "" if member == "model" else f"_{index}"
            if cycle == 0:  # dev+start kept the start checkpoint
                source = Path(models.resolve(starts[index]))
            else:
                source = Layout(folder).student(cycle, kind, suffix)
            if not source.is_dir():
                continue
            row = next(
                (r for r in summary["cycles"] if r["kind"] == kind and r["member"] == member and r["cycle"] == cycle),
                {},
            )
            with atomic_dir(Layout(folder).best_student(kind, suffix)) as tmp:
                shutil.copytree(source, tmp, copy_function=link_or_copy, dirs_exist_ok=True)
                readme = tmp / "README.md"
                if readme.exists():
                    readme.unlink()  # a hard link to the cycle's own card: replace, never edit
                readme.write_text(
                    model_card(
                        kind,
                        str(source),
                        cycle,
                        member,
                        row,
                        config,
                        params,
                        protocol.get(kind, ""),
                        summary.get("pool_pairs", 0),
                    )
                )
            out[f"{kind}{suffix}"] = str(source)
    return out


def export(run: str | Path, dest: str | Path) -> list[Path]:
    """Copy ``run/best/*`` (plain copies, not links) into ``dest``; return the folders written."""
    best = Path(run) / "best"
    if not best.is_dir() or not any(best.iterdir()):
        raise FileNotFoundError(f"{best}: no selected models (is {run} a finished tenc run?)")
    written = []
    for src in sorted(p for p in best.iterdir() if p.is_dir()):
        target = Path(dest) / src.name
        with atomic_dir(target) as tmp:
            shutil.copytree(src, tmp, dirs_exist_ok=True)
        written.append(target)
    return written
