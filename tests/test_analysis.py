"""tenc.analysis: the research questions' computations on the committed CSVs."""

from pathlib import Path

import pandas as pd

from tenc import analysis

ROOT = Path(__file__).resolve().parents[1]


def test_selection_picks_dev_last_and_the_test_oracle():
    rows = [
        # run a: dev picks cycle 1, the test prefers cycle 2, the last is 3
        ("a", "bi", 1, "model", 60.0, True),
        ("a", "bi", 2, "model", 61.0, False),
        ("a", "bi", 3, "model", 59.0, False),
        ("a", "bi", 0, "model", 58.0, False),  # the start is no pick
        ("b", "cross", 1, "model", 70.0, False),
        ("b", "cross", 2, "model", 71.0, True),
        ("c", "bi", 1, "model", 50.0, True),  # one trained cycle: nothing to choose
    ]
    df = pd.DataFrame(rows, columns=["run", "kind", "cycle", "member", "avg", "selected"])
    picks = analysis.selection_picks(df).set_index("run")
    assert list(picks.index) == ["a", "b"]
    assert (picks.loc["a", "dev_cycle"], picks.loc["a", "oracle_cycle"], picks.loc["a", "last_cycle"]) == (1, 2, 3)
    summary = analysis.selection_summary(df)
    assert summary == {
        "picks": 2,
        "runs": 2,
        "dev_hits_oracle": 1,
        "last_hits_oracle": 1,
        "dev_mean_loss": 0.5,
        "last_mean_loss": 1.0,
    }


def test_the_committed_cycles_give_a_summary():
    summary = analysis.selection_summary(ROOT / "results" / "cycles.csv")
    assert summary["picks"] >= 30 and 0 <= summary["dev_hits_oracle"] <= summary["picks"]


def test_selection_tolerance_counts_the_picks_a_dev_tolerance_moves():
    rows = [
        # run a: cycle 2 beats cycle 1 on dev by 0.02 and loses 1.0 on test; cycle 3 is worse on dev
        ("a", "bi", "m0", 1, 75.00, 66.0),
        ("a", "bi", "m0", 2, 75.02, 65.0),
        ("a", "bi", "m0", 3, 74.00, 67.0),
        # run b: cycle 2 beats cycle 1 on dev by 0.3 and gains 2.0 on test
        ("b", "cross", "model", 1, 70.0, 60.0),
        ("b", "cross", "model", 2, 70.3, 62.0),
        ("b", "cross", "model", 0, 90.0, 50.0),  # the start is no candidate
        ("c", "bi", "model", 1, 80.0, 70.0),  # one trained cycle: nothing to choose
    ]
    df = pd.DataFrame(rows, columns=["run", "kind", "member", "cycle", "dev", "avg"])
    t = analysis.selection_tolerance(df, deltas=(0.0, 0.01, 0.1, 0.5)).set_index("min_delta")
    assert list(t["picks"]) == [2, 2, 2, 2]
    assert list(t["moved"]) == [0, 0, 1, 2]  # 0.01: a's 0.02 gain still moves it
    assert list(t["avg_change_sum"]) == [0.0, 0.0, 1.0, -1.0]
    assert t.loc[0.0, "mean_loss_to_oracle"] == 1.0  # a: 67 - 65; b: 62 - 62
    assert t.loc[0.5, "mean_loss_to_oracle"] == 1.5  # a: 67 - 66; b: 62 - 60


