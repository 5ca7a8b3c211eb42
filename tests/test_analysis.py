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
