"""Hub model cards for the students a run selected: the hub's YAML metadata with a ``model-index`` of the
scores, tenc's own section (how the model was made, scores, settings), then the card sentence-transformers
wrote when it saved the model, kept as it was.

| metadata          | value                                                                            |
|-------------------|----------------------------------------------------------------------------------|
| `library_name`    | `sentence-transformers`                                                          |
| `pipeline_tag`    | `sentence-similarity` (bi) or `text-ranking` (cross), as sentence-transformers  |
| `base_model`      | the start model's hub id, for the packaged aliases (`minilm-l6`, `mpnet`, ...)  |
| `license`         | the start model's (apache-2.0 for the sentence-transformers models), else other |
| `datasets`        | the hub ids of the pool's and the scores' sets (MTEB's copies for STS)          |
| `tags`            | sentence-transformers' tags plus `tenc`, `trans-encoder`, `unsupervised`         |
| `model-index`     | one result per test set: Spearman x 100 (STS) or the task's metric (ROC-AUC)    |

Parsed back with ``huggingface_hub.ModelCard.load(path)`` (tested).
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .data import HUB_IDS as DATASETS  # the hub copies of the evaluation sets (MTEB's; SICK-R's split differs)

# hub ids of the packaged aliases, so a card names its base model as the hub knows it
MODEL_HUB_IDS = {
    "minilm-l6": "sentence-transformers/all-MiniLM-L6-v2",
    "minilm-l3": "sentence-transformers/paraphrase-MiniLM-L3-v2",
    "mpnet": "sentence-transformers/all-mpnet-base-v2",
}
LICENSES = {alias: "apache-2.0" for alias in MODEL_HUB_IDS}
PIPELINE = {"bi": "sentence-similarity", "cross": "text-ranking"}
NOT_SCORES = ("cycle", "kind", "member", "dev", "avg")


def metadata(kind: str, row: dict, config: dict, metrics: dict[str, str], name: str, old: ModelCardData | None):
    """The card's YAML: sentence-transformers' own keys kept, tenc's added, a model-index of ``row``'s scores."""
    start = config.get("start", "")
    data = ModelCardData(**(old.to_dict() if old is not None else {}))
    data.library_name = "sentence-transformers"
    data.pipeline_tag = PIPELINE[kind]
    if start in MODEL_HUB_IDS:
        data.base_model = MODEL_HUB_IDS[start]
    data.license = data.license or LICENSES.get(start, "other")
    tests = [t for t, v in row.items() if t not in NOT_SCORES and isinstance(v, (int, float))]
    data.datasets = sorted({DATASETS[t] for t in tests if t in DATASETS}) or None
    ours = ["sentence-transformers", "tenc", "trans-encoder", "unsupervised"]
    data.tags = list(dict.fromkeys([*(data.tags or []), *ours]))
    data.model_name = name
    data.eval_results = [
        EvalResult(
            task_type=PIPELINE[kind],
            dataset_type=DATASETS.get(t, t),
            dataset_name=t,
            dataset_split="test",
            metric_type=metrics.get(t, "spearman"),
            metric_name=f"{metrics.get(t, 'spearman')} x 100 ({'cosine' if kind == 'bi' else 'cross score'})",
            metric_value=float(row[t]),
        )
        for t in tests
    ] or None
    return data


def write_card(folder: Path, text: str, kind: str, row: dict, config: dict, metrics: dict[str, str], name: str) -> None:
    """``folder/README.md``: the hub metadata, tenc's section ``text``, then sentence-transformers' own card body.

    The old README.md is read first and the new one written in its place (never edited in place: it may be a
    hard link to a cycle folder's card)."""
    readme = folder / "README.md"
    old = ModelCard.load(readme) if readme.exists() else None
    data = metadata(kind, row, config, metrics, name, old.data if old is not None else None)
    body = text if old is None else f"{text}\n\n## The card sentence-transformers wrote\n\n{old.text.strip()}\n"
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
    if readme.exists():
        readme.unlink()
    card.save(readme)
