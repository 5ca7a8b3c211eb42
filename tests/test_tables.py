"""Tables rebuilt from metrics.json files: collection, the paper's selection rule, ablation tables, the
rows of runs made elsewhere, and the paper's layout, each on a small fixture of its own."""

import json

import pandas as pd

from tenc import tables


def _doc(name, avg, ablation="", value="", cross_dev=79.0, protocol=None):
    doc = {
        "params": {"name": name, "ablation": ablation, "value": value},
        "metrics": [
            {"kind": "bi", "cycle": 0, "avg": avg, "dev": 80.0},
            {"kind": "bi", "cycle": 1, "avg": avg + 0.5, "dev": 79.5},
            {"kind": "cross", "cycle": 1, "avg": avg + 1, "dev": cross_dev},
        ],
    }
    if protocol:
        doc["protocol"] = protocol
    return doc


def _write(root, name, doc):
    (root / name).mkdir(parents=True)
    (root / name / "metrics.json").write_text(json.dumps(doc))


def test_ablation_tables_report_the_last_and_the_dev_selected_cycle_never_the_best_on_test():
    rows = [
        ("start", 0, "bi", 78.8, True),
        ("cycle 1", 1, "bi", 76.3, False),
        ("cycle 2", 2, "bi", 75.1, False),
        ("cycle 1", 1, "cross", 71.8, True),
        ("cycle 2", 2, "cross", 69.5, False),
    ]
    df = pd.DataFrame(
        [
            {
                "run": "cycles=2",
                "stage": st,
                "cycle": c,
                "kind": k,
                "avg": a,
                "selected": sel,
                "ablation": "cycles",
                "value": "2",
            }
            for st, c, k, a, sel in rows
        ]
    )
    t = tables.ablation_tables(df.iloc[::-1])["cycles"].iloc[0]  # row order does not matter
    assert (t["start"], t["last bi"], t["last cross"]) == (78.8, 75.1, 69.5)
    assert (t["selected bi"], t["selected cross"]) == (78.8, 71.8)
    # ablations and values in the plan's order, not by name (pool sizes 1000 < 4000 < 16000 < all)
    sizes = pd.DataFrame(
        [
            {
                "run": f"pool_size={v}",
                "stage": "cycle 1",
                "cycle": 1,
                "kind": "bi",
                "avg": 70.0,
                "selected": False,
                "ablation": "pool_size",
                "value": v,
            }
            for v in ("16000", "4000", "all", "1000")
        ]
    )
    mse = df.iloc[:1].assign(run="cross_loss=mse", ablation="cross_loss", value="mse")
    both = tables.ablation_tables(pd.concat([sizes, mse, df]))
    assert list(both) == ["cycles", "cross_loss", "pool_size"]
    assert list(both["pool_size"]["value"]) == ["1000", "4000", "16000", "all"]


def test_collect_selects_by_the_papers_rule_and_names_the_protocol(tmp_path):
    _write(tmp_path, "old", _doc("old", 70.0))
    _write(tmp_path, "new", _doc("new", 60.0, protocol={"bi": "cosine", "cross": "one-order"}))
    df = tables.collect(tmp_path).set_index(["run", "kind", "stage"])
    assert not df.loc[("old", "bi", "start"), "selected"] and df.loc[("old", "bi", "cycle 1"), "selected"]
    assert df.loc[("old", "cross", "cycle 1"), "protocol"] == "two-order mean"  # recorded before protocols were
    assert df.loc[("new", "cross", "cycle 1"), "protocol"] == "one-order"
    assert set(df.xs("bi", level="kind")["protocol"]) == {"cosine"}


def test_a_rebuild_keeps_the_rows_of_runs_made_elsewhere_and_replaces_the_runs_it_finds(tmp_path):
    made, here = tmp_path / "elsewhere", tmp_path / "here"
    for i, name in enumerate(("a", "b", "cycles=1")):
        _write(made, name, _doc(name, 70.0 + i, *(("cycles", "1") if name == "cycles=1" else ())))
    ledger = tmp_path / "cycles.csv"
    ledger.write_text(tables.cycles_csv(tables.collect(made)))
    here.mkdir()
    nothing_here = tables.collect(here)
    assert tables.cycles_csv(tables.keep_earlier(nothing_here, ledger)) == ledger.read_text()  # round-trips
    assert tables.keep_earlier(nothing_here, tmp_path / "missing.csv").empty
    _write(here, "b", _doc("b", 50.0))  # b redone here
    _write(here, "pool_size=64000", _doc("pool_size=64000", 60.0, "pool_size", "64000"))
    merged = tables.keep_earlier(tables.collect(here), ledger)
    assert list(dict.fromkeys(merged["run"])) == ["a", "b", "cycles=1", "pool_size=64000"]  # b in its old place
    assert list(merged.loc[merged["run"] == "b", "avg"]) == [50.0, 50.5, 51.0]  # its old rows gone
    old = pd.read_csv(ledger, dtype={"value": str}).fillna({"ablation": "", "value": ""})
    others = merged[merged["run"].isin(["a", "cycles=1"])].drop(columns="source").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        others, old[old["run"].isin(["a", "cycles=1"])].reset_index(drop=True), check_dtype=False
    )
    t = tables.ablation_tables(merged)["pool_size"]
    assert list(t["value"]) == ["64000"] and t["last cross"].iloc[0] == 61.0


