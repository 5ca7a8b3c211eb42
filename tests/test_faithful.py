"""Scored, labelled and selected as the paper does (PAPER.md): one-order cross scoring, the paper's
selection rule, deterministic cross-encoder heads, QNLI in one order, the reference's handover mode,
and devices other than the default one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import fixture_pairs

from tenc import distill, evaluation, models, selection, tasks
from tenc.config import DistillConfig

ROOT = Path(__file__).resolve().parents[1]


def _pairs(n=24):
    rows = fixture_pairs(n)
    return [a for a, _, _ in rows], [b for _, b, _ in rows], np.array([y for _, _, y in rows])


def test_cross_scoring_is_one_order_like_the_sentence_transformers_evaluator(tiny_bert):
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderCorrelationEvaluator

    s1, s2, gold = _pairs()
    ce = models.cross_encoder(tiny_bert, seed=1)
    with torch.no_grad():  # a random head scores every pair within 1e-5: spread them so ranks are not ties
        ce[0].auto_model.classifier.weight.mul_(300)
    scores = evaluation.score_pairs([ce], "cross", s1, s2)
    assert np.allclose(scores, ce.predict(list(zip(s1, s2))), rtol=1e-5, atol=0)
    theirs = CrossEncoderCorrelationEvaluator(list(zip(s1, s2)), gold.tolist(), name="t")(ce)
    assert evaluation.spearman(scores, gold) == pytest.approx(100 * theirs["t_spearman"], abs=1e-6)
    both = evaluation.score_pairs([ce], "cross", s1, s2, cross_orders="both")  # opt-in, named, and different
    assert not np.allclose(both, scores, rtol=1e-3, atol=0)
    assert evaluation.protocol("cross") == "one-order" and evaluation.protocol("cross", "both") == "two-order mean"
    with pytest.raises(ValueError, match="cross_orders"):
        evaluation.score_pairs([ce], "cross", s1, s2, cross_orders="2")


def test_new_cross_heads_come_from_the_seed_alone(tiny_bert):
    state = lambda m: {k: v.clone() for k, v in m[0].auto_model.state_dict().items()}
    a = state(models.cross_encoder(tiny_bert, seed=3))
    torch.manual_seed(999)
    torch.rand(100)  # whatever ran before in the process
    before = torch.get_rng_state()
    b = state(models.cross_encoder(tiny_bert, seed=3))
    assert torch.equal(before, torch.get_rng_state())  # the caller's RNG is untouched
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = state(models.cross_encoder(tiny_bert, seed=4))
    assert not torch.equal(a["classifier.weight"], c["classifier.weight"])


@pytest.mark.weights
def test_a_converted_model_is_byte_identical_in_two_fresh_processes(tmp_path):
    code = (
        "import hashlib, json, pathlib; from tenc import models; p = pathlib.Path(models.resolve('minilm-l3')); "
        "print(json.dumps({str(f.relative_to(p)): hashlib.sha256(f.read_bytes()).hexdigest() "
        "for f in sorted(p.rglob('*')) if f.is_file()}))"
    )
    digests = []
    for i in range(2):
        env = {**os.environ, "TENC_CACHE": str(tmp_path / f"cache{i}"), "HF_HUB_OFFLINE": "1"}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, timeout=600
        )
        assert out.returncode == 0, out.stderr[-2000:]
        digests.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert digests[0] == digests[1] and "model.safetensors" in digests[0]
    from safetensors import safe_open

    with safe_open(
        str(tmp_path / "cache0" / "models" / f"minilm-l3-v{models.CONVERSION_VERSION}" / "model.safetensors"), "pt"
    ) as f:
        assert not [k for k in f.keys() if "pooler" in k]  # nothing random is written into the cache


def test_selection_picks_trained_cycles_per_member():
    rows = [
        {"cycle": 0, "kind": "bi", "member": "m0", "dev": 90.0},
        {"cycle": 1, "kind": "bi", "member": "m0", "dev": 80.0},
        {"cycle": 2, "kind": "bi", "member": "m0", "dev": 85.0},
        {"cycle": 0, "kind": "bi", "member": "m1", "dev": 70.0},
        {"cycle": 1, "kind": "bi", "member": "m1", "dev": 88.0},
        {"cycle": 2, "kind": "bi", "member": "m1", "dev": 88.0},
        {"cycle": 1, "kind": "bi", "member": "ensemble", "dev": 86.0},
        {"cycle": 2, "kind": "bi", "member": "ensemble", "dev": float("nan")},
        {"cycle": 1, "kind": "cross", "member": "m0", "dev": 70.0},
    ]
    assert selection.pick(rows, "bi", "m0", "dev") == 2  # the paper: the start is no candidate
    assert selection.pick(rows, "bi", "m0", "dev+start") == 0  # never worse than the start on dev
    assert selection.pick(rows, "bi", "m1", "dev") == 1  # each member on its own dev; ties: earlier
    assert selection.pick(rows, "bi", "ensemble", "dev") == 1  # a NaN dev score never wins
    assert selection.pick(rows, "bi", "m0", "last") == 2
    assert selection.pick(rows, "bi", "m0", "agreement", agreement=lambda c: -c) == 1
    assert selection.picks(rows, "dev") == {"bi": {"m0": 2, "m1": 1, "ensemble": 1}, "cross": {"m0": 1}}
    assert selection.pick([r for r in rows if r["cycle"] == 0], "bi", "m0", "dev") is None
    assert selection.main_member(rows, "bi") == "ensemble" and selection.main_member(rows, "cross") == "m0"
    with pytest.raises(ValueError, match="unknown selection rule"):
        selection.pick(rows, "bi", "m0", "best")


def test_a_dev_tolerance_keeps_the_earlier_cycle_unless_dev_gains_more():
    rows = [{"cycle": c, "kind": "bi", "member": "m0", "dev": d} for c, d in ((1, 75.0), (2, 75.002), (3, 75.3))]
    assert selection.pick(rows, "bi", "m0", "dev") == 3
    assert selection.pick(rows[:2], "bi", "m0", "dev") == 2  # the plain rule: any gain moves the pick
    assert selection.pick(rows[:2], "bi", "m0", "dev", min_delta=0.01) == 1
    assert selection.pick(rows, "bi", "m0", "dev", min_delta=0.1) == 3  # 0.3 over cycle 1 is more than 0.1
    assert selection.pick(rows, "bi", "m0", "dev", min_delta=0.5) == 1


def test_a_run_reports_both_dev_picks_and_how_it_scored(tiny_bert, fake_sts, tmp_path):
    cfg = DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, cycles=2)
    assert not cfg.label_both_orders and cfg.cross_orders == "one"  # the paper's defaults
    summary = distill.run(cfg, tmp_path, progress=False, log=lambda *_: None)
    assert set(summary["picks"]) == {"dev", "dev+start"}
    assert summary["selected"]["bi"]["cycle"] in (1, 2) and summary["picks"]["dev"]["bi"]["model"] in (1, 2)
    doc = json.loads((tmp_path / "metrics.json").read_text())
    assert doc["protocol"] == {"bi": "cosine", "cross": "one-order"}
    assert set(doc["versions"]) == {"torch", "transformers", "sentence_transformers"}
    assert len(doc["commit"]) == 40 or doc["commit"] == "unknown"


def test_handover_passes_weights_across_architectures(tiny_bert, fake_sts, tmp_path):
    cfg = DistillConfig.from_preset(
        "smoke",
        start=tiny_bert,
        data=fake_sts,
        cycles=2,
        evaluate_test=False,
        cross_init_mode="handover",
        bi_init_mode="handover",
        pooling="mean",
    )
    distill.run(cfg, tmp_path, progress=False, log=lambda *_: None)
    init = lambda c, stage: json.loads((tmp_path / f"cycle_{c}" / f"{stage}.done.json").read_text())["init"]
    assert init(1, "train_cross") == tiny_bert  # cross(1) <- bi(0), the start
    assert init(1, "train_bi") == str(tmp_path / "cycle_1" / "cross")  # bi(c) <- cross(c)
    assert init(2, "train_cross") == str(tmp_path / "cycle_1" / "bi")  # cross(c) <- bi(c-1)
    assert init(2, "train_bi") == str(tmp_path / "cycle_2" / "cross")
    # the bi-encoder built from a cross-encoder holds that cross-encoder's backbone weights
    ce = models.cross_encoder(str(tmp_path / "cycle_1" / "cross"))
    bi = models.bi_encoder(str(tmp_path / "cycle_1" / "cross"), pooling="mean")
    w = "encoder.layer.0.attention.self.query.weight"
    assert torch.equal(ce[0].auto_model.base_model.state_dict()[w], bi[0].auto_model.state_dict()[w])
    # the old name of the continue mode is still read
    assert DistillConfig.from_dict({"bi_init_mode": "inherit"}).bi_init_mode == "continue"


def test_qnli_pools_every_pair_in_its_own_order(tmp_path):
    for split, rows in {
        "train": [("q one ?", "s one .", 1), ("q two ?", "s two .", 0)],
        "dev": [("q three ?", "s three .", 1), ("q four ?", "s four .", 0)],
        "test": [("q five ?", "s five .", 0), ("q six ?", "s six .", 1)],
    }.items():
        (tmp_path / f"{split}.tsv").write_text(
            "sentence1\tsentence2\tlabel\n" + "".join(f"{a}\t{b}\t{y}\n" for a, b, y in rows)
        )
    task = tasks.glue_task("qnli", tmp_path)
    assert len(task.pool) == 6 and not task.both_orders  # validation pairs pooled too
    assert task.pool["sentence1"].str.startswith("q").all()  # (question, sentence) kept


def test_losses_and_steps_follow_the_model_device_not_the_default(tiny_bert, fake_sts):
    """On a GPU the default device is the CPU and the model is not: every tensor a step makes must follow
    the model. Here the default device is 'meta' and the model stays on the CPU, the same mistake."""
    from tenc import losses, prime, train
    from tenc.config import PrimeConfig
    from tenc.encode import pair_cosines

    s1, s2, y = _pairs(16)
    bi = models.bi_encoder(tiny_bert, pooling="mean")
    ce, ce_host = models.cross_encoder(tiny_bert), models.cross_encoder(tiny_bert)
    cosines = pair_cosines(bi, s1, s2)
    train.train_cross(ce_host, s1, s2, (y / y.max()).astype(np.float32), epochs=1, batch_size=8, progress=False)
    cos = torch.rand(8)
    with torch.device("meta"):
        # index tensors made under the default device once read unallocated memory as targets: results must match
        np.testing.assert_array_equal(pair_cosines(bi, s1, s2), cosines)
        assert torch.isfinite(losses.cosent_loss(cos, torch.rand(8, device="cpu")))
        assert torch.isfinite(
            prime.symmetric_infonce(torch.randn(4, 8, device="cpu"), torch.randn(4, 8, device="cpu"), 0.05)
        )
        train.train_bi(bi, s1, s2, y.astype(np.float32), epochs=1, batch_size=8, loss="cosent", progress=False)
        train.train_cross(ce, s1, s2, (y / y.max()).astype(np.float32), epochs=1, batch_size=8, progress=False)
        for (name, a), b in zip(ce.model.named_parameters(), ce_host.model.parameters(), strict=True):
            assert torch.equal(a, b), f"{name}: trained differently under another default device"
        batch = prime.features([[2, 5, 3], [2, 3]], 0, False, "meta")  # batches go to the model's device
        assert {v.device.type for v in batch.values()} == {"meta"} and "token_type_ids" not in batch
        for method in ("simcse", "mirror"):
            cfg = PrimeConfig(model=tiny_bert, method=method, steps=2, batch_size=4, pooling="mean")
            stats = prime.train(cfg, bi, s1 + s2, progress=False)
            assert np.isfinite(stats["loss_last"])
