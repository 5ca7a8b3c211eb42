"""The two students trained on sentence-transformers' Trainers (``--set trainer=st``).

The same contract as `tenc.train` (same arguments, same `TrainStats`, the best dev state kept, early
stopping, mid-stage resume) on `CrossEncoderTrainer` / `SentenceTransformerTrainer` with their own
losses: `BinaryCrossEntropyLoss` on soft targets (or `MSELoss` on the sigmoid) for the cross-encoder,
`CosineSimilarityLoss` (or `CoSENTLoss`) for the bi-encoder. What tenc adds is the batch order: the
Trainers take a ``batch_sampler`` that yields exactly the batches `tenc.train` would (length-bucketed,
from the same seed), so the two paths differ only in the loop that runs them.

The Trainers bring their tested AMP path, logging integrations and checkpoints. Not under torchrun: DDP
over a CrossEncoder fails inside the Trainer here, so a distributed run keeps tenc's loop (a one-line
error says so). On this CPU the Trainers are measured against tenc's loop in ``benchmarks/trainers.py``
(docs/performance.md).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sentence_transformers.base.sampler import DefaultBatchSampler
from tqdm.auto import tqdm
from transformers import PrinterCallback

from . import distributed as tdist
from .encode import tokenize_pairs
from .loop import (
    Checkpoint,
    TrainStats,
    batches_for,
    seed_everything,
)
from .losses import loss_fn
from .st_callback import TencCallback
from .train import bi_examples, cross_examples, unique_sentence_ids

TORCHRUN_REFUSED = "trainer='st' runs in one process; under torchrun use trainer='tenc' (tenc's own DDP path)"


class ReplayBatchSampler(DefaultBatchSampler):
    """Yields the batches of ``epoch_batches`` (one list per epoch), each cut into ``parts`` micro-batches
    (gradient accumulation: consecutive micro-batches make up one of tenc's batches)."""

    def __init__(
        self,
        dataset,
        epoch_batches: list[list[np.ndarray]],
        parts: int,
        batch_size: int,
        drop_last: bool,
        *args,
        **kwargs,
    ):
        super().__init__(dataset, batch_size, drop_last, *args, **kwargs)
        self.epoch_batches, self.parts = epoch_batches, parts

    def __iter__(self):
        for batch in self.epoch_batches[min(self.epoch, len(self.epoch_batches) - 1)]:
            for part in np.array_split(batch, self.parts):
                yield part.tolist()

    def __len__(self) -> int:
        return len(self.epoch_batches[0]) * self.parts


class Replay:
    """The ``batch_sampler`` argument for the Trainers (a picklable factory: checkpoints pickle the arguments)."""

    def __init__(self, epoch_batches: list[list[np.ndarray]], parts: int):
        self.epoch_batches, self.parts = epoch_batches, parts

    def __call__(self, dataset, batch_size: int, drop_last: bool, *args, **kwargs) -> ReplayBatchSampler:
        return ReplayBatchSampler(dataset, self.epoch_batches, self.parts, batch_size, drop_last, *args, **kwargs)


def _run(
    kind: str,
    model,
    s1,
    s2,
    targets,
    lengths,
    token_counts,
    *,
    epochs,
    batch_size,
    lr,
    warmup,
    weight_decay,
    loss,
    seed,
    dev_fn,
    eval_steps,
    progress,
    checkpoint: Checkpoint | None,
    grad_accum,
    amp,
    patience,
    min_delta,
    batches: str = "length",
) -> TrainStats:
    from datasets import Dataset

    if amp == "fp16" and next(model.parameters()).device.type != "cuda":
        raise ValueError("amp='fp16' needs a CUDA device; use 'bf16' on a CPU")
    if tdist.active():  # measured: DDP over a CrossEncoder fails in the Trainer here ("marked ready twice")
        raise ValueError(TORCHRUN_REFUSED)
    parts = grad_accum
    if batch_size % parts:
        raise ValueError(f"the {kind} batch size {batch_size} must divide into grad_accum {grad_accum} micro-batches")
    rng = np.random.default_rng(seed)  # the batches tenc's own loop draws from this seed
    epoch_batches = [batches_for(batches, lengths, batch_size, rng) for _ in range(epochs)]
    total = sum(len(b) for b in epoch_batches)
    ds = Dataset.from_dict({"sentence1": list(s1), "sentence2": list(s2), "label": np.asarray(targets, float).tolist()})
    if kind == "cross":
        from sentence_transformers.cross_encoder import CrossEncoderTrainer as Trainer
        from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments as Args
        from sentence_transformers.cross_encoder import losses

        trainer_losses = {
            "bce": lambda: losses.BinaryCrossEntropyLoss(model),
            "mse": lambda: losses.MSELoss(model, activation_fn=torch.nn.Sigmoid()),
        }
    else:
        from sentence_transformers import SentenceTransformerTrainer as Trainer
        from sentence_transformers import SentenceTransformerTrainingArguments as Args
        from sentence_transformers.sentence_transformer import losses

        trainer_losses = {
            "mse": lambda: losses.CosineSimilarityLoss(model),
            "cosent": lambda: losses.CoSENTLoss(model, scale=20.0),
        }
    loss_fn(kind, loss)  # the registry's names; each has its Trainer twin above
    fn = trainer_losses[loss]()

    out = (
        checkpoint.path.with_name(checkpoint.path.name + ".trainer")
        if checkpoint
        else Path(tempfile.mkdtemp(prefix="tenc-st-"))
    )
    resume = None
    if checkpoint:
        stamp = out / "fingerprint.json"
        saved = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
        if (
            saved
            and stamp.is_file()
            and stamp.read_text() == checkpoint.fingerprint
            and (saved[-1] / "tenc.pt").is_file()
        ):
            resume = saved[-1]
        else:
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            stamp.write_text(checkpoint.fingerprint)
    args = Args(
        output_dir=str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size // parts,
        gradient_accumulation_steps=grad_accum,
        learning_rate=lr,
        warmup_steps=int(total * warmup),
        lr_scheduler_type="linear",
        weight_decay=weight_decay,
        adam_epsilon=1e-6,
        max_grad_norm=1.0,
        optim="adamw_torch_fused",
        seed=seed,
        data_seed=seed,
        batch_sampler=Replay(epoch_batches, parts),
        bf16=amp == "bf16",
        fp16=amp == "fp16",
        save_strategy="no",
        save_total_limit=1,
        logging_strategy="steps",
        logging_steps=1,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        use_cpu=next(model.parameters()).device.type == "cpu",
    )
    stats = TrainStats()
    bar = tqdm(total=total, desc=f"train {kind}", disable=not progress, leave=False)
    callback = TencCallback(
        model,
        stats,
        dev_fn,
        eval_steps,
        patience,
        min_delta,
        bar,
        checkpoint.minutes if checkpoint else 0,
        f"train {kind}",
        lr,
    )
    trainer = Trainer(model=model, args=args, train_dataset=ds, loss=fn, callbacks=[callback])
    trainer.remove_callback(PrinterCallback)  # the progress bar and TrainStats carry what it would print
    if resume is not None:
        callback.restore(resume)
    try:
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    finally:
        bar.close()
    stats.seconds = time.perf_counter() - callback.start
    stats.steps = trainer.state.global_step
    done = [b for batches in epoch_batches for b in batches][: stats.steps]
    stats.examples = sum(len(b) for b in done)
    counts = np.array([token_counts(b) for b in done], dtype=np.int64).reshape(-1, 2)  # (real, padded) per batch
    stats.real_tokens, stats.padded_tokens = (int(v) for v in counts.sum(axis=0))
    if callback.best_state is not None and stats.best_step != stats.steps:
        model.load_state_dict(callback.best_state)
    model.eval()
    shutil.rmtree(out, ignore_errors=True)
    return stats


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
    """`tenc.train.train_cross` on `CrossEncoderTrainer`: same arguments, same batches, same result type."""
    s1, s2, targets = cross_examples(s1, s2, targets, loss, both_orders)
    seed_everything(seed)
    model.max_length = max_length
    ids, _ = tokenize_pairs(model.tokenizer, s1, s2, max_length)
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    return _run(
        "cross",
        model,
        s1,
        s2,
        targets,
        lengths,
        lambda b: (lengths[b].sum(), lengths[b].max() * len(b)),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        warmup=warmup,
        weight_decay=weight_decay,
        loss=loss,
        seed=seed,
        dev_fn=dev_fn,
        eval_steps=eval_steps,
        progress=progress,
        checkpoint=checkpoint,
        grad_accum=grad_accum,
        amp=amp,
        patience=patience,
        min_delta=min_delta,
    )


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
    chunks: int = 0,
    batches: str = "length",
    patience: int = 0,
    min_delta: float = 0.0,
) -> TrainStats:
    """`tenc.train.train_bi` on `SentenceTransformerTrainer` (its loss embeds each column in one pass;
    ``chunks`` is accepted for the same signature and unused)."""
    targets = bi_examples(s1, s2, targets, loss)
    seed_everything(seed)
    model.max_seq_length = max_length
    _, slen, a, b = unique_sentence_ids(model.tokenizer, s1, s2, max_length)
    la, lb = slen[a], slen[b]
    return _run(
        "bi",
        model,
        s1,
        s2,
        targets,
        np.maximum(la, lb),
        lambda b: (la[b].sum() + lb[b].sum(), (la[b].max() + lb[b].max()) * len(b)),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        warmup=warmup,
        weight_decay=weight_decay,
        loss=loss,
        seed=seed,
        dev_fn=dev_fn,
        eval_steps=eval_steps,
        progress=progress,
        checkpoint=checkpoint,
        grad_accum=grad_accum,
        amp=amp,
        patience=patience,
        min_delta=min_delta,
        batches=batches,
    )
