"""Beyond STS: synthetic binary tasks through the loop, custom tasks from the CLI, bad files."""

import json
import random

import numpy as np
import pytest
from conftest import fixture_pairs

from tenc import tasks
from tenc.cli import main
from tenc.data import DataError


def _write_binary(path, n=24, seed=0):
    rng = random.Random(seed)
    rows = ["sentence1\tsentence2\tlabel"]
    for a, b, score in fixture_pairs(n, seed):
        rows.append(f"{a}\t{a if score >= 2.5 and rng.random() < 0.5 else b}\t{int(score >= 2.5)}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def binary_folder(tmp_path):
    for i, split in enumerate(("train", "dev", "test")):
        _write_binary(tmp_path / f"{split}.tsv", 24, i)
    return tmp_path


def test_glue_style_task_from_local_files(binary_folder):
    task = tasks.glue_task("qnli", binary_folder)
    assert task.dev.metric == "auc" and not task.both_orders
    assert 24 < len(task.pool) <= 72  # every split pooled, as the reference does
    assert len(tasks.glue_task("mrpc", binary_folder).pool) <= len(task.pool)  # mrpc: (a, b) and (b, a) are one pair


def test_binary_task_through_the_loop_from_the_cli(tiny_bert, binary_folder, tmp_path):
    out = tmp_path / "run"
    code = main(
        [
            "distill",
            "--preset",
            "smoke",
            "--quiet",
            "--out",
            str(out),
            "--task",
            "qqp",
            "--task-data",
            str(binary_folder),
            "--set",
            f"start={tiny_bert}",
            "--results",
            str(tmp_path / "tasks.csv"),
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["cycles"]
    assert all(0 <= r["qqp-test"] <= 100 for r in rows) and summary["selected"]["bi"]["rule"] == "dev"
    assert "qqp-test" in (tmp_path / "tasks.csv").read_text()


def test_custom_task_without_dev_uses_the_label_free_rule(tiny_bert, tmp_path, capsys):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("".join(f"{a}||{b}\n" for a, b, _ in fixture_pairs(32)))
    test = _write_binary(tmp_path / "test.tsv")
    code = main(
        [
            "distill",
            "--preset",
            "smoke",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
            "--task",
            "custom",
            "--pairs",
            str(pairs),
            "--test",
            str(test),
            "--set",
            f"start={tiny_bert}",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "label-free 'agreement' rule" in out and "selected: bi: cycle 1 (agreement)" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "STS-B" not in json.dumps(summary["cycles"])  # never evaluated on STS-B


def test_bad_task_files(tmp_path, binary_folder):
    (tmp_path / "x").mkdir()
    with pytest.raises(DataError, match="no train file"):
        tasks.glue_task("mrpc", tmp_path / "x")
    (binary_folder / "dev.tsv").write_text("sentence1\tsentence2\tlabel\na\tb\t3\n")
    with pytest.raises(DataError, match="binary 0/1 labels"):
        tasks.glue_task("qqp", binary_folder)
    (binary_folder / "dev.tsv").write_text("sentence1\tsentence2\n")
    with pytest.raises(DataError, match="dev.tsv: no sentence pairs"):
        tasks.glue_task("qqp", binary_folder)
    missing = tmp_path / "m.tsv"
    missing.write_text("sentence1\tsentence2\na\tb\n")
    with pytest.raises(DataError, match="labels are required"):
        tasks.labelled("m", missing)
    assert tasks.metric_for(np.array([0.0, 1.0, 1.0])) == "auc"


def test_custom_task_through_the_distill_notebook(tiny_bert, tmp_path):
    import papermill as pm
    from conftest import ROOT

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"sentence1": a, "sentence2": b}) + "\n" for a, b, _ in fixture_pairs(32)))
    dev = _write_binary(tmp_path / "dev.tsv", 24, 1)
    test = _write_binary(tmp_path / "test.tsv", 24, 2)
    cfg = tmp_path / "task.yaml"
    cfg.write_text(f"task: custom\npairs: {pairs}\ndev: {dev}\ntests: {test}\n")
    run_dir = tmp_path / "run"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "20_distill.ipynb"),
        str(tmp_path / "out.ipynb"),
        parameters={"preset": "smoke", "config": str(cfg), "start": tiny_bert, "cycle": 1, "run_dir": str(run_dir)},
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    rows = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert {r["kind"] for r in rows} == {"bi", "cross"} and all(0 <= r["dev"] <= 100 for r in rows)


TRECQA = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data" / "binary" / "trecqa"


@pytest.mark.skipif(not TRECQA.is_dir(), reason="../shared/data/binary/trecqa is not present")
def test_trecqa_task_reads_the_real_files_in_one_order():
    task = tasks.trecqa_task(TRECQA)
    assert (len(task.dev), len(task.tests[0])) == (1148, 1517) and not task.both_orders
    assert task.dev.metric == "auc" and set(task.dev.frame["label"]) == {0.0, 1.0}
    assert int(task.tests[0].frame["label"].sum()) == 284  # the README's positives
    # every (question, sentence) pair of the three files, order kept: a question is always sentence1
    assert len(task.pool) == 7382 and task.pool["sentence1"].str.endswith("?").mean() > 0.95
    assert task.dev.frame.iloc[0]["sentence1"] == "What ethnic group / race are Crip members ?"