def test_paired_seeds_compares_recipes_seed_by_seed():
    import pytest

    rows = [
        # recipe a on seeds 0-2, recipe b on seeds 0-2 (seed 1 scored twice: the newer row wins) and seed 3 alone
        ("job seed 0", "cross", "cycle 1", 0, 63.0),
        ("job seed 1", "cross", "cycle 1", 1, 64.0),
        ("job seed 2", "cross", "cycle 1", 2, 62.0),
        ("job seed 0, lever", "cross", "cycle 1", 0, 63.5),
        ("job seed 1, lever", "cross", "cycle 1", 1, 60.0),
        ("job seed 1, lever", "cross", "cycle 1", 1, 64.6),
        ("job seed 2, lever", "cross", "cycle 1", 2, 62.7),
        ("job seed 3, lever", "cross", "cycle 1", 3, 99.0),
        ("job seed 0", "bi", "cycle 1", 0, 60.0),
        ("job seed 1", "bi", "cycle 1", 1, 60.0),
        ("job seed 0, lever", "bi", "cycle 1", 0, 61.0),
        ("job seed 1, lever", "bi", "cycle 1", 1, 59.5),
        ("job seed 0, lever", "bi", "start", 0, 10.0),  # a start is not a trained stage
        ("job seed 0, copy", "bi", "cycle 1", 0, 60.0),  # the same scores as the recipe: no difference
        ("job seed 1, copy", "bi", "cycle 1", 1, 60.0),
    ]
    board = pd.DataFrame(rows, columns=["model", "kind", "stage", "seed", "avg"])
    out = analysis.paired_seeds(board, "job", "job, lever").set_index("kind")
    cross, bi = out.loc["cross"], out.loc["bi"]
    assert (cross["n"], cross["diffs"], cross["mean_diff"]) == (3, "+0.50 +0.60 +0.70", 0.6)
    assert (cross["a_mean"], cross["b_mean"]) == (63.0, 63.6)
    assert cross["beyond_noise"] and cross["p"] < 0.05
    # seeds that move both ways are no finding, however large the mean
    assert bi["diffs"] == "+1.00 -0.50" and not bi["beyond_noise"]
    with pytest.raises(ValueError, match="no trained rows of recipe 'job typo'"):
        analysis.paired_seeds(board, "job", "job typo")
    # every change the pattern finds, each against the recipe, named; the recipe itself is no change to it
    both = analysis.paired_changes(board, "job", "lever|job")
    assert set(both["change"]) == {"job, lever", "job, copy"} and len(both) == 3
    copy = both[both["change"] == "job, copy"].iloc[0]
    assert copy["diffs"] == "+0.00 +0.00" and copy["p"] == 1.0 and not copy["beyond_noise"]
    with pytest.raises(ValueError, match="no recipe starting with 'job' matches 'typo'"):
        analysis.paired_changes(board, "job", "typo")
    # prefix=False: alternatives to a recipe, whatever their names start with (here: against "job, lever")
    alternatives = analysis.paired_changes(board, "job, lever", "job", prefix=False)
    assert set(alternatives["change"]) == {"job", "job, copy"}
    assert list(analysis.paired_changes(board, "job, lever", "copy", prefix=False)["diffs"]) == ["-1.00 +0.50"]
    with pytest.raises(ValueError, match="no recipe matches 'typo'"):
        analysis.paired_changes(board, "job, lever", "typo", prefix=False)
    # recipes whose names are not a change of one another's, compared as named: "b vs a; ..."
    versus = analysis.paired_versus(board, "job, lever vs job; job, copy vs job, lever ")
    assert list(zip(versus["change"], versus["against"], versus["kind"])) == [
        ("job, lever", "job", "bi"),
        ("job, lever", "job", "cross"),
        ("job, copy", "job, lever", "bi"),
    ]
    assert versus.iloc[2]["diffs"] == "-1.00 +0.50"
    assert analysis.paired_versus(board, " ").empty
    with pytest.raises(ValueError, match="'job, lever against job' is not 'recipe b vs recipe a'"):
        analysis.paired_versus(board, "job, lever against job")


def test_the_recipe_name_drops_the_seed():
    from tenc.scoreboard import recipe_name

    assert recipe_name("main job seed 1, CoSENT bi loss") == "main job, CoSENT bi loss"
    assert recipe_name("main job, CoSENT bi loss, seed 1") == "main job, CoSENT bi loss"  # --seeds names
    assert recipe_name("job, seed 0, CoSENT [m0]") == recipe_name("job seed 2, CoSENT [m0]") == "job, CoSENT [m0]"
    assert recipe_name("main job seed 2") == "main job"
    assert recipe_name("adaptation, seed 0") == "adaptation"


def test_noise_comparisons_stay_within_a_track():
    groups = pd.DataFrame(
        [
            # group, kind, stage, pool, n, mean, sd, start
            ("main job", "bi", "cycle 1", "transductive", 3, 61.0, 0.3, 59.45),
            ("main job lever", "bi", "cycle 1", "transductive", 3, 63.0, 0.3, 59.45),
            ("main job reuse", "bi", "cycle 1", "transductive", 3, 61.5, 0.3, float("nan")),  # no start row
            ("adaptation", "bi", "cycle 1", "transductive", 3, 80.0, 0.1, 78.84),  # another start
            ("adaptation disjoint", "bi", "cycle 1", "disjoint", 3, 79.0, 0.1, 78.84),  # another pool
        ],
        columns=["group", "kind", "stage", "pool", "n", "mean", "sd", "start"],
    )
    out = analysis.noise_comparisons(groups, sd=0.5)
    pairs = {(r.a, r.b): (r.b_minus_a, r.beyond_noise) for r in out.itertuples()}
    assert pairs[("main job", "main job lever")] == (2.0, True)
    assert pairs[("main job", "main job reuse")] == (0.5, False)
    assert ("main job", "adaptation") not in pairs and ("adaptation", "adaptation disjoint") not in pairs
    assert len(pairs) == 4  # the two main-job starts, each with the start-less group, and adaptation with it
