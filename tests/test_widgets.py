"""PairInspector, headless: set filter values, click buttons, check rows shown and `selected`."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tenc import distill
from tenc.config import DistillConfig
from tenc.widgets import PairInspector


@pytest.fixture
def inspector():
    pairs = pd.DataFrame(
        {
            "dataset": ["A", "A", "B", "B"],
            "subset": ["x"] * 4,
            "sentence1": ["a man eats", "a dog runs", "the cat sleeps", "two people talk"],
            "sentence2": ["a man is eating", "a cat sleeps", "the cat is asleep", "a car drives"],
            "score": [5.0, 1.0, 4.5, 0.0],
        }
    )
    scores = {"cycle_1:bi": np.array([0.9, 0.8, 0.7, 0.1]), "cycle_1:cross": np.array([0.95, 0.1, 0.8, 0.05])}
    return PairInspector(pairs, scores)


def test_filters_and_sorting(inspector):
    assert len(inspector.selected) == 4
    inspector.dataset.value = "B"
    assert inspector.selected["sentence1"].tolist() == ["the cat sleeps", "two people talk"]
    inspector.dataset.value = "all"
    inspector.search.value = "cat"
    assert set(inspector.selected.index) == {1, 2}
    inspector.search.value = ""
    inspector.sort.value = "bi_vs_cross"  # pair 1: bi ranks it high, cross low
    assert inspector.selected.index[0] == 1
    inspector.sort.value = "model_vs_gold"
    inspector.model.value = "cycle_1:bi"
    assert inspector.selected.index[0] == 1
    inspector.page.value = 2
    assert len(inspector.selected) == 2 and "showing 2" in inspector.table.value


def test_pair_detail_and_live_scoring(inspector, tiny_bert):
    from tenc import models

    inspector.pick.value = 2
    assert "the cat is asleep" in inspector.detail.value
    assert inspector.plot.value[:8] == b"\x89PNG\r\n\x1a\n"  # the trajectory, as an image
    inspector.score_button.click()
    assert "type two sentences" in inspector.live.value
    inspector.live_bi = models.bi_encoder(tiny_bert)
    inspector.live_cross = models.cross_encoder(tiny_bert)
    inspector.s1.value, inspector.s2.value = "a man eats", "a man is eating"
    inspector.score_button.click()
    assert "bi cosine" in inspector.live.value and "cross score" in inspector.live.value


def test_from_a_real_run_uses_saved_predictions(tiny_bert, fake_sts, tmp_path):
    cfg = DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts)
    distill.run(cfg, tmp_path, progress=False, log=lambda *_: None)
    insp = PairInspector.from_run(tmp_path, live=True)
    assert insp.models == ["start:bi", "cycle_1:bi", "cycle_1:cross"]
    assert len(insp.selected) == 20 and {"sentence1", "score"} <= set(insp.selected.columns)
    insp.pick.value = int(insp.selected.index[0])
    assert insp.trajectory_figure(insp.pick.value).axes
    with pytest.raises(ValueError, match="have 1 values for 4 pairs"):
        PairInspector(insp.frame.head(4)[["sentence1", "sentence2"]], {"m": np.zeros(1)})
    from tenc.widgets import _selected_dir

    assert _selected_dir(tmp_path, "bi") == tmp_path / "best" / "bi"  # live scoring uses the run's selection


def test_the_inspector_opens_on_make_runs_folder_and_says_what_is_missing(tmp_path):
    import ast

    from tenc.runs import load_plan

    ROOT = Path(__file__).resolve().parents[1]
    source = (ROOT / "notebooks" / "explore_pairs.py").read_text()
    default = next(
        n.value.value for n in ast.parse(source).body if isinstance(n, ast.AnnAssign) and n.target.id == "run_dir"
    )
    made = {s["parameters"].get("run_dir") for s in load_plan(ROOT / "params" / "plans" / "main.yaml")}
    assert default in made  # the folder make run writes
    with pytest.raises(FileNotFoundError, match="no such run folder; `make run` writes papermill_runs/20_distill/main"):
        PairInspector.from_run(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="has not finished an evaluation"):
        PairInspector.from_run(tmp_path / "empty")
