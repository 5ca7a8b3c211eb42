"""Training loops for the two students, written for a CPU: no padding waste, no framework overhead.

* `train_cross`: a one-logit `CrossEncoder` on (s1, s2, soft target) with BCE on soft targets (the
  paper) or MSE on the sigmoid; every pair in both orders.
* `train_bi`: a `SentenceTransformer` with MSE between cos(u, v) and the target (the paper), or
  CoSENT as a ranking alternative. Both sentences of a batch go through one forward pass.

Batches keep the paper's fixed size but are built from similar lengths: the shuffled data is cut
into mega-batches of 50 batches, each sorted by length and split, and the batch order is shuffled
again (padding falls from ~40 % to a few percent; see `TrainStats.padding`).
Optimiser: AdamW (weight decay 0.01, eps 1e-6), linear warm-up then decay, gradient clip 1.0.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import random
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .encode import pad_batch, tokenize_pairs, tokenize_sentences, uses_token_types


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class TrainStats:
    steps: int = 0
    examples: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    dev: list[tuple[int, float]] = field(default_factory=list)
    best_step: int | None = None
    resumed_from: int | None = None  # the step a mid-stage checkpoint resumed from
    stopped_at: int | None = None  # the step early stopping ended the stage at (None: every step trained)

    @property
    def padding(self) -> float:
        return 1.0 - self.real_tokens / max(self.padded_tokens, 1)

    def summary(self) -> dict:
        return {
            "steps": self.steps,
            "examples": self.examples,
            "seconds": round(self.seconds, 1),
            "tokens_real": self.real_tokens,
            "tokens_processed": self.padded_tokens,
            "padding_fraction": round(self.padding, 4),
            "tokens_per_second": round(self.padded_tokens / max(self.seconds, 1e-9), 1),
            "examples_per_second": round(self.examples / max(self.seconds, 1e-9), 2),
            "loss_first": self.losses[0] if self.losses else None,
            "loss_last": float(np.mean(self.losses[-20:])) if self.losses else None,
            "dev": self.dev,
            "best_step": self.best_step,
            "resumed_from_step": self.resumed_from,
            "stopped_at_step": self.stopped_at,
        }


def length_bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, mega: int = 50
) -> list[np.ndarray]:
    """Fixed-size batches of similar lengths in random order (see module docstring)."""
    order = rng.permutation(len(lengths))
    batches = []
    span = batch_size * mega
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def optimizer(model: torch.nn.Module, lr: float, weight_decay: float, total: int, warmup: float):
    """AdamW (eps 1e-6, no decay on biases and LayerNorm) and a linear warm-up then linear decay over ``total``
    steps: the reference's optimiser, shared by distillation and priming."""
    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in params if not n.endswith(no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    try:  # the fused kernel: one pass over all parameters (measured ~19x faster per step than the default here)
        opt = torch.optim.AdamW(groups, lr=lr, eps=1e-6, fused=True)
    except (RuntimeError, TypeError):  # a device or build without it
        opt = torch.optim.AdamW(groups, lr=lr, eps=1e-6)
    warm = int(total * warmup)

    def schedule(step: int) -> float:
        if step < warm:
            return (step + 1) / max(warm, 1)
        return max(0.0, (total - step) / max(total - warm, 1))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule)


class TrainingDiverged(ValueError):
    """A non-finite loss: training stopped before anything was saved."""


@dataclass
class Checkpoint:
    """Mid-stage progress: every `minutes`, the model, optimiser, scheduler, RNG and counters go to `path`
    (atomically); a rerun with the same `fingerprint` resumes from there on the same data order."""

    path: Path
    fingerprint: str
    minutes: float = 5.0

    def save(self, model, opt, sched, stats: TrainStats, best: float, best_state) -> None:
        state = {
            "fingerprint": self.fingerprint,
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "sched": sched.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "stats": asdict(stats),
            "best": best,
            "best_state": best_state,
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.path)
        if os.environ.get("TENC_KILL_AFTER_SAVE") == f"{self.path.name}:{stats.steps}":  # fault injection (tests)
            os.kill(os.getpid(), signal.SIGKILL)

    def load(self) -> dict | None:
        """The saved state, or None when there is none, it is unreadable or it belongs to other settings."""
        if not self.path.is_file():
            return None
        try:
            state = torch.load(
                self.path, weights_only=True
            )  # tensors and plain data only: a run folder is untrusted input
        except Exception:  # a torn or foreign file: start the stage over rather than trust it
            return None
        return state if state.get("fingerprint") == self.fingerprint else None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def checks_without_gain(dev: list[tuple[int, float]], min_delta: float = 0.0) -> int:
    """How many of the latest dev checks in a row failed to beat the best so far by more than ``min_delta``
    (the count early stopping compares with ``patience``; 0 right after a gain)."""
    best, since = -math.inf, 0
    for _, score in dev:
        best, since = (score, 0) if score > best + min_delta else (best, since + 1)
    return since


