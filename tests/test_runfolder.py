"""tenc.runfolder: the Layout that owns a run folder's paths."""

from tenc.runfolder import Layout


def test_layout_names_every_path_and_sorts_cycles_numerically(tmp_path):
    layout = Layout(tmp_path)
    for k in (1, 2, 10, 9):
        (tmp_path / f"cycle_{k}").mkdir()
    (tmp_path / "cycle_x").mkdir()  # not a cycle
    (tmp_path / "cycle_3").write_text("a file, not a cycle folder")
    assert layout.cycles() == [1, 2, 9, 10]
    assert layout.cycle(0) == tmp_path / "start" and layout.cycle(2) == tmp_path / "cycle_2"
    assert layout.labels(1, "bi") == tmp_path / "cycle_1" / "labels_bi.npy"
    assert layout.labels(0, "teachers") == tmp_path / "start" / "labels_teachers.npy"
    assert layout.student(2, "cross", "_1") == tmp_path / "cycle_2" / "cross_1"
    assert layout.preds(1, "bi") == tmp_path / "cycle_1" / "preds_bi_model.csv"
    assert layout.marker(1, "train_bi") == tmp_path / "cycle_1" / "train_bi.done.json"
    assert layout.best_student("bi") == tmp_path / "best" / "bi"
    assert (layout.config, layout.pool, layout.summary) == (
        tmp_path / "config.json",
        tmp_path / "pool.tsv",
        tmp_path / "summary.json",
    )


def test_a_finished_run_writes_where_the_layout_says(tiny_bert, fake_sts, tmp_path):
    from tenc import distill
    from tenc.config import DistillConfig

    distill.run(
        DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts),
        tmp_path / "run",
        progress=False,
        log=lambda *_: None,
    )
    layout = Layout(tmp_path / "run")
    cycles = layout.cycles()
    assert cycles and all(layout.labels(c, s).is_file() for c in cycles for s in ("bi", "cross"))
    assert all((layout.student(c, k) / "modules.json").is_file() for c in cycles for k in ("bi", "cross"))
    assert layout.summary.is_file() and (layout.best_student("bi") / "modules.json").is_file()


def test_an_old_two_order_config_is_never_read_with_todays_defaults(tmp_path):
    """A config.json written before cross_orders existed (c5dfc7a) labelled and scored in both orders and let
    the start compete under 'dev': resumed or reused today it keeps those meanings, so it cannot be relabelled
    one-order; today's defaults are refused with the difference named, the old settings are accepted."""
    import json
    from dataclasses import replace

    import pytest

    from tenc.config import ConfigError, DistillConfig, saved_settings
    from tenc.runfolder import check_config

    cfg = DistillConfig.from_preset("smoke", start="x")
    old = {k: v for k, v in cfg.to_dict().items() if k not in ("cross_orders", "label_both_orders")}
    old["label_both_orders"] = True  # as c5dfc7a's parent wrote it
    (tmp_path / "config.json").write_text(json.dumps(old))
    (tmp_path / "cycle_1").mkdir()
    (tmp_path / "cycle_1" / "label_bi.done.json").write_text("{}")  # it labelled under those settings
    assert saved_settings(old)["cross_orders"] == "both" and saved_settings(old)["selection"] == "dev+start"
    with pytest.raises(ConfigError, match=r"other settings .*'cross_orders': \('both', 'one'\)"):
        check_config(tmp_path, cfg)
    legacy = replace(cfg, cross_orders="both", label_both_orders=True, selection="dev+start")
    check_config(tmp_path, legacy)  # the settings it was made with: accepted
    newer = {**old, "cross_orders": "one", "label_both_orders": False}  # a config written after c5dfc7a
    assert saved_settings(newer)["selection"] == "dev"
