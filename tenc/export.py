"""The models a run selected, at stable paths with a model card, and how to copy them out.

Every summarised run keeps its selected students under ``RUN/best/`` (hard links to the cycle folders,
so no extra disk):

| path               | what                                                                  |
|--------------------|-----------------------------------------------------------------------|
| `best/bi`          | the selected bi-encoder (`bi_0`, `bi_1` … for the members of a mutual run) |
| `best/cross`       | the selected cross-encoder (`cross_0`, …)                             |
| `mteb/<kind>/*.json` | its scores on the six sets MTEB shares, in MTEB's result format |
| `best/*/README.md` | its hub model card (YAML metadata, model-index); start, pool, settings, scores, the command |

Each folder loads with plain ``SentenceTransformer(path)`` / ``CrossEncoder(path)``.

Example::

    python -m tenc export runs/quick-minilm-l6 my-models            # my-models/bi, my-models/cross
    python -m tenc export runs/quick-minilm-l6 my-models --onnx     # + <model>/onnx/model.onnx
    python -m tenc export runs/quick-minilm-l6 my-models --push you/x  # the hub: you/x-bi, you/x-cross

ONNX: sentence-transformers exports through optimum-onnx, whose release (0.1.0) requires transformers < 4.58,
so it cannot be installed beside transformers 5; tenc exports with ``torch.onnx`` (the dynamo exporter,
batch and length dynamic) into the folder layout sentence-transformers' ONNX backend loads
(``SentenceTransformer(path, backend="onnx")`` where optimum is installed), and refuses a graph that ONNX
Runtime does not run like the torch model. The push is sentence-transformers' own ``push_to_hub`` of the
exported folder, card included (log in first: ``hf auth login``).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import warnings
from pathlib import Path

from . import models
from .cards import NOT_SCORES, write_card
from .config import DistillConfig
from .data import EVAL_SETS
from .io import atomic_dir, check_folder, link_or_copy, read_marker
from .runfolder import Layout, Selected, selected_students

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
    "label_history",
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
    tests = [t for t in row if t not in NOT_SCORES] or list(EVAL_SETS)
    scores = " | ".join(f"{row[s]:.2f}" if isinstance(row.get(s), (int, float)) else "" for s in (*tests, "avg"))
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

## Scores (x 100: Spearman for STS, ROC-AUC for binary tasks; "all" setting; scoring protocol: {protocol})

| dev | {" | ".join(tests)} | avg |
|---|{"---|" * (len(tests) + 1)}
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
    for kind, member, index, suffix, cycle, row in selected_students(summary):
        if cycle == 0:  # dev+start kept the start checkpoint
            source = Path(models.resolve(starts[index]))
        else:
            source = Layout(folder).student(cycle, kind, suffix)
        if not source.is_dir():
            continue
        with atomic_dir(Layout(folder).best_student(kind, suffix)) as tmp:
            shutil.copytree(source, tmp, copy_function=link_or_copy, dirs_exist_ok=True)
            text = model_card(
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
            name = params.get("name") or f"tenc {kind}-encoder"
            write_card(tmp, text, kind, row, config, summary.get("metrics", {}), name)
        out[f"{kind}{suffix}"] = str(source)
    return out


def export(run: str | Path, dest: str | Path, force: bool = False) -> list[Path]:
    """Copy ``run/best/*`` (plain copies, not links) into ``dest``; return the folders written. A folder whose
    results a reuse recorded exports the run it reused. Folders in ``dest`` that tenc did not write are
    refused unless ``force``."""
    from .runfolder import reused_from

    if not (Path(run) / "best").is_dir() and reused_from(Path(run)) is not None:
        run = reused_from(Path(run))
    best = Path(run) / "best"
    if not best.is_dir() or not any(best.iterdir()):
        raise FileNotFoundError(f"{best}: no selected models (is {run} a finished tenc run?)")
    sources = sorted(p for p in best.iterdir() if p.is_dir())
    summary = Layout(run).summary
    selected = selected_students(json.loads(summary.read_text())) if summary.is_file() else []
    for src in sources:
        check_selected(Path(run), src, selected)
    targets = [Path(dest) / src.name for src in sources]
    theirs = [str(t) for t in targets if t.exists() and not is_tenc_model(t)]
    if theirs and not force:
        raise FileExistsError(
            f"{', '.join(theirs)}: exist and are not tenc models; pick another DEST, move them, or pass --force "
            "to replace them"
        )
    with contextlib.ExitStack() as stack:  # every copy is made before any folder is replaced: all or none
        for src, target in zip(sources, targets, strict=True):
            shutil.copytree(src, stack.enter_context(atomic_dir(target)), dirs_exist_ok=True)
    return targets


def check_selected(run: Path, best: Path, selected: list[Selected]) -> None:
    """``best`` (``run/best/<kind><suffix>``) holds the files its training stage recorded, byte for byte
    (sha256; its card excepted, written for best/); else `CorruptRun` with the remedy. A start checkpoint
    kept by ``dev+start`` has no stage to check against."""
    cycle = next((s.cycle for s in selected if f"{s.kind}{s.suffix}" == best.name), 0)
    if not cycle:
        return
    stage = f"train_{best.name}"
    marker = read_marker(Layout(run).cycle(cycle), stage)
    if marker is not None and marker.get("files"):
        files = {k: v for k, v in marker["files"].items() if k != "README.md"}
        check_folder(best, files, Layout(run).marker(cycle, stage))


def is_tenc_model(folder: Path) -> bool:
    """A folder tenc wrote: its README.md is a card whose metadata tags it ``tenc``."""
    from huggingface_hub import metadata_load

    readme = folder / "README.md"
    try:
        return readme.is_file() and "tenc" in ((metadata_load(readme) or {}).get("tags") or [])
    except Exception:  # an unreadable card is not ours
        return False


def push(folders: list[Path], repo: str, private: bool = False) -> list[str]:
    """Upload each exported folder with sentence-transformers' own ``push_to_hub`` (its card kept as written):
    ``REPO-bi``, ``REPO-cross`` (``REPO-bi_0`` … for mutual runs). Needs a hub token (``hf auth login``)."""
    from sentence_transformers import CrossEncoder, SentenceTransformer

    urls = []
    for folder in folders:
        loader = CrossEncoder if folder.name.startswith("cross") else SentenceTransformer
        model = loader(str(folder), device="cpu")
        name = f"{repo}-{folder.name}"
        urls.append(model.push_to_hub(name, private=private, local_model_path=str(folder), exist_ok=True))
    return urls


PROBES = ["a man plays a guitar", "someone is playing music on a stage tonight", "ok"]


def export_onnx(folder: Path, tolerance: float = 1e-4) -> Path:
    """Write ``folder/onnx/model.onnx`` (the layout sentence-transformers' ONNX backend loads: inputs
    ``input_ids``, ``attention_mask``, ``token_type_ids``; output ``last_hidden_state`` for a bi-encoder,
    ``logits`` for a cross-encoder), with batch and length dynamic; refuse it unless ONNX Runtime reproduces
    the torch outputs on probe sentences of three lengths within ``tolerance``."""
    import numpy as np
    import onnxruntime
    import torch
    from sentence_transformers import CrossEncoder, SentenceTransformer

    cross = folder.name.startswith("cross")
    model = (CrossEncoder if cross else SentenceTransformer)(str(folder), device="cpu")
    backbone = (model.model if cross else model[0].auto_model).eval()
    output = "logits" if cross else "last_hidden_state"
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Graph(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out[output]

    def features(kind):
        probe = (PROBES, PROBES[::-1]) if cross else (PROBES,)
        enc = model.tokenizer(*probe, padding=True, return_tensors=kind, return_token_type_ids=True)
        return [enc[k] for k in names]

    target = folder / "onnx" / "model.onnx"
    target.parent.mkdir(exist_ok=True)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=512)
    graph = Graph(backbone).eval()
    with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        torch.onnx.export(
            graph,
            tuple(features("pt")),
            str(target),
            dynamo=True,
            input_names=names,
            output_names=[output],
            dynamic_shapes={k: {0: batch, 1: length} for k in names},
            verbose=False,
        )
        want = graph(*features("pt")).numpy()
    got = onnxruntime.InferenceSession(str(target)).run(None, dict(zip(names, features("np"), strict=True)))[0]
    diff = float(np.abs(got - want).max())
    if not diff <= tolerance:
        target.unlink()
        raise ValueError(f"{folder}: the ONNX graph differs from the torch model by {diff:.3g} (> {tolerance})")
    return target
