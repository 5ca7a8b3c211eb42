"""tenc.scoreboard: every scoreboard row carries its provenance (seed, pool, labels, selected, commit, versions)."""

from pathlib import Path

import pandas as pd
import pytest

from tenc.scoreboard import BOARD_COLUMNS, PROVENANCE, SCORES, record_result, run_origin, write_summary_rows

ROOT = Path(__file__).resolve().parents[1]


def _board(path):
    from tenc.scoreboard import read_board

    return read_board(path)


def test_every_committed_row_names_its_provenance():
    board = _board(ROOT / "results" / "sts.csv")
    assert list(board.columns) == BOARD_COLUMNS
    for column in PROVENANCE:
        assert board[column].notna().all() and (board[column] != "").all(), column
    # seed n/a only where nothing was random: a packaged model evaluated as shipped
    assert board.loc[board["seed"] == "n/a", "pool"].eq("none").all()
    trained = board[board["stage"].str.startswith("cycle")]
    assert set(trained["selected"]) <= {"dev", "dev+start", "agreement", "last", "no", "test oracle", "not recorded"}
    assert set(trained["labels"]) <= {"one-order", "two-order", "teachers"}
    assert set(board["pool"]) <= {"transductive", "inductive", "disjoint", "custom", "trecqa", "none", "unknown"}
    # the audit's two test-picked numbers are rows that dev did not select
    for model, stage in (("adaptation minilm-l6, mpnet frozen teacher of both students, 3 bi epochs", "cycle 1"),):
        row = board[(board["model"] == model) & (board["kind"] == "bi") & (board["stage"] == stage)]
        assert row["selected"].item() == "no"


def test_a_run_writes_seed_pool_labels_selected_commit_and_versions(tmp_path):
    def row(cycle, kind, member="model", avg=50.0):
        return {
            "cycle": cycle,
            "kind": kind,
            "member": member,
            "dev": avg,
            **dict.fromkeys(SCORES[:-1], avg),
            "avg": avg,
        }

    summary = {
        "config": {"seed": 2, "pool": "disjoint", "label_both_orders": False, "cross_orders": "one"},
        "cycles": [row(0, "bi"), row(1, "cross"), row(1, "bi"), row(2, "cross"), row(2, "bi")],
        "selected": {
            "bi": {"cycle": 1, "rule": "dev", "members": {"model": 1}},
            "cross": {"cycle": 2, "rule": "dev", "members": {"model": 2}},
        },
    }
    write_summary_rows(summary, str(tmp_path / "sts.csv"), "run")
    board = _board(tmp_path / "sts.csv").set_index(["kind", "stage"])
    assert board.loc[("bi", "cycle 1"), "selected"] == "dev" and board.loc[("bi", "cycle 2"), "selected"] == "no"
    assert board.loc[("bi", "start"), "selected"] == "n/a" and board.loc[("cross", "cycle 2"), "selected"] == "dev"
    assert (board["seed"] == "2").all() and board.loc[("bi", "cycle 1"), "pool"] == "disjoint"
    assert board.loc[("bi", "cycle 1"), "labels"] == "one-order" and board["commit"].str.len().min() >= 7
    assert board["versions"].str.contains("torch").all()
    old = {**summary, "config": {**summary["config"], "label_both_orders": True}}
    assert run_origin(old, row(1, "bi"))["labels"] == "two-order"
    teacher = {**summary, "config": {**summary["config"], "teachers_teach": "bi"}}
    assert run_origin(teacher, row(1, "bi"))["labels"] == "teachers"


def test_a_row_without_provenance_is_refused(tmp_path):
    from tenc.scoreboard import record_results

    with pytest.raises(ValueError, match="needs protocol, seed, pool"):
        record_results(tmp_path / "x.csv", [{"model": "m", "kind": "bi", "stage": "s", **dict.fromkeys(SCORES, 1.0)}])
    record_result(tmp_path / "x.csv", "minilm-l6", "bi", "packaged", dict.fromkeys(SCORES, 1.0), "cosine")
    assert _board(tmp_path / "x.csv").loc[0, "pool"] == "none"


def test_noise_is_the_pooled_sd_of_the_scoreboards_seed_groups():
    """The committed scoreboard's seed groups (trained rows of one recipe under several seeds) pool to the
    noise the gain report judges by; the smallest group's sd is not the noise."""
    from tenc.scoreboard import pooled_sd, seed_groups

    groups = seed_groups(ROOT / "results" / "sts.csv")
    assert len(groups) >= 12 and (groups["n"] >= 2).all()
    assert groups["sd"].min() < pooled_sd(groups) < groups["sd"].max()
    two = pd.DataFrame({"n": [3, 2], "sd": [1.0, 2.0]})
    assert pooled_sd(two) == pytest.approx(((2 * 1 + 1 * 4) / 3) ** 0.5)