def _loop(
    model,
    batches_per_epoch,
    epochs: int,
    lr: float,
    warmup: float,
    weight_decay: float,
    step_fn,
    dev_fn,
    eval_steps: int,
    seed: int,
    desc: str,
    progress: bool,
    checkpoint: Checkpoint | None = None,
    grad_accum: int = 1,
    amp: str = "",
    patience: int = 0,
    min_delta: float = 0.0,
) -> TrainStats:
    """Shared optimisation loop; keeps the best dev state when ``dev_fn`` and ``eval_steps`` are given and
    resumes from ``checkpoint`` (same seed, so the same batches) when it holds a matching state.
    ``patience`` > 0 ends the stage early once that many dev checks in a row have not beaten the best by
    more than ``min_delta`` (early stopping on a dev plateau; the best state is kept either way).

    Under torchrun the model is wrapped in ``DistributedDataParallel`` and each global batch is split
    across ranks (`tenc.distributed`); ``grad_accum`` cuts each rank's share into that many
    micro-batches; ``amp`` ("bf16", or "fp16" on CUDA) runs forward passes under autocast."""
    from . import distributed as tdist

    ddp = model
    if tdist.active():
        ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    dev = next(model.parameters()).device
    if amp not in ("", "bf16", "fp16"):
        raise ValueError(f"amp must be '', 'bf16' or 'fp16', got {amp!r}")
    if amp == "fp16" and dev.type != "cuda":
        raise ValueError("amp='fp16' needs a CUDA device; use 'bf16' on a CPU")
    autocast = (
        (lambda: torch.autocast(dev.type, dtype=torch.bfloat16 if amp == "bf16" else torch.float16))
        if amp
        else contextlib.nullcontext
    )
    scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None
    rng = np.random.default_rng(seed)
    epoch_batches = [batches_per_epoch(rng) for _ in range(epochs)]
    total = sum(len(b) for b in epoch_batches)
    opt, sched = optimizer(model, lr, weight_decay, total, warmup)
    stats = TrainStats()
    best, best_state = -math.inf, None
    saved = checkpoint.load() if checkpoint else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        sched.load_state_dict(saved["sched"])
        torch.set_rng_state(saved["torch_rng"])
        stats = TrainStats(**saved["stats"])
        stats.resumed_from = stats.steps
        best, best_state = saved["best"], saved["best_state"]
    if tdist.active():  # replicas start equal (DDP broadcasts rank 0's weights); dropout differs per rank
        torch.manual_seed(seed + 7919 * tdist.rank())
    model.train()
    start = time.perf_counter() - stats.seconds
    last_save = time.perf_counter()
    bar = tqdm(total=total, initial=stats.steps, desc=desc, disable=not progress, leave=False)
    done = stats.steps
    for batches in epoch_batches:
        if done >= len(batches):  # a whole epoch already trained before the resume
            done -= len(batches)
            continue
        for idx in batches[done:]:
            local = tdist.split_batch(idx)
            parts = [c for c in np.array_split(local, min(grad_accum, len(local))) if len(c)]
            loss, real, padded = 0.0, 0, 0
            for j, part in enumerate(parts):
                sync = contextlib.nullcontext() if (ddp is model or j == len(parts) - 1) else ddp.no_sync()
                with sync:
                    with autocast():
                        value, r, p = step_fn(part, ddp)
                    value = value * (len(part) / len(local))
                    (scaler.scale(value) if scaler else value).backward()
                loss, real, padded = loss + value.detach(), real + r, padded + p
            if scaler:
                scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            if scaler:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            stats.steps += 1
            stats.examples += len(idx)
            stats.real_tokens += real
            stats.padded_tokens += padded
            stats.losses.append(float(loss.detach()))
            if not math.isfinite(stats.losses[-1]):  # stop before non-finite weights are checkpointed or saved
                raise TrainingDiverged(
                    f"{desc}: the loss is {stats.losses[-1]:.4g} at step {stats.steps} "
                    f"(lr {lr:g}); lower the learning rate of this stage"
                )
            bar.update(1)
            if stats.steps % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(stats.losses[-20:]):.4f}")
            if dev_fn is not None and eval_steps and (stats.steps % eval_steps == 0 or stats.steps == total):
                score = dev_fn()
                model.train()
                stats.dev.append((stats.steps, round(score, 4)))
                if score > best:
                    best, best_state, stats.best_step = score, copy.deepcopy(model.state_dict()), stats.steps
                if patience and checks_without_gain(stats.dev, min_delta) >= patience:
                    stats.stopped_at = stats.steps
                    break
            if checkpoint and stats.steps < total and time.perf_counter() - last_save >= 60 * checkpoint.minutes:
                stats.seconds = time.perf_counter() - start
                checkpoint.save(model, opt, sched, stats, best, best_state)
                last_save = time.perf_counter()
        done = 0
        if stats.stopped_at is not None:
            break
    bar.close()
    stats.seconds = time.perf_counter() - start
    if best_state is not None and stats.best_step != stats.steps:
        model.load_state_dict(best_state)
    model.eval()
    return stats


