"""The research scripts in tools/ run end to end on a tiny model and write the rows they promise."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import fixture_pairs

ROOT = Path(__file__).resolve().parents[1]


def run_tool(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_layer_scan_scores_every_cut(tiny_bert, fake_sts, tmp_path):
    out = tmp_path / "scan.csv"
    run_tool("tools/layer_scan.py", "--model", tiny_bert, "--data", fake_sts, "--out", str(out))
    df = pd.read_csv(out)
    assert df["layers"].tolist() == [1, 2]  # the tiny BERT has two layers
    assert df["stsb_dev"].between(-100, 100).all()


def test_cross_probe_keeps_one_row_per_grid_point(tiny_bert, fake_sts, tmp_path):
    run = tmp_path / "run"
    (run / "cycle_1").mkdir(parents=True)
    pairs = fixture_pairs(24)
    pd.DataFrame({"sentence1": [a for a, _, _ in pairs], "sentence2": [b for _, b, _ in pairs]}).to_csv(
        run / "pool.tsv", sep="\t", index=False
    )
    np.save(run / "cycle_1" / "labels_bi.npy", np.array([s for _, _, s in pairs], dtype=np.float32) * 2 - 1)
    out = tmp_path / "probe.csv"
    run_tool(
        "tools/cross_probe.py",
        "--run",
        str(run),
        "--init",
        tiny_bert,
        "--pairs",
        "16",
        "--grid",
        "1:1e-4",
        "2:1e-4",
        "--batch-size",
        "8",
        "--data",
        fake_sts,
        "--out",
        str(out),
    )
    df = pd.read_csv(out)
    assert list(zip(df["layers"], df["lr"])) == [(1, 1e-4), (2, 1e-4)]
    assert (df["pairs"] == 16).all()
    assert all(math.isfinite(x) for x in df["stsb_dev"]) and all(math.isfinite(x) for x in df["loss_last"])


def test_cross_probe_refuses_labels_of_another_pool(tiny_bert, fake_sts, tmp_path):
    run = tmp_path / "run"
    (run / "cycle_1").mkdir(parents=True)
    pd.DataFrame({"sentence1": ["a b", "c d"], "sentence2": ["b a", "d c"]}).to_csv(
        run / "pool.tsv", sep="\t", index=False
    )
    np.save(run / "cycle_1" / "labels_bi.npy", np.zeros(3, dtype=np.float32))
    done = run_tool(
        "tools/cross_probe.py",
        "--run",
        str(run),
        "--init",
        tiny_bert,
        "--data",
        fake_sts,
        "--out",
        str(tmp_path / "x.csv"),
        ok=False,
    )
    assert done.returncode != 0 and "3 labels for 2 pool pairs" in done.stderr


def test_cycle_time_counts_every_stage_and_its_floor(tiny_bert, fake_sts, tmp_path):
    from tenc import distill
    from tenc.config import DistillConfig

    run = tmp_path / "run"
    distill.run(
        DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts), run, progress=False, log=lambda *_: None
    )
    # Pin every stage's time: the rates are then plain arithmetic, whatever the machine was doing.
    # label_bi at 0.0 s is what an idle machine can record for a tiny stage: no rate, no crash.
    pinned = {
        "label_bi": 0.0,
        "train_cross": 4.0,
        "eval_cross": 1.0,
        "label_cross": 2.0,
        "train_bi": 8.0,
        "eval_bi": 1.0,
    }
    for stage, seconds in pinned.items():
        marker = run / "cycle_1" / f"{stage}.done.json"
        doc = json.loads(marker.read_text())
        if stage.startswith("train"):
            doc["train"]["seconds"] = seconds
        else:
            doc["seconds"] = seconds
        marker.write_text(json.dumps(doc))
    out = tmp_path / "cycle_time.csv"
    for _ in range(2):  # a rerun replaces the run's rows
        run_tool("benchmarks/cycle_time.py", "--run", str(run), "--peak", "0.01", "--csv", str(out))
    df = pd.read_csv(out).set_index("stage")
    assert list(df.index) == list(pinned)
    assert (df["seconds"] == pd.Series(pinned)).all()
    assert (df.loc[["label_bi", "train_cross", "label_cross", "train_bi"], "tokens"] > 0).all()
    assert (df.loc[["eval_cross", "eval_bi"], "tokens"] == 0).all()
    assert math.isnan(df.loc["label_bi", "tokens_per_second"]) and math.isnan(df.loc["label_bi", "gflop_per_second"])
    timed = df.loc[["train_cross", "label_cross", "train_bi"]]
    assert np.allclose(timed["tokens_per_second"], timed["tokens"] / timed["seconds"], rtol=1e-3)
    assert np.allclose(timed["gflop_per_second"], timed["gflop"] / timed["seconds"], rtol=1e-3)
    assert (timed["gflop_per_second"] > 0).all()  # 4 significant digits: a tiny model's rate is not 0.0
    work = df[df["tokens"] > 0]  # the floor is the stage's FLOPs at 0.01 GFLOP/s
    assert (work["gflop"] > 0).all() and np.allclose(work["floor_seconds"], work["gflop"] / 0.01, rtol=1e-3)
    missing = run_tool("benchmarks/cycle_time.py", "--run", str(tmp_path), ok=False)
    assert missing.returncode != 0 and "stages not finished" in missing.stderr


def test_selection_check_sets_agreement_and_dev_against_the_test_oracle(tiny_bert, fake_sts, tmp_path):
    from tenc import distill
    from tenc.config import DistillConfig

    distill.run(
        DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, cycles=2),
        tmp_path / "run",
        progress=False,
        log=lambda *_: None,
    )
    out = tmp_path / "selection.csv"
    done = run_tool("tools/selection_check.py", str(tmp_path / "run"), "--out", str(out))
    df = pd.read_csv(out)
    assert df["kind"].tolist() == ["bi", "cross"] and (df["cycles"] == 2).all()
    for rule in ("dev", "agreement", "oracle"):
        assert df[f"{rule}_cycle"].isin([1, 2]).all()
    assert (df["last_cycle"] == 2).all()  # the baseline: the final cycle
    assert (df["dev_loss"] >= 0).all() and (df["agreement_loss"] >= 0).all()
    assert ((df["oracle_test"] - df["agreement_test"]).round(2) == df["agreement_loss"]).all()
    assert (tmp_path / "run" / "cycle_2" / "agreement.done.json").is_file()  # kept for the next look
    assert "agreement: picks the oracle's cycle in" in done.stdout


def test_label_quality_scores_each_cycles_labels_against_the_pools_gold(tiny_bert, fake_sts, tmp_path):
    from scipy.stats import spearmanr

    from tenc import data, distill
    from tenc.config import DistillConfig
    from tenc.data import _pair_keys
    from tenc.runfolder import read_pool

    distill.run(
        DistillConfig.from_preset(
            "smoke", start=tiny_bert, data=fake_sts, max_pairs=0, cycles=2, label_history="mean", evaluate_test=False
        ),
        tmp_path / "run",
        progress=False,
        log=lambda *_: None,
    )
    out = tmp_path / "quality.csv"
    run_tool("tools/label_quality.py", str(tmp_path / "run"), "--data", fake_sts, "--out", str(out))
    df = pd.read_csv(out)
    # cycle 2 of a label_history=mean run: each label set, then the mean over cycles 1-2 its students learned
    assert df[["cycle", "labels"]].values.tolist() == [
        [1, "label_bi"],
        [1, "label_cross"],
        [2, "label_bi"],
        [2, "label_bi mean 1-2"],
        [2, "label_cross"],
        [2, "label_cross mean 1-2"],
    ]
    both = [np.load(tmp_path / "run" / f"cycle_{c}" / "labels_cross.npy") for c in (1, 2)]
    assert math.isclose(df.loc[5, "sd"], round(float(np.mean(both, axis=0).std()), 3), abs_tol=1e-3)
    # recomputed by hand for one set: the labels of the pool pairs that STS12's test pairs are
    sts = data.load_sts(fake_sts)
    gold = data.eval_sets(sts)["STS12"]
    pool = read_pool(tmp_path / "run")
    at = {k: i for i, k in reversed(list(enumerate(_pair_keys(pool))))}
    labels = np.load(tmp_path / "run" / "cycle_1" / "labels_bi.npy")[[at[k] for k in _pair_keys(gold)]]
    assert math.isclose(df.loc[0, "STS12"], round(100 * spearmanr(labels, gold["score"]).statistic, 2), abs_tol=0.01)
    assert df.loc[0, "STS12 pairs"] == len(gold)
    # and the labelled pool pairs no evaluation reads: STS-B train, SICK-R train and their mean
    train = sts[(sts["dataset"] == "STS-B") & (sts["split"] == "train")]
    labels = np.load(tmp_path / "run" / "cycle_1" / "labels_bi.npy")[[at[k] for k in _pair_keys(train)]]
    got = round(100 * spearmanr(labels, train["score"]).statistic, 2)
    assert math.isclose(df.loc[0, "STS-B train"], got, abs_tol=0.01) and df.loc[0, "STS-B train pairs"] == len(train)
    mean = (df.loc[0, "STS-B train"] + df.loc[0, "SICK-R train"]) / 2
    assert math.isclose(df.loc[0, "train avg"], mean, abs_tol=0.01)
    every = np.load(tmp_path / "run" / "cycle_1" / "labels_bi.npy")
    assert math.isclose(df.loc[0, "sd"], round(float(every.std()), 3), abs_tol=1e-3)
    assert math.isclose(df.loc[0, "share above 0.9"], round(float((every > 0.9).mean()), 3), abs_tol=1e-3)
    # --append: a --seeds member joins the table under its run's name; scored again, it replaces its own rows
    shutil.copytree(tmp_path / "run", tmp_path / "three" / "seed-1")
    for _ in range(2):
        run_tool(
            "tools/label_quality.py",
            str(tmp_path / "three" / "seed-1"),
            "--data",
            fake_sts,
            "--out",
            str(out),
            "--append",
        )
    grown = pd.read_csv(out)
    assert grown["run"].tolist() == ["run"] * 6 + ["three/seed-1"] * 6
    pd.testing.assert_frame_equal(grown.iloc[6:].drop(columns="run").reset_index(drop=True), df.drop(columns="run"))


def test_lengths_effect_scores_the_start_at_the_sts_and_the_fitted_limit(tiny_bert, shared_sts, tmp_path):
    out = tmp_path / "lengths.csv"
    run_tool("tools/lengths_effect.py", "--models", tiny_bert, "--data", shared_sts, "--out", str(out))
    df = pd.read_csv(out)
    assert df["corpus"].tolist() == ["trecqa", "trecqa", "custom msrpar", "custom msrpar"]
    assert df["metric"].tolist() == ["auc", "auc", "spearman", "spearman"]
    sts, fitted = df.iloc[::2].reset_index(drop=True), df.iloc[1::2].reset_index(drop=True)
    assert (sts["bi_max_length"] == 32).all() and (fitted["bi_max_length"] % 8 == 0).all()
    assert (fitted["bi_max_length"] > 32).all()  # both corpora have sentences longer than the STS limit
    # (the tiny BERT's word-piece-poor vocabulary makes long sequences: its cap of 128 positions still cuts)
    assert (fitted["sentences_cut_pct"] < sts["sentences_cut_pct"]).all()
    assert df[["dev", "test"]].apply(lambda c: c.between(-100, 100)).all().all()


def test_peak_benchmark_names_the_cpu_and_cycle_time_reads_its_row(tmp_path):
    """benchmarks/peak.py writes rows naming the CPU and its flags; cycle_time.py takes this CPU's best fp32
    two-thread row as the peak (rates are not checked: the machine is shared)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from peak import cpu, recorded_peak

    out = tmp_path / "peak.csv"
    run_tool("benchmarks/peak.py", "--quick", "--seconds", "0.05", "--repeats", "2", "--csv", str(out))
    rows = pd.read_csv(out)
    name, flags = cpu()
    assert len(rows) == 1 and rows.loc[0, "cpu"] == name and rows.loc[0, "threads"] == 1
    assert set(rows.columns) >= {"cpu", "flags", "backend", "dtype", "shape", "gflops_median", "torch", "date"}
    assert recorded_peak(str(out)) == 0.0  # a one-thread row is not the two-thread peak
    two = rows.assign(threads=2, gflops_median=[123.4]).iloc[[0, 0]]
    pd.concat([two, rows.assign(threads=2, gflops_median=[200.0], cpu="another CPU")]).to_csv(out, index=False)
    assert recorded_peak(str(out)) == 123.4  # this CPU's row, not another's


