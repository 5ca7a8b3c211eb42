"""The callback that gives sentence-transformers' Trainers tenc's stage contract (`tenc.st_train`): a progress
bar, per-step losses, dev checks with the best state kept, early stopping, divergence stops and time-based
mid-stage checkpoints."""

from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from .loop import TrainingDiverged, TrainStats, checks_without_gain


class TencCallback(TrainerCallback):
    """Progress bar, per-step loss, dev checks with the best state kept, early stopping and time-based
    checkpoints (carrying this callback's own state) for a Trainer run."""

    def __init__(
        self,
        model,
        stats: TrainStats,
        dev_fn,
        eval_steps: int,
        patience: int,
        min_delta: float,
        bar,
        minutes: float,
        desc: str,
        lr: float,
    ):
        self.model, self.stats, self.dev_fn, self.eval_steps = model, stats, dev_fn, eval_steps
        self.patience, self.min_delta, self.bar, self.minutes = patience, min_delta, bar, minutes
        self.desc, self.lr = desc, lr
        self.best, self.best_state = -math.inf, None
        self.start = self.last_save = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.stats.losses.append(float(logs["loss"]))
            if not math.isfinite(self.stats.losses[-1]):
                raise TrainingDiverged(
                    f"{self.desc}: the loss is {self.stats.losses[-1]:.4g} at step "
                    f"{state.global_step} (lr {self.lr:g}); lower the learning rate of this stage"
                )

    def on_step_end(self, args, state, control, **kwargs):
        self.bar.update(state.global_step - self.bar.n)
        if (
            self.dev_fn is not None
            and self.eval_steps
            and (state.global_step % self.eval_steps == 0 or state.global_step == state.max_steps)
        ):
            score = self.dev_fn()
            self.model.train()
            self.stats.dev.append((state.global_step, round(score, 4)))
            if score > self.best:
                self.best, self.stats.best_step = score, state.global_step
                self.best_state = copy.deepcopy(self.model.state_dict())
            if self.patience and checks_without_gain(self.stats.dev, self.min_delta) >= self.patience:
                self.stats.stopped_at = state.global_step
                control.should_training_stop = True
        if (
            self.minutes
            and state.global_step < state.max_steps
            and time.perf_counter() - self.last_save >= 60 * self.minutes
        ):
            control.should_save = True
        return control

    def on_save(self, args, state, control, **kwargs):
        """The dev history and best state travel with the Trainer's checkpoint."""
        torch.save(
            {
                "losses": self.stats.losses,
                "dev": self.stats.dev,
                "best_step": self.stats.best_step,
                "best": self.best,
                "best_state": self.best_state,
                "seconds": time.perf_counter() - self.start,
            },
            Path(args.output_dir) / f"checkpoint-{state.global_step}" / "tenc.pt",
        )
        self.last_save = time.perf_counter()

    def restore(self, folder: Path) -> None:
        state = torch.load(folder / "tenc.pt", weights_only=True)
        self.stats.losses, self.stats.best_step = state["losses"], state["best_step"]
        self.stats.dev = [tuple(d) for d in state["dev"]]
        self.best, self.best_state = state["best"], state["best_state"]
        self.start = time.perf_counter() - state["seconds"]
        self.stats.resumed_from = json.loads((folder / "trainer_state.json").read_text())["global_step"]
        self.bar.update(self.stats.resumed_from)