def cross_examples(s1, s2, targets, loss: str, both_orders: bool):
    """The cross student's checked inputs: (s1, s2, targets as float32), every pair in both orders if asked."""
    targets = np.asarray(targets, dtype=np.float32)
    if len(s1) != len(s2) or len(s1) != len(targets):
        raise ValueError("s1, s2 and targets must have the same length")
    if loss not in ("bce", "mse"):
        raise ValueError(f"unknown cross loss {loss!r}: use 'bce' or 'mse'")
    if targets.min() < 0 or targets.max() > 1:
        raise ValueError("cross-encoder targets must lie in [0, 1]; map them first (see distill.to_unit)")
    if both_orders:
        return list(s1) + list(s2), list(s2) + list(s1), np.concatenate([targets, targets])
    return list(s1), list(s2), targets


def bi_examples(s1, s2, targets, loss: str) -> np.ndarray:
    """The bi student's checked targets (float32)."""
    targets = np.asarray(targets, dtype=np.float32)
    if len(s1) != len(s2) or len(s1) != len(targets):
        raise ValueError("s1, s2 and targets must have the same length")
    if loss not in ("mse", "cosent"):
        raise ValueError(f"unknown bi loss {loss!r}: use 'mse' or 'cosent'")
    return targets


def unique_sentence_ids(tok, s1, s2, max_length: int):
    """Token ids of the pairs' unique sentences (a pool repeats many, each is tokenised once), their lengths
    and, per pair, the positions of its two sentences among them."""
    uniq = list(dict.fromkeys(list(s1) + list(s2)))
    pos = {s: i for i, s in enumerate(uniq)}
    ids = tokenize_sentences(tok, uniq, max_length)
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    return ids, lengths, np.array([pos[s] for s in s1]), np.array([pos[s] for s in s2])


def train_cross(
    model,
    s1: list[str],
    s2: list[str],
    targets: np.ndarray,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    lr: float = 2e-5,
    warmup: float = 0.1,
    weight_decay: float = 0.01,
    max_length: int = 64,
    loss: str = "bce",
    both_orders: bool = True,
    seed: int = 0,
    dev_fn=None,
    eval_steps: int = 0,
    progress: bool = True,
    checkpoint: Checkpoint | None = None,
    grad_accum: int = 1,
    amp: str = "",
    patience: int = 0,
    min_delta: float = 0.0,
) -> TrainStats:
    """Train a one-logit CrossEncoder in place on soft targets in [0, 1]."""
    s1, s2, targets = cross_examples(s1, s2, targets, loss, both_orders)
    seed_everything(seed)
    tok = model.tokenizer
    backbone = model[0].auto_model
    ids, types = tokenize_pairs(tok, s1, s2, max_length)
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    keep_types = uses_token_types(model)
    y_all = torch.from_numpy(targets)
    pad = tok.pad_token_id or 0

    def step(idx, module):
        batch = pad_batch([ids[i] for i in idx], pad, [types[i] for i in idx])
        if not keep_types:
            batch.pop("token_type_ids")
        dev = next(backbone.parameters()).device
        logits = module(**{k: v.to(dev) for k, v in batch.items()}).logits[:, 0].float()
        y = y_all[torch.as_tensor(idx)].to(dev)
        if loss == "bce":
            value = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        else:
            value = torch.nn.functional.mse_loss(torch.sigmoid(logits), y)
        return value, int(lengths[idx].sum()), int(lengths[idx].max()) * len(idx)

    return _loop(
        backbone,
        lambda rng: length_bucketed_batches(lengths, batch_size, rng),
        epochs,
        lr,
        warmup,
        weight_decay,
        step,
        dev_fn,
        eval_steps,
        seed,
        "train cross",
        progress,
        checkpoint,
        grad_accum,
        amp,
        patience,
        min_delta,
    )


