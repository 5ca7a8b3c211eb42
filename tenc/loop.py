"""The shared optimisation loop of every training stage (both students, both priming methods' AdamW), with
what it needs: seeding, length-bucketed batches, the optimiser and schedule, mid-stage checkpoints, dev checks
with the best state kept, early stopping, torchrun data parallel and autocast.

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

from .heartbeat import Heartbeat


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def loss_curve(losses: list[float], points: int = 100) -> list[tuple[int, float]]:
    """(step, mean loss of the steps since the previous point): about ``points`` points over a stage."""
    every = max(1, -(-len(losses) // points))
    return [
        (min(i + every, len(losses)), round(float(np.mean(losses[i : i + every])), 5))
        for i in range(0, len(losses), every)
    ]


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

    def loss_curve(self, points: int = 100) -> list[tuple[int, float]]:
        return loss_curve(self.losses, points)

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
            "loss_curve": self.loss_curve(),
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


def random_batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Fixed-size batches of a random permutation (the reference's order; lengths mixed in every batch)."""
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


BATCHINGS = ("length", "random")


def batches_for(batching: str, lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's batches: ``length`` (length-bucketed, tenc's default) or ``random`` (the reference's)."""
    if batching == "random":
        return random_batches(len(lengths), batch_size, rng)
    if batching != "length":
        raise ValueError(f"unknown batching {batching!r}: use 'length' or 'random'")
    return length_bucketed_batches(lengths, batch_size, rng)


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


def optimise(
    *,
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
    heartbeat = Heartbeat(desc, total, initial=stats.steps, every=None if tdist.is_main() else 0)
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
            heartbeat.beat(
                stats.steps, loss=f"{np.mean(stats.losses[-20:]):.4f}", dev=stats.dev[-1][1] if stats.dev else None
            )
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
