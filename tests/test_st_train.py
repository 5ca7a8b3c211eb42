"""The students on sentence-transformers' Trainers (`trainer="st"`): the same batches and maths as tenc's
own loop, dev checks with the best state kept, early stopping, mid-stage resume, and a whole run."""

import numpy as np
import pytest
import torch
from conftest import fixture_pairs

from tenc import distill, loop, models, st_callback, st_train, train
from tenc.config import ConfigError, DistillConfig


def _pairs(n=48):
    p = fixture_pairs(n)
    return [a for a, _, _ in p], [b for _, b, _ in p], np.array([s / 5 for _, _, s in p], dtype=np.float32)


def _no_dropout(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0  # the two loops draw dropout masks in different orders; without dropout the maths is the same
    return model


def _fit(loops, kind, tiny_bert, s1, s2, y, dropout=False, **kw):
    torch.manual_seed(0)
    if kind == "cross":
        model = models.cross_encoder(tiny_bert, max_length=32)
        model = model if dropout else _no_dropout(model)
        kw = {"epochs": 2, "batch_size": 8, "lr": 1e-3, "warmup": 0.0, "seed": 3, **kw}
        return model, loops.train_cross(model, s1, s2, y, progress=False, **kw)
    model = models.bi_encoder(tiny_bert, pooling="mean")
    model = model if dropout else _no_dropout(model)
    if kw.pop("dev", False):  # a dev score that falls as the weights move away from the start: best at the 1st check
        start = {k: v.clone() for k, v in model.state_dict().items()}
        kw.update(
            eval_steps=2, dev_fn=lambda: -sum(float((v - start[k]).abs().sum()) for k, v in model.state_dict().items())
        )
    kw = {"epochs": 2, "batch_size": 8, "lr": 1e-3, "seed": 3, **kw}
    return model, loops.train_bi(model, s1, s2, y, progress=False, **kw)


@pytest.mark.parametrize("kind", ["cross", "bi"])
def test_the_trainer_path_trains_the_same_batches_to_the_same_weights(tiny_bert, kind):
    s1, s2, y = _pairs()
    ref, ref_stats = _fit(train, kind, tiny_bert, s1, s2, y)
    got, stats = _fit(st_train, kind, tiny_bert, s1, s2, y)
    assert (stats.steps, stats.examples, stats.real_tokens) == (
        ref_stats.steps,
        ref_stats.examples,
        ref_stats.real_tokens,
    )
    assert len(stats.losses) == stats.steps and stats.losses[0] == pytest.approx(ref_stats.losses[0], rel=1e-4)
    moved = 0
    start = (
        models.cross_encoder(tiny_bert, max_length=32)
        if kind == "cross"
        else models.bi_encoder(tiny_bert, pooling="mean")
    ).state_dict()
    for (name, a), (_, b) in zip(ref.state_dict().items(), got.state_dict().items()):
        assert torch.allclose(a, b, atol=2e-5), name
        moved += not torch.equal(a, start[name])
    assert moved > 10  # the comparison is between trained weights, not two copies of the start


def test_trainer_path_keeps_the_best_dev_state_and_stops_on_a_plateau(tiny_bert):
    s1, s2, y = _pairs()
    bi = models.bi_encoder(tiny_bert, pooling="mean")
    scores = iter([50.0, 60.0, 59.0, 58.0, 70.0] + [0.0] * 100)
    states = []

    def dev():
        states.append({k: v.clone() for k, v in bi.state_dict().items()})
        return next(scores)

    stats = st_train.train_bi(
        bi, s1, s2, y, epochs=8, batch_size=8, lr=1e-3, progress=False, dev_fn=dev, eval_steps=2, patience=2
    )
    assert stats.dev == [(2, 50.0), (4, 60.0), (6, 59.0), (8, 58.0)] and stats.steps == 8
    assert stats.stopped_at == 8 and stats.best_step == 4
    assert all(torch.equal(v, states[1][k]) for k, v in bi.state_dict().items())


class _Interrupted(Exception):
    pass


def test_trainer_path_resumes_mid_stage_from_its_checkpoint(tiny_bert, tmp_path, monkeypatch):
    """Interrupt right after the checkpoint at step 7 of 12 (second epoch); the rerun resumes there and ends
    on the uninterrupted run's weights (the Trainer restores optimiser, schedule and RNG states; the dev
    history and the best state, kept at step 2, come back from tenc's part of the checkpoint)."""
    s1, s2, y = _pairs()
    ref, ref_stats = _fit(st_train, "bi", tiny_bert, s1, s2, y, dropout=True, dev=True)
    assert ref_stats.best_step == 2 and len(ref_stats.dev) == 6
    ckpt = loop.Checkpoint(tmp_path / "train_bi.ckpt", fingerprint="settings-a", minutes=1e-9)  # save every step
    on_save = st_callback.TencCallback.on_save

    def save_then_stop(self, args, state, control, **kw):
        on_save(self, args, state, control, **kw)
        if state.global_step == 7:
            raise _Interrupted

    monkeypatch.setattr(st_callback.TencCallback, "on_save", save_then_stop)
    with pytest.raises(_Interrupted):
        _fit(st_train, "bi", tiny_bert, s1, s2, y, dropout=True, dev=True, checkpoint=ckpt)
    monkeypatch.setattr(st_callback.TencCallback, "on_save", on_save)
    assert list((tmp_path / "train_bi.ckpt.trainer").glob("checkpoint-*"))
    got, stats = _fit(st_train, "bi", tiny_bert, s1, s2, y, dropout=True, dev=True, checkpoint=ckpt)
    assert stats.resumed_from == 7 and stats.steps == ref_stats.steps == 12
    assert np.allclose(stats.dev, ref_stats.dev, atol=1e-3) and stats.best_step == 2
    assert stats.losses[:7] == pytest.approx(ref_stats.losses[:7]) and len(stats.losses) == 12
    for (name, a), (_, b) in zip(ref.state_dict().items(), got.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-5), name
    assert not (tmp_path / "train_bi.ckpt.trainer").exists()  # a finished stage leaves no checkpoint behind


def test_a_run_on_the_trainers_end_to_end(tiny_bert, fake_sts, tmp_path):
    from sentence_transformers import CrossEncoder, SentenceTransformer

    cfg = DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, trainer="st", eval_steps=2)
    summary = distill.run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
    assert [(r["cycle"], r["kind"]) for r in summary["cycles"]] == [(0, "bi"), (1, "bi"), (1, "cross")]
    c1 = tmp_path / "run" / "cycle_1"
    info = distill.read_marker(c1, "train_cross")["train"]
    assert info["steps"] == 8 and info["dev"] and info["tokens_processed"] > 0  # 64 examples in batches of 8
    SentenceTransformer(str(c1 / "bi"), device="cpu").encode(["a man is eating ."])
    CrossEncoder(str(c1 / "cross"), device="cpu").predict([("a man", "a dog")])
    with pytest.raises(ConfigError, match="trainer"):
        DistillConfig.from_preset("smoke", trainer="hf")
