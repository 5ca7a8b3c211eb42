"""Priming: the symmetric loss pinned by hand, SimCSE / Mirror-BERT un-collapse a tiny model."""

import numpy as np
import pytest
import torch

from conftest import fixture_pairs
from tenc import models, prime


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
    cfg = prime.PrimeConfig(model=tiny_bert, method=method, steps=40, batch_size=16, lr=5e-3, span=2)
    stats = prime.train(cfg, model, sents, progress=False)
    assert stats["loss_last"] < stats["loss_first"]
    # a random tiny BERT's CLS vectors are all but identical (mean cosine ~ 1 - 5e-6); training must
    # at least double their spread 1 - cos
    assert 1 - prime.collapse(model, sents) > 2 * (1 - before)


def test_bad_prime_settings():
    from tenc.config import ConfigError

    with pytest.raises(ConfigError, match="method"):
        prime.PrimeConfig.from_dict({"method": "bert-flow"})
    with pytest.raises(ConfigError, match="unknown parameter 'step'"):
        prime.PrimeConfig.from_dict({"step": 3})
