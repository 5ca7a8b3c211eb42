"""The students' losses: one registry that tenc's loop, the sentence-transformers Trainer path and config
validation all read, so an unknown name is refused in one line everywhere and no path trains another loss.

| student | name     | loss (y: the pseudo-label in [0, 1], z: the cross logit, c: cos(u, v))        | setting      |
|---------|----------|-------------------------------------------------------------------------------|--------------|
| cross   | `bce`    | -[y log s(z) + (1 - y) log(1 - s(z))], soft targets (the paper)               | `cross_loss` |
| cross   | `mse`    | (s(z) - y)^2                                                                  | `cross_loss` |
| bi      | `mse`    | (c - y)^2 (the paper)                                                         | `bi_loss`    |
| bi      | `cosent` | log(1 + sum over pairs i, j in the batch with y_i > y_j of exp(20 (c_j - c_i))) | `bi_loss`  |

Each function takes the batch's raw outputs (logits or cosines) and targets and returns the mean loss.
"""

from __future__ import annotations


def _bce(logits, y):
    import torch.nn.functional as F

    return F.binary_cross_entropy_with_logits(logits, y)


def _sigmoid_mse(logits, y):
    import torch
    import torch.nn.functional as F

    return F.mse_loss(torch.sigmoid(logits), y)


def _mse(cos, y):
    import torch.nn.functional as F

    return F.mse_loss(cos, y)


def cosent_loss(cos, y, scale: float = 20.0):
    """CoSENT: log(1 + sum over pairs (i, j) with y_i > y_j of exp(scale * (cos_j - cos_i)))."""
    import torch

    diff = scale * (cos[None, :] - cos[:, None])  # [i, j] = s * (cos_j - cos_i)
    mask = (y[:, None] > y[None, :]).float()  # y_i > y_j
    diff = diff - (1 - mask) * 1e12
    return torch.logsumexp(torch.cat([diff.new_zeros(1), diff.flatten()]), dim=0)


LOSSES = {
    "cross": {"bce": _bce, "mse": _sigmoid_mse},
    "bi": {"mse": _mse, "cosent": cosent_loss},
}


class UnknownLoss(ValueError):
    """A loss name the registry does not hold (a one-line error at the CLI)."""


def loss_fn(kind: str, name: str):
    """The ``kind`` student's loss called ``name``; an unknown name is refused in one line."""
    known = LOSSES[kind]
    if name not in known:
        raise UnknownLoss(f"unknown {kind} loss {name!r}: use {' or '.join(repr(n) for n in known)}")
    return known[name]
