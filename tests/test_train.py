"""Student training loops on the tiny model: losses fall, batches are length-bucketed, CoSENT is pinned."""

import numpy as np
import pytest
import torch
from conftest import fixture_pairs

from tenc import encode, loop, losses, models, train


def _pairs(n=48):
    p = fixture_pairs(n)
    return [a for a, _, _ in p], [b for _, b, _ in p], np.array([s / 5 for _, _, s in p], dtype=np.float32)


def test_cross_training_fits_soft_targets(tiny_bert):
    s1, s2, y = _pairs()
    ce = models.cross_encoder(tiny_bert, max_length=32)
    before = np.mean((encode.cross_scores(ce, s1, s2, both_orders=False) - y) ** 2)
    stats = train.train_cross(ce, s1, s2, y, epochs=10, batch_size=8, lr=5e-3, progress=False)
    after = np.mean((encode.cross_scores(ce, s1, s2, both_orders=False) - y) ** 2)
    assert after < before * 0.95  # measured: 0.147 -> 0.127 in 10 epochs
    assert np.mean(stats.losses[-10:]) < 0.95 * stats.losses[0]
    assert stats.examples == 10 * 2 * len(s1)  # both orders
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        train.train_cross(ce, s1, s2, y * 2, progress=False)


def test_bi_training_fits_cosines(tiny_bert):
    s1, s2, y = _pairs()
    bi = models.bi_encoder(tiny_bert, pooling="mean")  # a random tiny BERT's CLS vectors barely move
    err = lambda: np.mean((encode.pair_cosines(bi, s1, s2) - y) ** 2)
    before = err()
    stats = train.train_bi(bi, s1, s2, y, epochs=8, batch_size=8, lr=1e-3, progress=False)
    assert err() < before * 0.8
    assert 0 <= stats.padding < 0.5 and stats.summary()["tokens_processed"] > 0


def test_length_bucketing_cuts_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, 4000)
    batches = loop.length_bucketed_batches(lengths, 32, rng)
    assert sorted(np.concatenate(batches).tolist()) == list(range(4000))
    pad = lambda bs: 1 - sum(lengths[b].sum() for b in bs) / sum(lengths[b].max() * len(b) for b in bs)
    plain = [np.arange(i, min(i + 32, 4000)) for i in range(0, 4000, 32)]
    assert pad(batches) < 0.1 < pad(plain)


