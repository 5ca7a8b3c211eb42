"""torchrun with 2 CPU processes (gloo) on the tiny model: same pseudo-labels as 1 process, trains, reports."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from sentence_transformers import CrossEncoder, SentenceTransformer

from tenc import distributed

ROOT = Path(__file__).resolve().parents[1]


def _distill(out, tiny_bert, fake_sts, nproc):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    cmd = launcher + [
        "-m",
        "tenc",
        "distill",
        "--preset",
        "smoke",
        "--quiet",
        "--out",
        str(out),
        "--set",
        f"start={tiny_bert}",
        "--set",
        f"data={fake_sts}",
        "--set",
        "threads=1",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def test_two_processes_label_like_one_and_train(tiny_bert, fake_sts, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _distill(one, tiny_bert, fake_sts, 1)
    res = _distill(two, tiny_bert, fake_sts, 2)
    assert res.stdout.count("selected:") == 1  # rank 0 alone reports
    marker = json.loads((two / "cycle_1" / "label_bi.done.json").read_text())
    assert marker["ranks"] == 2 and json.loads((one / "cycle_1" / "label_bi.done.json").read_text())["ranks"] == 1
    # the first labels come from the same start model: sharding and merging change nothing
    np.testing.assert_allclose(
        np.load(two / "cycle_1" / "labels_bi.npy"), np.load(one / "cycle_1" / "labels_bi.npy"), atol=1e-5
    )
    train = json.loads((two / "cycle_1" / "train_cross.done.json").read_text())
    assert train["ranks"] == 2 and train["train"]["steps"] > 0
    summary = json.loads((two / "summary.json").read_text())
    assert {(r["cycle"], r["kind"]) for r in summary["cycles"]} == {(0, "bi"), (1, "bi"), (1, "cross")}
    SentenceTransformer(str(two / "cycle_1" / "bi"), device="cpu")
    CrossEncoder(str(two / "cycle_1" / "cross"), device="cpu")


def test_the_trainer_path_refuses_torchrun_in_one_line(tiny_bert, fake_sts, tmp_path):
    """trainer=st under torchrun: DDP over a CrossEncoder fails inside the Trainer, so the run stops at its
    start, before any labelling, with a one-line reason instead of a DDP traceback."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd = launcher + [
        "-m",
        "tenc",
        "distill",
        "--preset",
        "smoke",
        "--quiet",
        "--out",
        str(tmp_path / "two"),
        "--set",
        f"start={tiny_bert}",
        "--set",
        f"data={fake_sts}",
        "--set",
        "threads=1",
        "--set",
        "trainer=st",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode != 0 and "under torchrun use trainer='tenc'" in res.stderr
    assert "marked as ready twice" not in res.stderr


def test_shards_cover_everything_once(monkeypatch):
    for world in (1, 2, 3, 7):
        monkeypatch.setattr(distributed, "world", lambda w=world: w)
        seen = []
        for r in range(world):
            monkeypatch.setattr(distributed, "rank", lambda r=r: r)
            seen += list(range(37))[distributed.shard(37)]
        assert seen == list(range(37))