def cosent_loss(cos: torch.Tensor, y: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
    """CoSENT: log(1 + sum over pairs (i, j) with y_i > y_j of exp(scale * (cos_j - cos_i)))."""
    diff = scale * (cos[None, :] - cos[:, None])  # [i, j] = s * (cos_j - cos_i)
    mask = (y[:, None] > y[None, :]).float()  # y_i > y_j
    diff = diff - (1 - mask) * 1e12
    return torch.logsumexp(torch.cat([diff.new_zeros(1), diff.flatten()]), dim=0)


def train_bi(
    model,
    s1: list[str],
    s2: list[str],
    targets: np.ndarray,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 5e-5,
    warmup: float = 0.0,
    weight_decay: float = 0.01,
    max_length: int = 32,
    loss: str = "mse",
    seed: int = 0,
    dev_fn=None,
    eval_steps: int = 0,
    progress: bool = True,
    checkpoint: Checkpoint | None = None,
    grad_accum: int = 1,
    amp: str = "",
    chunks: int = 4,
    patience: int = 0,
    min_delta: float = 0.0,
) -> TrainStats:
    """Train a SentenceTransformer in place so that cos(u, v) matches the targets."""
    targets = bi_examples(s1, s2, targets, loss)
    seed_everything(seed)
    tok = model.tokenizer
    ids, slen, a, b = unique_sentence_ids(tok, s1, s2, max_length)
    pair_len = np.maximum(slen[a], slen[b])
    keep_types = uses_token_types(model)
    y_all = torch.from_numpy(targets)
    pad = tok.pad_token_id or 0

    def step(idx, module):
        # the batch's 2B sentences, sorted by length and cut into `chunks` forward passes, each padded
        # to its own longest: padding falls from ~10 % to ~5 % (one backward over all of them)
        sent = np.concatenate([a[idx], b[idx]])
        order = np.argsort(slen[sent], kind="stable")
        dev = next(model.parameters()).device
        parts, padded = [], 0
        for chunk in np.array_split(order, min(chunks, len(order))):
            batch = pad_batch([ids[i] for i in sent[chunk]], pad)
            if not keep_types:
                batch.pop("token_type_ids")
            parts.append(module({k: v.to(dev) for k, v in batch.items()})["sentence_embedding"].float())
            padded += int(batch["input_ids"].numel())
        emb = torch.empty((len(sent), parts[0].shape[1]), dtype=parts[0].dtype, device=parts[0].device)
        emb = emb.index_copy(0, torch.as_tensor(order, device=emb.device), torch.cat(parts))
        u, v = emb[: len(idx)], emb[len(idx) :]
        cos = torch.nn.functional.cosine_similarity(u, v)
        y = y_all[torch.as_tensor(idx)].to(dev)
        value = torch.nn.functional.mse_loss(cos, y) if loss == "mse" else cosent_loss(cos, y)
        real = int(slen[a[idx]].sum() + slen[b[idx]].sum())
        return value, real, padded

    return _loop(
        model,
        lambda rng: length_bucketed_batches(pair_len, batch_size, rng),
        epochs,
        lr,
        warmup,
        weight_decay,
        step,
        dev_fn,
        eval_steps,
        seed,
        "train bi",
        progress,
        checkpoint,
        grad_accum,
        amp,
        patience,
        min_delta,
    )