def test_label_quality_scores_a_trecqa_runs_labels_by_roc_auc_per_split(tiny_bert, tmp_path):

    from tenc import distill
    from tenc.config import DistillConfig
    from tenc.evaluation import roc_auc

    folder = tmp_path / "trecqa"
    folder.mkdir()
    for split, seed in (("train", 0), ("dev", 1), ("test", 2)):
        rows = [(a, int(y >= 2.5), b) for a, b, y in fixture_pairs(24, seed)]
        pd.DataFrame(rows, columns=["qtext", "label", "atext"]).to_csv(folder / f"{split}.csv", index=False)
    cfg = DistillConfig.from_preset("smoke", start=tiny_bert, task="trecqa", task_data=str(folder), max_pairs=0)
    distill.run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
    out = tmp_path / "quality.csv"
    run_tool("tools/label_quality.py", str(tmp_path / "run"), "--out", str(out))
    df = pd.read_csv(out)
    assert df[["cycle", "labels"]].values.tolist() == [[1, "label_bi"], [1, "label_cross"]]
    dev = pd.read_csv(folder / "dev.csv")
    pool = pd.read_csv(tmp_path / "run" / "pool.tsv", sep="\t", quoting=3, keep_default_na=False)
    at = {(a, b): i for i, (a, b) in reversed(list(enumerate(zip(pool["sentence1"], pool["sentence2"]))))}
    labels = np.load(tmp_path / "run" / "cycle_1" / "labels_cross.npy")
    got = labels[[at[(q, a)] for q, a in zip(dev["qtext"], dev["atext"])]]
    assert math.isclose(df.loc[1, "dev auc"], round(roc_auc(got, dev["label"].to_numpy()), 2), abs_tol=0.01)
    assert 0 <= df["dev auc"].min() and df["dev auc"].max() <= 100
    assert df.loc[1, "dev pairs"] == len(dev) and df.loc[0, "train pairs"] == 24
