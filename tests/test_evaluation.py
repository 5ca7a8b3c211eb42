"""Evaluation: the "all" setting, wmean, ROC-AUC and the paper layout."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from tenc import data, evaluation, models, tables


def test_all_setting_is_one_correlation_over_concatenated_subsets():
    rng = np.random.default_rng(0)
    preds = pd.DataFrame({"dataset": "STS12", "subset": ["a"] * 50 + ["b"] * 30, "score": rng.uniform(0, 5, 80)})
    preds["pred"] = preds["score"] + rng.normal(0, 2, 80) + (preds["subset"] == "b") * 3
    table = evaluation.table_from_predictions(preds)
    row = table.iloc[0]
    assert row["spearman"] == pytest.approx(spearmanr(preds["pred"], preds["score"]).statistic * 100)
    per = [spearmanr(g["pred"], g["score"]).statistic * 100 * len(g) for _, g in preds.groupby("subset")]
    assert row["wmean"] == pytest.approx(sum(per) / 80)
    assert row["spearman"] != pytest.approx(row["wmean"])  # different numbers, labelled apart


def test_roc_auc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    p = y + rng.normal(0, 1, 200)
    p[:20] = 0.5  # ties
    assert evaluation.roc_auc(p, y) == pytest.approx(roc_auc_score(y, p) * 100)
    with pytest.raises(ValueError, match="binary"):
        evaluation.roc_auc(p, y * 2)


def test_evaluate_tiny_model_on_fake_tree(tiny_bert, fake_sts, tmp_path):
    pairs = data.load_sts(fake_sts)
    bi = models.bi_encoder(tiny_bert)
    table, metrics, preds = evaluation.evaluate([bi], "bi", pairs)
    assert list(table["set"]) == list(data.EVAL_SETS) + ["avg"]
    assert np.isfinite(table["spearman"]).all()
    assert "sts_avg_spearman" in metrics and len(preds) == table["n"].iloc[-1]
    ens, _, _ = evaluation.evaluate([bi, bi], "bi", pairs)  # ensemble of one model twice
    assert np.allclose(ens["spearman"], table["spearman"])
    ce = models.cross_encoder(tiny_bert)
    ctable, _, _ = evaluation.evaluate([ce], "cross", pairs)
    assert np.isfinite(ctable["spearman"]).all()
    text = tables.format_paper_table([("tiny", table)])
    assert text.splitlines()[0].startswith("| model | STS12")
    evaluation.write_metrics(tmp_path / "m.json", metrics, {"model": "tiny"})
    assert (tmp_path / "m.json").read_text().startswith("{")
