"""The README's figures: gains over the start on one shared scale, collapsed students on the floor."""

import pandas as pd
import pytest

from tenc import plots


def _board():
    rows = [
        ("s", "bi", "primed", 50.0),
        ("r", "bi", "cycle 1", 55.0),
        ("r", "cross", "cycle 1", 20.0),
        ("a", "bi", "start", 78.0),
        ("b", "bi", "cycle 1", 78.5),
    ]
    return pd.DataFrame([{"model": m, "kind": k, "stage": s, "avg": v} for m, k, s, v in rows])


def test_gains_figure_bars_are_the_gains_on_one_scale():
    spec = {
        "tracks": [
            {
                "name": "one",
                "rows": [
                    {"label": "start", "model": "s", "kind": "bi", "stage": "primed"},
                    {"label": "bi", "model": "r", "kind": "bi", "stage": "cycle 1"},
                    {"label": "cross", "model": "r", "kind": "cross", "stage": "cycle 1"},
                    {"label": "absent", "model": "x", "kind": "bi", "stage": "cycle 1"},
                ],
            },
            {
                "name": "two",
                "rows": [
                    {"label": "start", "model": "a", "kind": "bi", "stage": "start"},
                    {"label": "bi", "model": "b", "kind": "bi", "stage": "cycle 1"},
                    {"label": "another model", "model": "r", "kind": "bi", "stage": "cycle 1", "reference": True},
                ],
            },
        ]
    }  # compared in the table, no gain bar
    fig = plots.gains_figure(_board(), spec, {"bi": 4.2})
    one, two = fig.axes
    assert [round(p.get_width(), 2) for p in one.patches] == [5.0, plots.FLOOR]  # -30 is drawn on the floor
    assert "-30.00 (cut)" in [t.get_text() for t in one.texts]
    assert [round(p.get_width(), 2) for p in two.patches] == [0.5]
    assert one.get_xlim() == two.get_xlim()  # shared scale
    assert any(line.get_xdata()[0] == 4.2 for line in one.lines)  # the paper's gain as a line
    assert [t.get_text() for t in one.get_yticklabels()] == ["bi", "cross"]  # bars named, in table order
    assert one.get_subplotspec().get_gridspec().get_height_ratios() == [2, 1]  # a panel's height: its rows


def test_cycles_figure_draws_changes_from_each_start_on_one_scale():
    df = pd.DataFrame(
        [
            {"run": r, "cycle": c, "kind": k, "member": "model", "avg": v, "ablation": ""}
            for r, c, k, v in [
                ("a", 0, "bi", 50.0),
                ("a", 1, "bi", 52.0),
                ("a", 1, "cross", 10.0),
                ("b", 0, "bi", 80.0),
                ("b", 1, "bi", 80.2),
            ]
        ]
    )
    fig = plots.cycles_figure(df)
    a, b = fig.axes
    assert list(a.lines[0].get_ydata()) == [0.0, 2.0] and list(a.lines[1].get_ydata()) == [plots.FLOOR]
    assert [round(y, 2) for y in b.lines[0].get_ydata()] == [0.0, 0.2] and a.get_ylim() == b.get_ylim()


def test_cycles_figure_gives_each_track_its_own_rows():
    names = [
        "quick q",
        "main job 1",
        "paper p",
        "main job 2",
        "main job 3",
        "main job 4",
        "main job 5",
        "zz",
        "paper minilm-l6",
    ]
    df = pd.DataFrame(
        [
            {"run": r, "cycle": c, "kind": "bi", "member": "model", "avg": 50.0 + c, "ablation": ""}
            for r in names
            for c in (0, 1)
        ]
    )
    fig = plots.cycles_figure(df)
    places = [
        (ax.get_title().split("\n")[0], ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start)
        for ax in fig.axes
    ]
    assert places == [
        ("paper p", 0, 0),
        ("main job 1", 1, 0),
        ("main job 2", 1, 1),
        ("main job 3", 1, 2),
        ("main job 4", 1, 3),
        ("main job 5", 2, 0),
        ("paper minilm-l6", 3, 0),
        ("quick q", 4, 0),
        ("zz", 5, 0),
    ]
    assert plots.track_of("paper minilm-l6") == "adaptation" and plots.track_of("paper rampart") == "paper track"
    assert fig.axes[1].get_ylabel().startswith("main job") and fig.axes[5].get_ylabel().startswith("main job")
    assert fig.axes[2].get_ylabel() == ""


def test_the_ablation_figure_zooms_to_its_values_four_panels_a_row():
    t = {
        f"a{i}": pd.DataFrame(
            {"value": ["x", "y"], "start": [78.8, 78.8], "last bi": [76.3, 77.0], "last cross": [71.8, 72.5]}
        )
        for i in range(5)
    }
    fig = plots.ablation_figure(t)
    axes = fig.axes
    assert len(fig.legends) == 1 and not any(a.get_legend() for a in axes)  # one legend, off the panels
    assert len(axes) == 5 and [a.get_subplotspec().rowspan.start for a in axes] == [0, 0, 0, 0, 1]
    assert axes[0].get_ylim() == pytest.approx((69.8, 80.8))  # bars from 0 would hide a 1-point gap
    assert {x.get_text() for x in axes[0].texts} == {"76.3", "77.0", "71.8", "72.5"}  # each bar's value
    # values with different starts (pooling=cls starts from a cls-pooled model) each show their own
    t = {
        "pooling": pd.DataFrame(
            {"value": ["cls", "mean"], "start": [73.6, 78.8], "last bi": [74.0, 76.2], "last cross": [63.8, 71.8]}
        )
    }
    (start,) = [c for c in plots.ablation_figure(t).axes[0].collections if c.get_label() == "start"]
    assert sorted(seg[0][1] for seg in start.get_segments()) == [73.6, 78.8]
    # one collapsed student (pool_size=1000's cross) does not flatten the other panels; its value shows
    t["pool_size"] = pd.DataFrame(
        {"value": ["1000", "4000"], "start": [78.8, 78.8], "last bi": [79.0, 76.3], "last cross": [6.8, 71.8]}
    )
    fig = plots.ablation_figure(t)
    assert fig.axes[0].get_ylim()[0] > 55
    assert {x.get_text() for x in fig.axes[1].texts} == {"79.0", "76.3", "6.8\n(below)", "71.8", ""}