def test_the_gain_report_uses_the_larger_noise_and_names_one_seed(tmp_path):
    from tenc.scoreboard import gain_report

    def row(cycle, kind, avg):
        return {
            "cycle": cycle,
            "kind": kind,
            "member": "model",
            "dev": avg,
            **dict.fromkeys(SCORES[:-1], avg),
            "avg": avg,
        }

    summary = {
        "cycles": [row(0, "bi", 60.0), row(1, "bi", 61.0)],
        "selected": {"bi": {"cycle": 1, "rule": "dev", "members": {"model": 1}, "row": row(1, "bi", 61.0)}},
    }
    text = gain_report(summary, board=ROOT / "results" / "sts.csv")
    assert "n=1 seed" in text and "pooled sd of the scoreboard's" in text and "NOT beyond noise" in text


def test_seeds_are_a_setting_of_the_cli(tiny_bert, fake_sts, tmp_path, capsys):
    """--seeds 0,1 runs the recipe once per seed (OUT/seed-N) and writes rows named 'NAME, seed N' with their
    seed; the spread over the seeds is printed. A malformed list is one line."""
    from tenc.cli import main

    argv = ["distill", "--preset", "smoke", "--set", f"start={tiny_bert}", "--set", f"data={fake_sts}", "--quiet"]
    out, board = tmp_path / "runs", tmp_path / "sts.csv"
    assert main([*argv, "--out", str(out), "--seeds", "0,1", "--name", "tiny", "--results", str(board)]) == 0
    assert (out / "seed-0" / "summary.json").is_file() and (out / "seed-1" / "summary.json").is_file()
    rows = _board(board)
    assert set(rows["model"]) == {"tiny, seed 0", "tiny, seed 1"}
    assert (rows.groupby("model")["seed"].first().to_dict()) == {"tiny, seed 0": "0", "tiny, seed 1": "1"}
    assert "(n=2 seeds: [0, 1])" in capsys.readouterr().out
    assert main([*argv, "--out", str(out), "--seeds", "0,x"]) == 2
    assert "--seeds takes comma-separated integers" in capsys.readouterr().err


def test_two_writers_at_once_lose_no_rows(tmp_path):
    """Two processes recording rows into one results CSV at the same time: every row of both is there (the
    read-modify-write runs under a file lock)."""
    import subprocess
    import sys

    board = tmp_path / "sts.csv"
    script = (
        "import sys; from tenc.scoreboard import record_result, SCORES\n"
        "for i in range(25):\n"
        "    record_result(sys.argv[1], f'{sys.argv[2]} {i}', 'bi', 'packaged', dict.fromkeys(SCORES, 1.0), 'cosine')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(board), name], cwd=ROOT) for name in ("first", "second")
    ]
    assert [p.wait() for p in procs] == [0, 0]
    assert len(_board(board)) == 50


def test_seed_rows_of_a_binary_task_use_its_test_score(tmp_path):
    """--seeds on TrecQA ended in a KeyError ('avg') after its runs had finished: a binary task's rows have one
    ROC-AUC, no 7-set average."""
    import json

    from tenc.scoreboard import seed_rows

    for seed, score in ((1, 74.0), (2, 76.0)):
        run = tmp_path / f"seed-{seed}"
        run.mkdir()
        start = {"cycle": 0, "kind": "bi", "member": "model", "dev": 81.3, "trecqa-test": 80.61}
        cycle = {"cycle": 1, "kind": "bi", "member": "model", "dev": 70.0, "trecqa-test": score}
        summary = {"config": {"seed": seed}, "cycles": [start, cycle], "selected": {"bi": {"cycle": 1, "row": cycle}}}
        (run / "summary.json").write_text(json.dumps(summary))
    rows = seed_rows([tmp_path / "seed-1", tmp_path / "seed-2"])
    assert rows["selected"].tolist() == [74.0, 76.0] and rows["gain"].tolist() == [-6.61, -4.61]


def test_the_printed_summary_names_a_member_whose_dev_picks_another_cycle():
    """The mutual run's log said "bi: cycle 2" (the ensemble's dev) while the scoreboard, selecting each member
    by its own dev, marked the 6-layer member's cycle 3: the log now names that member's pick too."""
    from tenc.scoreboard import summary_table
    from tenc.selection import summarise

    dev = {("ensemble", 1): 70.0, ("ensemble", 2): 72.0, ("m0", 1): 69.0, ("m0", 2): 71.0, ("m1", 1): 73.0}
    dev[("m1", 2)] = 72.5  # the 6-layer member's dev falls in cycle 2: its own pick is cycle 1
    rows = [{"cycle": c, "kind": "bi", "member": m, "dev": d, "avg": 60.0} for (m, c), d in dev.items()]
    selected, picks = summarise(rows, "dev")
    out = summary_table({"cycles": rows, "selected": selected, "picks": picks})
    assert out.endswith("selected: bi: cycle 2 (dev; m1 cycle 1)")
    same = [r for r in rows if r["member"] != "m1"]
    assert summary_table({"cycles": same, "selected": summarise(same, "dev")[0]}).endswith("bi: cycle 2 (dev)")
