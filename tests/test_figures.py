"""The README's figures: gains over the start on one shared scale, collapsed students on the floor."""

import pandas as pd

from tenc import tables


def _board():
    rows = [("s", "bi", "primed", 50.0), ("r", "bi", "cycle 1", 55.0), ("r", "cross", "cycle 1", 20.0),
            ("a", "bi", "start", 78.0), ("b", "bi", "cycle 1", 78.5)]
    return pd.DataFrame([{"model": m, "kind": k, "stage": s, "avg": v} for m, k, s, v in rows])


def test_gains_figure_bars_are_the_gains_on_one_scale():
    spec = {"tracks": [{"name": "one", "rows": [{"label": "start", "model": "s", "kind": "bi", "stage": "primed"},
                                                {"label": "bi", "model": "r", "kind": "bi", "stage": "cycle 1"},
                                                {"label": "cross", "model": "r", "kind": "cross", "stage": "cycle 1"},
                                                {"label": "absent", "model": "x", "kind": "bi", "stage": "cycle 1"}]},
                       {"name": "two", "rows": [{"label": "start", "model": "a", "kind": "bi", "stage": "start"},
                                                {"label": "bi", "model": "b", "kind": "bi", "stage": "cycle 1"}]}]}
    fig = tables.gains_figure(_board(), spec, {"bi": 4.2})
    one, two = fig.axes
    assert [round(p.get_height(), 2) for p in one.patches] == [5.0, tables.FLOOR]  # -30 is drawn on the floor
    assert "-30.00 (cut)" in [t.get_text() for t in one.texts]
    assert [round(p.get_height(), 2) for p in two.patches] == [0.5]
    assert one.get_ylim() == two.get_ylim()                                       # shared scale
    assert any(line.get_ydata()[0] == 4.2 for line in one.lines)                  # the paper's gain as a line


def test_cycles_figure_draws_changes_from_each_start_on_one_scale():
    df = pd.DataFrame([{"run": r, "cycle": c, "kind": k, "member": "model", "avg": v, "ablation": ""}
                       for r, c, k, v in [("a", 0, "bi", 50.0), ("a", 1, "bi", 52.0), ("a", 1, "cross", 10.0),
                                          ("b", 0, "bi", 80.0), ("b", 1, "bi", 80.2)]])
    fig = tables.cycles_figure(df)
    a, b = fig.axes
    assert list(a.lines[0].get_ydata()) == [0.0, 2.0] and list(a.lines[1].get_ydata()) == [tables.FLOOR]
    assert [round(y, 2) for y in b.lines[0].get_ydata()] == [0.0, 0.2] and a.get_ylim() == b.get_ylim()