def test_the_paper_table_shows_missing_rows_as_not_run():
    board = pd.DataFrame(
        [
            {
                "model": "m",
                "kind": "bi",
                "stage": "start",
                **{s: 50.0 for s in tables.EVAL_SETS},
                "avg": 50.0,
                "protocol": "cosine",
            }
        ]
    )
    spec = {
        "tracks": [
            {
                "name": "t",
                "rows": [
                    {"label": "start", "model": "m", "kind": "bi", "stage": "start"},
                    {"label": "self cross", "model": "m", "kind": "cross", "stage": "cycle 1"},
                ],
            }
        ],
        "published": [{"label": "paper", "avg": 80.4}],
    }
    text = tables.paper_table(board, spec)
    assert "| start | 50.00 | 50.00 |" in text and "| self cross | not run |" in text
    assert "| paper |  |" in text and "| 80.40 |" in text


def _summary(seed, start, bi, cross):
    row = lambda cycle, kind, avg: {"cycle": cycle, "kind": kind, "member": "model", "avg": avg}  # noqa: E731
    return {
        "config": {"seed": seed},
        "cycles": [row(0, "bi", start), row(1, "bi", bi), row(1, "cross", cross)],
        "selected": {
            "bi": {"cycle": 1, "rule": "dev", "row": row(1, "bi", bi)},
            "cross": {"cycle": 1, "rule": "dev", "row": row(1, "cross", cross)},
        },
    }


def test_seed_rows_and_the_gain_report_set_each_gain_against_the_seeds_spread(tmp_path):
    import json

    from tenc.scoreboard import gain_report, seed_rows

    runs = []
    for seed, (bi, cross) in enumerate([(60.0, 64.0), (61.0, 64.5), (59.0, 65.0)]):
        (tmp_path / f"s{seed}").mkdir()
        (tmp_path / f"s{seed}" / "summary.json").write_text(json.dumps(_summary(seed, 59.5, bi, cross)))
        runs.append(tmp_path / f"s{seed}")
    rows = seed_rows(runs)
    assert rows[rows["kind"] == "cross"]["gain"].tolist() == [4.5, 5.0, 5.5]
    assert rows[rows["kind"] == "bi"]["gain"].tolist() == [0.5, 1.5, -0.5]
    rows.to_csv(tmp_path / "seeds.csv", index=False)
    text = gain_report(_summary(0, 59.5, 60.0, 64.0), tmp_path / "seeds.csv", sds=3.0)
    lines = text.splitlines()
    assert lines[0] == "start (cycle 0 bi-encoder): 59.50"
    # cross: +4.50 against sd 0.50 of its seeds' gains -> beyond 3 sd; bi: +0.50 against sd 1.00 -> not
    assert lines[2].startswith(
        "cross-encoder, cycle 1: 64.00 (+4.50 over the start); 3 seeds: gain +5.00 mean, sd 0.50"
    )
    assert lines[2].endswith("-> beyond noise (gain > 3 x sd 0.50)")
    assert lines[1].endswith("-> NOT beyond noise (gain > 3 x sd 1.00)")
    one = gain_report(_summary(0, 59.5, 60.0, 64.0), tmp_path / "missing.csv")
    assert "n=1 seed" in one and "beyond" not in one  # one seed and no board: no verdict at all
    no_start = _summary(0, 59.5, 60.0, 64.0)
    no_start["cycles"] = no_start["cycles"][1:]
    assert gain_report(no_start) == ""  # cycle 0 not evaluated: nothing to set against


def test_binary_table_quotes_the_task_rows_and_marks_the_missing():
    import pandas as pd

    from tenc.tables import binary_table

    board = pd.DataFrame(
        [
            {"task": "trecqa", "model": "m", "kind": "bi", "stage": "start", "dev": 81.3, "trecqa-test": 80.61},
            {"task": "qqp", "model": "m", "kind": "bi", "stage": "start", "dev": 1.0, "qqp-test": 2.0},
        ]
    )
    spec = {
        "binary": [
            {
                "name": "TrecQA",
                "task": "trecqa",
                "rows": [
                    {"label": "start", "model": "m", "kind": "bi", "stage": "start"},
                    {"label": "mutual", "model": "x", "kind": "bi", "stage": "cycle 1"},
                ],
            }
        ]
    }
    assert binary_table(board, spec).splitlines() == [
        "### TrecQA",
        "",
        "|  | dev | trecqa-test |",
        "|---|---|---|",
        "| start | 81.30 | 80.61 |",
        "| mutual | not run |  |",
    ]


def test_markdown_keeps_two_decimals_and_blanks_and_the_paper_table_its_provenance_cells():
    """One cell formatter for every table: floats with two decimals (tiny ones in e-notation), blanks for
    missing values, text as it is (a second formatter once shadowed it and printed 86.61 as 86)."""
    import pandas as pd

    from tenc import tables

    text = tables.markdown(pd.DataFrame({"dev": [86.6135], "lr": [2e-5], "seed": ["n/a"], "x": [None]}))
    assert text.splitlines()[-1] == "| 86.61 | 2e-05 | n/a |  |"
