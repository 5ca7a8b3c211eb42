"""tenc.losses: one registry for tenc's loop, the Trainer path and config validation."""

import numpy as np
import pytest
import torch

from tenc import losses
from tenc.config import CHOICES, ConfigError, DistillConfig


def test_the_registry_is_what_config_accepts():
    assert CHOICES["bi_loss"] == tuple(losses.LOSSES["bi"]) and CHOICES["cross_loss"] == tuple(losses.LOSSES["cross"])
    with pytest.raises(ConfigError, match="bi_loss"):
        DistillConfig.from_dict({"bi_loss": "huber"})


def test_an_unknown_loss_is_one_line_on_every_path():
    with pytest.raises(losses.UnknownLoss, match="unknown bi loss 'huber': use 'mse' or 'cosent'"):
        losses.loss_fn("bi", "huber")
    from tenc import st_train, train

    s, y = ["a", "b"], np.array([0.2, 0.8], dtype=np.float32)
    for path in (train, st_train):  # refused before any model is touched
        with pytest.raises(losses.UnknownLoss, match="unknown bi loss"):
            path.train_bi(None, s, s, y, loss="huber")
        with pytest.raises(losses.UnknownLoss, match="unknown cross loss"):
            path.train_cross(None, s, s, y, loss="hinge")


def test_each_loss_computes_what_its_formula_says():
    z, y = torch.tensor([0.0, 2.0]), torch.tensor([0.5, 1.0])
    s = torch.sigmoid(z)
    bce = -(y * torch.log(s) + (1 - y) * torch.log(1 - s)).mean()
    assert float(losses.loss_fn("cross", "bce")(z, y)) == pytest.approx(float(bce), rel=1e-6)
    assert float(losses.loss_fn("cross", "mse")(z, y)) == pytest.approx(float(((s - y) ** 2).mean()), rel=1e-6)
    c = torch.tensor([0.1, 0.9])
    assert float(losses.loss_fn("bi", "mse")(c, y)) == pytest.approx(float(((c - y) ** 2).mean()), rel=1e-6)
    c = torch.tensor([0.7, 0.6])  # y_1 > y_0 but c_1 < c_0: one wrongly ordered pair
    assert float(losses.loss_fn("bi", "cosent")(c, y)) == pytest.approx(np.log(1 + np.exp(20 * (0.7 - 0.6))), rel=1e-5)
