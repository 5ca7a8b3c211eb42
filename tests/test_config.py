"""Typed settings: unknown or mistyped keys fail fast with a clear message."""

import pytest

from tenc.config import PRESETS, ConfigError, DistillConfig


def test_presets_validate():
    for name in PRESETS:
        assert DistillConfig.from_preset(name).cycles >= 1
    assert DistillConfig.from_preset("paper").bi_epochs == 10


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(ConfigError, match=r"unknown parameter 'cyles' \(did you mean 'cycles'\?\)"):
        DistillConfig.from_dict({"cyles": 2})


@pytest.mark.parametrize(
    "values,message",
    [
        ({"cycles": "3"}, "must be an integer"),
        ({"cycles": 0}, "must be positive"),
        ({"cross_lr": "fast"}, "must be a number"),
        ({"selection": "best"}, "must be one of"),
        ({"label_both_orders": 1}, "true/false"),
    ],
)
def test_bad_values(values, message):
    with pytest.raises(ConfigError, match=message):
        DistillConfig.from_dict(values)


def test_members():
    assert DistillConfig(start="a,b").members == [("a", "a"), ("b", "b")]
    with pytest.raises(ConfigError):
        _ = DistillConfig(start="a,b", cross_init="c").members


def test_ablations_map_to_valid_settings():
    from tenc.config import ABLATIONS, DistillConfig, ablation_overrides

    for name, (values, _) in ABLATIONS.items():
        for v in values:
            DistillConfig.from_preset("quick", **ablation_overrides(name, v))
    assert ablation_overrides("pool_size", "all") == {"max_pairs": 0}
    with pytest.raises(ConfigError, match="unknown ablation 'loss'"):
        ablation_overrides("loss", "mse")
    with pytest.raises(ConfigError, match=r"takes one of \('bce', 'mse'\)"):
        ablation_overrides("cross_loss", "hinge")
