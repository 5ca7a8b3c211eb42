"""Priming: the symmetric loss pinned by hand, SimCSE / Mirror-BERT un-collapse a tiny model."""

import numpy as np
import pytest
import torch
from conftest import fixture_pairs

from tenc import models, prime
from tenc.config import PrimeConfig


def test_symmetric_infonce_matches_hand_computation():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    t = 0.5
    # cosines: a0.b0 = 1, a0.b1 = 1/sqrt2, a1.b0 = 0, a1.b1 = 1/sqrt2
    r = 1 / np.sqrt(2)
    sim = np.array([[1, r], [0, r]]) / t
    ce = lambda m: np.mean([-m[i, i] + np.log(np.exp(m[i]).sum()) for i in range(2)])
    expected = 0.5 * (ce(sim) + ce(sim.T))
    assert float(prime.symmetric_infonce(a, b, t)) == pytest.approx(expected, rel=1e-6)


def test_span_mask_keeps_specials():
    rng = np.random.default_rng(0)
    ids = [101, 5, 6, 7, 8, 9, 10, 102]
    out = prime.span_mask(ids, 3, 103, rng)
    assert out[0] == 101 and out[-1] == 102 and out.count(103) == 3 and len(out) == len(ids)
    assert prime.span_mask([101, 102], 5, 103, rng) == [101, 102]


@pytest.mark.parametrize("method", ["simcse", "mirror"])
def test_priming_spreads_a_collapsed_tiny_model(tiny_bert, method):
    sents = list(dict.fromkeys(s for p in fixture_pairs(64) for s in p[:2]))
    model = models.bi_encoder(tiny_bert, pooling="cls")
    before = prime.collapse(model, sents)
    cfg = PrimeConfig(model=tiny_bert, method=method, steps=40, batch_size=16, lr=5e-3, span=2)
    stats = prime.train(cfg, model, sents, progress=False)
    assert stats["loss_last"] < stats["loss_first"]
    # a random tiny BERT's CLS vectors are all but identical (mean cosine ~ 1 - 5e-6); training must
    # at least double their spread 1 - cos
    assert 1 - prime.collapse(model, sents) > 2 * (1 - before)


def test_bad_prime_settings():
    from tenc.config import ConfigError

    with pytest.raises(ConfigError, match="method"):
        PrimeConfig.from_dict({"method": "bert-flow"})
    with pytest.raises(ConfigError, match="unknown parameter 'step'"):
        PrimeConfig.from_dict({"step": 3})


def test_truncated_model_saves_and_loads_with_plain_sentence_transformers(tiny_bert, tmp_path):
    from sentence_transformers import SentenceTransformer

    full = models.bi_encoder(tiny_bert, pooling="mean")
    n = len(full[0].auto_model.encoder.layer)
    cut = models.bi_encoder(tiny_bert, pooling="mean", layers=1)
    assert n > 1 and len(cut[0].auto_model.encoder.layer) == 1
    cut.save(str(tmp_path / "cut"))
    again = SentenceTransformer(str(tmp_path / "cut"), device="cpu")
    assert again[0].auto_model.config.num_hidden_layers == 1
    text = ["a man is playing a guitar .", "two dogs run ."]
    assert torch.allclose(torch.as_tensor(again.encode(text)), torch.as_tensor(cut.encode(text)), atol=1e-6)
    assert not torch.allclose(torch.as_tensor(full.encode(text)), torch.as_tensor(cut.encode(text)), atol=1e-3)
    with pytest.raises(models.ModelError, match="layers must be between 1 and"):
        models.bi_encoder(tiny_bert, layers=n + 1)
