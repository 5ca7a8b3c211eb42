"""The loop on a tiny model: end to end, resumable after kill -9, locked, loadable by plain ST."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tenc import distill, labelling, reuse
from tenc.config import ConfigError, DistillConfig
from tenc.io import RunLocked, run_lock

ROOT = Path(__file__).resolve().parents[1]


def smoke_cfg(tiny_bert, fake_sts, **kw):
    return DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, **kw)


def _cycle_numbers(summary):
    return [(r["cycle"], r["kind"], r["member"], r["dev"], r.get("avg")) for r in summary["cycles"]]


def test_smoke_loop_end_to_end(tiny_bert, fake_sts, tmp_path):
    from sentence_transformers import CrossEncoder, SentenceTransformer

    cfg = smoke_cfg(tiny_bert, fake_sts, cycles=2, bi_init_mode="inherit", selection="agreement")
    summary = distill.run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
    kinds = [(r["cycle"], r["kind"]) for r in summary["cycles"]]
    assert kinds == [(0, "bi"), (1, "bi"), (1, "cross"), (2, "bi"), (2, "cross")]
    assert all(np.isfinite(r["avg"]) and -100 <= r["avg"] <= 100 for r in summary["cycles"])
    assert summary["selected"]["bi"]["rule"] == "agreement" and summary["selected"]["bi"]["cycle"] in (1, 2)
    c1 = tmp_path / "run" / "cycle_1"
    assert len(np.load(c1 / "labels_bi.npy")) == summary["pool_pairs"] == 32
    SentenceTransformer(str(c1 / "bi"), device="cpu").encode(["a man is eating ."])
    CrossEncoder(str(c1 / "cross"), device="cpu").predict([("a man", "a dog")])
    # a rerun finds every stage done and returns the same numbers without training
    again = distill.run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
    assert _cycle_numbers(again) == _cycle_numbers(summary)


def test_other_settings_in_the_same_folder_are_refused_once_a_cycle_stage_finished(tiny_bert, fake_sts, tmp_path):
    distill.Run(smoke_cfg(tiny_bert, fake_sts, evaluate_test=False), tmp_path, progress=False)
    # nothing of a cycle finished yet (a start that failed): the folder takes other settings
    distill.Run(smoke_cfg(tiny_bert, fake_sts, evaluate_test=False, seed=3), tmp_path, progress=False)
    assert json.loads((tmp_path / "config.json").read_text())["seed"] == 3
    distill.run(smoke_cfg(tiny_bert, fake_sts, evaluate_test=False, seed=3), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="other settings"):
        distill.Run(smoke_cfg(tiny_bert, fake_sts, evaluate_test=False), tmp_path, progress=False)


def test_more_cycles_extend_a_finished_run(tiny_bert, fake_sts, tmp_path):
    quiet = dict(progress=False, log=lambda *_: None)
    one = distill.run(smoke_cfg(tiny_bert, fake_sts), tmp_path, **quiet)
    markers = {p.name: p.read_text() for p in (tmp_path / "cycle_1").glob("*.done.json")}
    two = distill.run(smoke_cfg(tiny_bert, fake_sts, cycles=2), tmp_path, **quiet)
    assert {p.name: p.read_text() for p in (tmp_path / "cycle_1").glob("*.done.json")} == markers  # not redone
    assert _cycle_numbers(two)[:3] == _cycle_numbers(one) and {r["cycle"] for r in two["cycles"]} == {0, 1, 2}
    assert json.loads((tmp_path / "config.json").read_text())["cycles"] == 2


def test_cross_layers_cuts_the_fresh_cross_encoder(tiny_bert, fake_sts, tmp_path):
    from sentence_transformers import CrossEncoder

    distill.run(
        smoke_cfg(tiny_bert, fake_sts, cross_layers=1, evaluate_test=False),
        tmp_path,
        progress=False,
        log=lambda *_: None,
    )
    cross = CrossEncoder(str(tmp_path / "cycle_1" / "cross"), device="cpu")
    backbone = cross[0].auto_model.base_model
    assert cross[0].auto_model.config.num_hidden_layers == len(backbone.encoder.layer) == 1
    assert np.isfinite(cross.predict([("a man", "a dog")])).all()


def test_an_ablation_value_equal_to_a_finished_run_reuses_it(tiny_bert, fake_sts, tmp_path):
    from tenc import tables
    from tenc.config import ablation_overrides

    quiet = dict(progress=False, log=lambda *_: None)
    for name, value in (("cycles", "1"), ("cross_loss", "bce"), ("cross_loss", "mse")):
        cfg = smoke_cfg(tiny_bert, fake_sts, **ablation_overrides(name, value))
        reuse.run_or_reuse(
            cfg, tmp_path / f"{name}={value}", {"name": f"{name}={value}", "ablation": name, "value": value}, **quiet
        )
    assert (tmp_path / "cycles=1" / "cycle_1").is_dir() and (tmp_path / "cross_loss=mse" / "cycle_1").is_dir()
    assert not (tmp_path / "cross_loss=bce" / "cycle_1").exists()  # same settings as cycles=1: not retrained
    t = tables.ablation_tables(tables.collect(tmp_path))
    assert list(t["cross_loss"]["value"]) == ["bce", "mse"] and list(t["cycles"]["value"]) == ["1"]
    bce, one = t["cross_loss"].iloc[0], t["cycles"].iloc[0]
    assert bce["last bi"] == one["last bi"] and bce["last cross"] == one["last cross"]


def test_more_cycles_in_a_sibling_folder_train_only_the_new_cycles(tiny_bert, fake_sts, tmp_path):
    quiet = dict(progress=False, log=lambda *_: None)
    cfg = smoke_cfg(tiny_bert, fake_sts, evaluate_test=False)
    one = reuse.run_or_reuse(cfg, tmp_path / "cycles=1", {"name": "cycles=1"}, **quiet)
    lines = []
    two = reuse.run_or_reuse(
        smoke_cfg(tiny_bert, fake_sts, evaluate_test=False, cycles=2),
        tmp_path / "cycles=2",
        {"name": "cycles=2"},
        progress=False,
        log=lines.append,
    )
    assert "cycles 1-1 taken from the run" in lines[0]
    assert not any(line.startswith("cycle 1:") and " done in " in line for line in lines)
    assert any(" done in " in line for line in lines)
    donor, mine = tmp_path / "cycles=1" / "cycle_1", tmp_path / "cycles=2" / "cycle_1"
    assert (mine / "train_cross.done.json").read_text() == (donor / "train_cross.done.json").read_text()
    assert _cycle_numbers(two)[:3] == _cycle_numbers(one) and {r["cycle"] for r in two["cycles"]} == {0, 1, 2}
    assert json.loads((tmp_path / "cycles=1" / "config.json").read_text())["cycles"] == 1  # the donor is untouched
    # the other way round: with only the 2-cycle run beside it, cycles=1 takes its first cycle, training nothing
    shutil.rmtree(tmp_path / "cycles=1")
    reuse.seed_cycles(tmp_path / "cycles=1", tmp_path / "cycles=2", 1)  # a seeding interrupted just before
    (tmp_path / "cycles=1" / "config.json").unlink()  # its last file: seeded again
    lines = []
    again = reuse.run_or_reuse(cfg, tmp_path / "cycles=1", {"name": "cycles=1"}, progress=False, log=lines.append)
    assert "cycles 1-1 taken from the run" in lines[0] and not any(" done in " in line for line in lines)
    assert _cycle_numbers(again) == _cycle_numbers(one)


def test_a_sibling_with_other_bi_or_init_settings_lends_what_they_share(tiny_bert, fake_sts, tmp_path):
    quiet = dict(progress=False, log=lambda *_: None)
    base = reuse.run_or_reuse(smoke_cfg(tiny_bert, fake_sts), tmp_path / "base", {"name": "base"}, **quiet)
    donor = tmp_path / "base" / "cycle_1"
    # another bi loss: cycle 1's bi labels, cross-encoder, its evaluation and labels are the donor's
    lines = []
    cosent = reuse.run_or_reuse(
        smoke_cfg(tiny_bert, fake_sts, bi_loss="cosent"),
        tmp_path / "cosent",
        {"name": "cosent"},
        progress=False,
        log=lines.append,
    )
    assert "cycle 1 up to its bi student taken from the run" in lines[0]
    assert [line.split(":")[1].split()[0] for line in lines if " done in " in line] == ["train_bi"]
    mine = tmp_path / "cosent" / "cycle_1"
    for name in ("label_bi", "train_cross", "eval_cross", "label_cross"):
        assert (mine / f"{name}.done.json").read_text() == (donor / f"{name}.done.json").read_text()
    assert (mine / "train_bi.done.json").read_text() != (donor / "train_bi.done.json").read_text()
    assert json.loads((tmp_path / "cosent" / "config.json").read_text())["bi_loss"] == "cosent"
    rows = {run: {(r["cycle"], r["kind"]): r["avg"] for r in s["cycles"]} for run, s in (("b", base), ("c", cosent))}
    assert rows["b"][(1, "cross")] == rows["c"][(1, "cross")] and rows["b"][(0, "bi")] == rows["c"][(0, "bi")]
    # other init modes first act in cycle 2: the whole of cycle 1 is lent (by the base run, which lends most),
    # judged by its stage markers (summary.json and metrics.json gone) and found in another search folder
    for name in ("summary.json", "metrics.json"):
        (tmp_path / "base" / name).unlink()
    lines = []
    reuse.run_or_reuse(
        smoke_cfg(tiny_bert, fake_sts, cycles=2, cross_init_mode="inherit", bi_init_mode="inherit"),
        tmp_path / "abl" / "inherit",
        {"name": "inherit"},
        search=[tmp_path / "abl", tmp_path],
        progress=False,
        log=lines.append,
    )
    assert f"cycles 1-1 taken from the run {tmp_path / 'base'}" in lines[0]
    assert {line.split(":")[0] for line in lines if " done in " in line} == {"cycle 2"}
    marker = json.loads((tmp_path / "abl" / "inherit" / "cycle_2" / "train_cross.done.json").read_text())
    assert marker["init"] == str(tmp_path / "abl" / "inherit" / "cycle_1" / "cross")  # inherited, not fresh
    # a sibling with other settings lends nothing
    assert not reuse.finished_siblings(smoke_cfg(tiny_bert, fake_sts, seed=3), tmp_path)


def test_label_history_mean_trains_cycle_2_on_the_mean_of_every_cycle_s_labels(
    tiny_bert, fake_sts, tmp_path, monkeypatch
):
    from tenc import train

    quiet = dict(progress=False, log=lambda *_: None)
    reuse.run_or_reuse(smoke_cfg(tiny_bert, fake_sts, evaluate_test=False), tmp_path / "base", {"name": "b"}, **quiet)
    seen, real = {}, {"bi": train.train_bi, "cross": train.train_cross}
    for kind in ("bi", "cross"):

        def spy(model, s1, s2, targets, *args, _kind=kind, **kw):
            seen[_kind] = np.array(targets)
            return real[_kind](model, s1, s2, targets, *args, **kw)

        monkeypatch.setattr(train, f"train_{kind}", spy)
    cfg = smoke_cfg(tiny_bert, fake_sts, cycles=2, label_history="mean", evaluate_test=False)
    lines = []
    reuse.run_or_reuse(cfg, tmp_path / "mean", {"name": "mean"}, progress=False, log=lines.append)
    # the history first acts in cycle 2: cycle 1 is the plain run's, lent whole
    assert f"cycles 1-1 taken from the run {tmp_path / 'base'}" in lines[0]
    labels = lambda c, source: np.load(tmp_path / "mean" / f"cycle_{c}" / f"labels_{source}.npy")
    assert not np.allclose(labels(1, "cross"), labels(2, "cross"))  # the two cycles' teachers differ
    assert np.allclose(seen["bi"], (labels(1, "cross") + labels(2, "cross")) / 2)
    mean_bi = (labels(1, "bi") + labels(2, "bi")) / 2
    assert np.allclose(seen["cross"], labelling.to_unit(mean_bi, cfg.target_map))
    with pytest.raises(ConfigError, match="label_history"):
        smoke_cfg(tiny_bert, fake_sts, label_history="ema")


def test_lock_refuses_a_second_process_and_takes_over_a_stale_one(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(RunLocked, match="in use by process"):
            with run_lock(tmp_path):
                pass
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text(str(dead.pid))  # stale lock of a dead process (the older, bare-pid form)
    with run_lock(tmp_path):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    # a dead holder whose pid now belongs to another live process (pid reuse): its start time differs
    lock = {"pid": os.getpid(), "host": socket.gethostname(), "started": "1"}
    (tmp_path / ".lock").write_text(json.dumps(lock))
    with run_lock(tmp_path):
        assert json.loads((tmp_path / ".lock").read_text())["started"] != "1"
    # a holder on another host sharing the folder cannot be checked from here: refused, naming the host
    (tmp_path / ".lock").write_text(json.dumps({**lock, "host": "another-node"}))
    with pytest.raises(RunLocked, match=f"in use by process {os.getpid()} on another-node"):
        with run_lock(tmp_path):
            pass


def test_corrupted_labels_and_weights_are_detected_and_the_remedy_works(tiny_bert, fake_sts, tmp_path):
    from tenc.io import CorruptRun

    cfg = smoke_cfg(tiny_bert, fake_sts, evaluate_test=False)
    distill.run(cfg, tmp_path, progress=False, log=lambda *_: None)
    labels = tmp_path / "cycle_1" / "labels_bi.npy"
    raw = bytearray(labels.read_bytes())
    raw[-1] ^= 0xFF
    labels.write_bytes(bytes(raw))
    with pytest.raises(CorruptRun, match="labels_bi.npy: checksum mismatch.*rm -r .*label_bi.done.json"):
        distill.Run(cfg, tmp_path, progress=False).labels.bi(1)
    weights = tmp_path / "cycle_1" / "bi" / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit, same size: only a content hash sees it
    weights.write_bytes(bytes(raw))
    with pytest.raises(CorruptRun, match=r"bi/model.safetensors: content differs from its marker"):
        distill.Run(cfg, tmp_path, progress=False).students.bi_path(1, 0)
    # the CLI says it in one line, with the command that fixes it; running that command fixes it
    cli = [
        sys.executable,
        "-m",
        "tenc",
        "distill",
        "--preset",
        "smoke",
        "--quiet",
        "--out",
        str(tmp_path),
        "--set",
        f"start={tiny_bert}",
        "--set",
        f"data={fake_sts}",
        "--set",
        "evaluate_test=false",
    ]
    for broken in ("labels_bi.npy", "model.safetensors"):  # one message per broken stage, in the order they run
        failed = subprocess.run(cli, capture_output=True, text=True, cwd=ROOT)
        assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1, failed.stderr[-2000:]
        assert broken in failed.stderr
        fix = failed.stderr.split("rm -r ", 1)[1].split(" and rerun")[0]
        subprocess.run(f"rm -r {fix}", shell=True, check=True)
    again = subprocess.run(cli, capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-2000:]


def _cli(out, tiny_bert, fake_sts):
    return [
        sys.executable,
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
        "cycles=1",
    ]


@pytest.fixture(scope="module")
def reference_run(tiny_bert, fake_sts, tmp_path_factory):
    """One uninterrupted CLI run, shared by the kill tests."""
    out = tmp_path_factory.mktemp("ref") / "run"
    ref = subprocess.run(_cli(out, tiny_bert, fake_sts), env=_env(), capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr[-2000:]
    return json.loads((out / "summary.json").read_text())


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _same_summary(a, b):
    assert len(b["cycles"]) == len(a["cycles"])
    for ra, rb in zip(a["cycles"], b["cycles"]):
        assert ra["cycle"] == rb["cycle"] and ra["kind"] == rb["kind"]
        # same seed, same machine: identical up to float noise in the last printed digit
        assert ra["avg"] == pytest.approx(rb["avg"], abs=1e-3) and ra["dev"] == pytest.approx(rb["dev"], abs=1e-3)


# kill -9 as each next stage starts (the process kills itself right after a stage's marker, so the kill never
# lands after the run has finished, however fast the machine): before cross training, cross labelling, bi
# training and the bi evaluation. (The summary is one atomic write; tests/test_io.py covers torn writes.)
@pytest.mark.parametrize("kill_after", ["label_bi", "train_cross", "label_cross", "train_bi"])
def test_kill_9_then_rerun_gives_the_uninterrupted_result(tiny_bert, fake_sts, tmp_path, kill_after, reference_run):
    out = tmp_path / "killed"  # the process kills itself (SIGKILL) right after the stage's marker is written
    first = subprocess.run(_cli(out, tiny_bert, fake_sts), env={**_env(), "TENC_KILL_AFTER_MARKER": kill_after})
    assert first.returncode == -signal.SIGKILL and (out / "cycle_1" / f"{kill_after}.done.json").is_file()
    assert not (out / "summary.json").exists()
    again = subprocess.run(_cli(out, tiny_bert, fake_sts), env=_env(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    _same_summary(reference_run, json.loads((out / "summary.json").read_text()))


@pytest.mark.parametrize("stage", ["train_cross", "train_bi"])
def test_kill_9_inside_a_training_stage_resumes_mid_stage(tiny_bert, fake_sts, tmp_path, stage, reference_run):
    """The process kills itself (SIGKILL) right after its 3rd mid-stage checkpoint; the rerun resumes at step 3."""
    out = tmp_path / "killed"
    cmd = _cli(out, tiny_bert, fake_sts) + ["--set", "checkpoint_minutes=1e-9"]  # checkpoint every step
    first = subprocess.run(cmd, env={**_env(), "TENC_KILL_AFTER_SAVE": f"{stage}.ckpt:3"}, capture_output=True)
    assert first.returncode == -signal.SIGKILL
    assert (out / "cycle_1" / f"{stage}.ckpt").is_file() and not (out / "cycle_1" / f"{stage}.done.json").exists()
    again = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    done = json.loads((out / "cycle_1" / f"{stage}.done.json").read_text())
    assert done["train"]["resumed_from_step"] == 3 and not (out / "cycle_1" / f"{stage}.ckpt").exists()
    _same_summary(reference_run, json.loads((out / "summary.json").read_text()))


def test_second_process_on_a_busy_run_folder_is_refused(tiny_bert, fake_sts, tmp_path):
    out = tmp_path / "busy"
    with run_lock(out):
        res = subprocess.run(_cli(out, tiny_bert, fake_sts), env=_env(), capture_output=True, text=True)
    assert res.returncode == 2 and "in use by process" in res.stderr and len(res.stderr.splitlines()) == 1


def test_targets_outside_unit_interval():
    cos = np.array([-0.2, 0.3, 1.0])
    assert labelling.to_unit(cos, "clip").tolist() == pytest.approx([0.0, 0.3, 1.0])
    assert labelling.to_unit(cos, "minmax").tolist() == pytest.approx([0.0, 0.5 / 1.2, 1.0])
    squeezed = np.array([0.97, 0.91, 0.99, 0.91, 0.2])  # the order alone, ties share a rank
    assert labelling.to_unit(squeezed, "rank").tolist() == pytest.approx([0.75, 0.375, 1.0, 0.375, 0.0])
    with pytest.raises(ConfigError, match="rank"):
        labelling.to_unit(cos, "percentile")