def test_cosent_matches_hand_computation():
    cos = torch.tensor([0.9, 0.1, 0.5])
    y = torch.tensor([1.0, 0.0, 0.5])
    # pairs with y_i > y_j: (0,1), (0,2), (2,1) -> terms exp(20 (cos_j - cos_i))
    terms = [np.exp(20 * (0.1 - 0.9)), np.exp(20 * (0.5 - 0.9)), np.exp(20 * (0.1 - 0.5))]
    assert float(losses.cosent_loss(cos, y)) == pytest.approx(np.log(1 + sum(terms)), rel=1e-4)


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("kind", ["cross", "bi"])
def test_mid_stage_checkpoint_resumes_to_the_uninterrupted_weights(tiny_bert, tmp_path, monkeypatch, kind):
    """Interrupt after step 7 of 12 (in the second epoch); resume from the checkpoint; same final weights."""
    s1, s2, y = _pairs(48)

    def fit(checkpoint=None):
        torch.manual_seed(0)
        if kind == "cross":
            model = models.cross_encoder(tiny_bert, max_length=32)
            stats = train.train_cross(
                model, s1, s2, y, epochs=2, batch_size=16, lr=1e-3, seed=3, progress=False, checkpoint=checkpoint
            )
            return model[0].auto_model, stats
        model = models.bi_encoder(tiny_bert, pooling="mean")
        stats = train.train_bi(
            model, s1, s2, y, epochs=2, batch_size=8, lr=1e-3, seed=3, progress=False, checkpoint=checkpoint
        )
        return model, stats

    reference, ref_stats = fit()
    ckpt = loop.Checkpoint(tmp_path / "stage.ckpt", fingerprint="settings-a", minutes=0)  # save every step
    save = loop.Checkpoint.save

    def save_then_stop(self, *args):
        save(self, *args)
        if args[3].steps == 7:
            raise _Interrupted

    monkeypatch.setattr(loop.Checkpoint, "save", save_then_stop)
    with pytest.raises(_Interrupted):
        fit(ckpt)
    monkeypatch.setattr(loop.Checkpoint, "save", save)
    assert loop.Checkpoint(ckpt.path, "other settings").load() is None  # a foreign checkpoint is ignored
    resumed, stats = fit(ckpt)
    assert stats.resumed_from == 7 and stats.steps == ref_stats.steps == 12
    assert stats.losses[:7] == ref_stats.losses[:7] and len(stats.losses) == 12
    for (name, a), (_, b) in zip(reference.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_a_torn_checkpoint_is_not_trusted(tmp_path):
    path = tmp_path / "stage.ckpt"
    path.write_bytes(b"\x80\x02 not a checkpoint")
    assert loop.Checkpoint(path, "x").load() is None


def test_gradient_accumulation_matches_the_full_batch_and_bf16_runs(tiny_bert):
    s1, s2, y = _pairs(32)

    def fit(**kw):
        torch.manual_seed(0)
        bi = models.bi_encoder(tiny_bert, pooling="mean")
        for m in bi.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0  # dropout draws differ with micro-batch shapes; without it the maths is the same
        stats = train.train_bi(bi, s1, s2, y, epochs=1, batch_size=16, lr=1e-3, progress=False, **kw)
        return bi, stats

    full, _ = fit()
    accum, stats = fit(grad_accum=4)
    assert stats.steps == 2
    for (name, a), (_, b) in zip(full.state_dict().items(), accum.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-5), name
    _, stats = fit(amp="bf16")
    assert np.isfinite(stats.losses).all()
    with pytest.raises(ValueError, match="CUDA"):
        fit(amp="fp16")


def test_early_stopping_ends_a_stage_on_a_dev_plateau_and_keeps_the_best_state(tiny_bert):
    s1, s2, y = _pairs()
    bi = models.bi_encoder(tiny_bert, pooling="mean")
    scores = iter([50.0, 60.0, 59.0, 58.0, 70.0] + [0.0] * 100)  # best at the 2nd check, then two worse ones
    states = []

    def dev():
        states.append({k: v.clone() for k, v in bi.state_dict().items()})
        return next(scores)

    stats = train.train_bi(
        bi, s1, s2, y, epochs=8, batch_size=8, lr=1e-3, progress=False, dev_fn=dev, eval_steps=2, patience=2
    )  # 48 steps without early stopping
    assert stats.dev == [(2, 50.0), (4, 60.0), (6, 59.0), (8, 58.0)] and stats.steps == 8
    assert stats.stopped_at == 8 and stats.best_step == 4 and stats.summary()["stopped_at_step"] == 8
    assert all(torch.equal(v, states[1][k]) for k, v in bi.state_dict().items())  # the weights dev saw at step 4
    full = train.train_bi(
        models.bi_encoder(tiny_bert, pooling="mean"),
        s1,
        s2,
        y,
        epochs=1,
        batch_size=8,
        lr=1e-3,
        progress=False,
        dev_fn=lambda: 1.0,
        eval_steps=2,
    )  # patience 0: every step trained
    assert full.steps == 6 and full.stopped_at is None


def test_min_delta_lets_early_stopping_ignore_gains_too_small_to_matter(tiny_bert):
    # a real cross-encoder dev curve (the mpnet-teacher adaptation run: 86.30 at step 1200, then +0.09 at most)
    curve = [
        (200, 78.61),
        (400, 84.04),
        (600, 84.65),
        (800, 85.04),
        (1000, 85.59),
        (1200, 86.30),
        (1400, 86.10),
        (1600, 86.34),
        (1800, 86.34),
        (2000, 86.38),
        (2200, 86.38),
        (2273, 86.38),
    ]
    assert [loop.checks_without_gain(curve[:n]) for n in (6, 7, 8, 12)] == [0, 1, 0, 2]  # strict: any gain counts
    assert [loop.checks_without_gain(curve[:n], 0.1) for n in (6, 7, 8, 9)] == [0, 1, 2, 3]  # patience 3 ends at 1800
    s1, s2, y = _pairs()
    bi = models.bi_encoder(tiny_bert, pooling="mean")
    scores = iter([50.0, 60.0, 60.05, 60.08] + [0.0] * 100)  # gains after the 2nd check are below 0.1

    stats = train.train_bi(
        bi,
        s1,
        s2,
        y,
        epochs=8,
        batch_size=8,
        lr=1e-3,
        progress=False,
        dev_fn=lambda: next(scores),
        eval_steps=2,
        patience=2,
        min_delta=0.1,
    )
    assert stats.stopped_at == 8 and stats.best_step == 8  # stopped on the plateau, kept the (marginally) best state


def test_random_batches_mix_lengths_that_bucketed_batches_keep_together():
    """bi_batches=random: the reference's order, every pair once an epoch, lengths mixed within a batch; the
    length-bucketed batches keep them close (the CoSENT question: which pairs a batch ranks together)."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=1280)
    bucketed = loop.batches_for("length", lengths, 128, np.random.default_rng(1))
    mixed = loop.batches_for("random", lengths, 128, np.random.default_rng(1))
    for batches in (bucketed, mixed):
        assert sorted(np.concatenate(batches).tolist()) == list(range(1280))
    spread = lambda bs: np.mean([np.ptp(lengths[b]) for b in bs])  # noqa: E731
    assert spread(bucketed) < 10 < 40 < spread(mixed)
    with pytest.raises(ValueError, match="unknown batching"):
        loop.batches_for("sorted", lengths, 128, rng)