def test_trecqa_task_errors_are_one_line(tmp_path):
    with pytest.raises(DataError, match="no data folder"):
        tasks.trecqa_task(tmp_path / "nowhere")
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.csv").write_text('qtext,label,atext\n"q ?",1,"a"\n"q ?",0,"b"\n')
    (tmp_path / "dev.csv").write_text("question,label,answer\nq,1,a\n")
    with pytest.raises(DataError, match=r"dev.csv: no qtext, atext column"):
        tasks.trecqa_task(tmp_path)


def test_lengths_follow_the_pool_off_sts_and_a_cutting_limit_is_flagged(tiny_bert):
    import pandas as pd

    from tenc import runfolder
    from tenc.config import DistillConfig

    words = [a.split() for a, _, _ in fixture_pairs(48)]
    long = [" ".join((w * 8)[:40]) for w in words]  # 40 words: about 42 tokens
    pool = pd.DataFrame({"sentence1": long, "sentence2": [" ".join(w) for w in words]})
    logged = []
    cfg = DistillConfig(start=tiny_bert, task="custom")
    fitted = runfolder.fit_lengths(cfg, pool, "custom", logged.append)
    assert (
        fitted.bi_max_length % 8 == 0 and fitted.bi_max_length >= 42 and fitted.cross_max_length > fitted.bi_max_length
    )
    assert not any(line.startswith("warning") for line in logged)
    logged.clear()
    kept = runfolder.fit_lengths(
        DistillConfig(start=tiny_bert, task="custom", lengths="fixed"), pool, "custom", logged.append
    )
    assert (kept.bi_max_length, kept.cross_max_length) == (32, 64)  # as set
    assert logged[0].startswith("warning: bi_max_length=32 (as set): 50.0% of the pool's")
    logged.clear()
    sts = runfolder.fit_lengths(DistillConfig(start=tiny_bert), pool, "sts", logged.append)
    assert (sts.bi_max_length, sts.cross_max_length) == (32, 64)  # STS keeps the paper's limits
    assert logged[0].startswith("bi_max_length=32 (the paper's): 50.0% of the pool's")  # reported, not a warning
    logged.clear()
    runfolder.fit_lengths(DistillConfig(start=tiny_bert, bi_max_length=24), pool, "sts", logged.append)
    assert logged[0].startswith("warning: bi_max_length=24 (as set)") and "lengths=auto" not in logged[0]


def test_evaluate_scores_a_binary_task_and_replaces_its_row(tiny_bert, binary_folder, tmp_path, capsys):
    import pandas as pd

    board = tmp_path / "tasks.csv"
    for max_length in ("32", "8"):
        args = [
            "evaluate",
            "--model",
            tiny_bert,
            "--task",
            "qqp",
            "--task-data",
            str(binary_folder),
            "--quiet",
            "--max-length",
            max_length,
            "--name",
            "tiny",
            "--stage",
            f"start {max_length}",
            "--results",
            str(board),
        ]
        assert main(args) == 0
        assert main(args) == 0  # the same row again: replaced
    assert "tiny (bi, qqp): dev " in capsys.readouterr().out
    df = pd.read_csv(board)
    assert df["stage"].tolist() == ["start 32", "start 8"] and set(df["task"]) == {"qqp"}
    assert df["qqp-test"].between(0, 100).all() and df["dev"].between(0, 100).all()


def test_evaluate_scores_a_users_labelled_files(tiny_bert, tmp_path, capsys):
    import pandas as pd
    from scipy.stats import spearmanr

    pairs = [p for p in fixture_pairs(60) if p[0] != p[1]][:40]  # no identical pair: no cosine ties of 1.0
    dev, test = tmp_path / "dev.tsv", tmp_path / "mine.jsonl"
    pd.DataFrame(pairs[:20], columns=["sentence1", "sentence2", "score"]).to_csv(dev, sep="\t", index=False)
    pd.DataFrame(pairs[20:], columns=["sentence1", "sentence2", "label"]).to_json(test, orient="records", lines=True)
    board = tmp_path / "tasks.csv"
    assert (
        main(
            [
                "evaluate",
                "--model",
                tiny_bert,
                "--pooling",
                "mean",
                "--task",
                "custom",
                "--dev",
                str(dev),
                "--test",
                str(test),
                "--quiet",
                "--name",
                "tiny",
                "--stage",
                "start",
                "--results",
                str(board),
            ]
        )
        == 0
    )
    assert "tiny (bi, custom): dev " in capsys.readouterr().out
    row = pd.read_csv(board).iloc[0]
    # recomputed by hand: Spearman x 100 of the tiny model's cosines with the file's graded labels
    from tenc import models

    model = models.bi_encoder(tiny_bert, pooling="mean")
    a = model.encode([p[0] for p in pairs[20:]], normalize_embeddings=True)
    b = model.encode([p[1] for p in pairs[20:]], normalize_embeddings=True)
    expected = 100 * spearmanr((a * b).sum(1), [p[2] for p in pairs[20:]]).statistic
    assert abs(row["mine"] - expected) < 0.01 and row["task"] == "custom"


def test_evaluate_custom_refuses_no_files_and_a_file_twice(tiny_bert, tmp_path, capsys):
    dev = tmp_path / "dev.txt"
    dev.write_text("a b||a b||1\nc d||e f||0\n")
    assert main(["evaluate", "--model", tiny_bert, "--task", "custom"]) != 0
    assert "--dev FILE" in capsys.readouterr().err
    assert main(["evaluate", "--model", tiny_bert, "--task", "custom", "--dev", str(dev), "--test", str(dev)]) != 0
    assert "given twice" in capsys.readouterr().err
