"""Typed, validated run settings and the embedded presets (``paper``, ``quick``, ``smoke``).

Every setting is a plain literal with a one-line "why". Unknown or mistyped keys are an error that
names the key and the closest valid one; values are type-checked and range-checked.

Example::

    from tenc.config import DistillConfig
    cfg = DistillConfig.from_preset("quick", cycles=2)
"""

from __future__ import annotations

import difflib
import math
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .losses import LOSSES
from .selection import RULES as SELECTION_RULES

EXTENDABLE = ("cycles",)  # a rerun may ask for more (or fewer) cycles in the same folder

POOL_MODES = ("transductive", "inductive", "disjoint")  # data.build_pool documents each


class ConfigError(ValueError):
    """An unknown, mistyped or out-of-range setting."""


class Member(typing.NamedTuple):
    """One model of the loop: its bi-encoder start and its cross-encoder initialisation."""

    start: str
    cross_init: str


@dataclass
class DistillConfig:
    start: str = "minilm-l6"  # bi-encoder start checkpoint (alias, folder or hub id); comma list = mutual members
    cross_init: str = ""  # cross-encoder initialisation per member; "" = same as start
    teachers: str = ""  # frozen bi-encoders (comma list): their cosines join every bi -> cross label mean
    teachers_teach: str = "cross"  # "cross": the teachers label for the cross student only; "both": their cosines
    # (mapped to [0, 1] like the bi labels) also join the cross -> bi label mean;
    # "bi": the teachers' raw cosines alone label the bi student and no cross-encoder
    # is trained (the standard distillation baseline, not Trans-Encoder)
    pooling: str = ""  # bi pooling for a plain LM start: "cls" (paper) or "mean"; "" keeps the saved one
    cycles: int = 3  # T, bi -> cross -> bi cycles (paper: 3)
    cross_layers: int = 0  # keep only the first N layers of cross_init (0 = all; rampart: its top layers tag PII)
    cross_init_mode: str = (
        "fresh"  # "fresh": cross_init every cycle (paper); "continue": own previous; "handover": previous bi
    )
    bi_init_mode: str = (
        "fresh"  # "fresh": start checkpoint every cycle (paper); "continue": own previous; "handover": this cross
    )
    cross_epochs: int = 1  # paper: 1
    cross_batch_size: int = 32  # paper: 32
    cross_lr: float = 2e-5  # paper: 2e-5
    cross_warmup: float = 0.1  # fraction of steps with linear warm-up (paper: 10 %)
    cross_max_length: int = 64  # tokens per pair (paper: 64)
    cross_loss: str = "bce"  # "bce" on soft targets (paper) or "mse" on the sigmoid
    bi_epochs: int = 10  # paper: 10
    bi_batch_size: int = 128  # paper: 128
    bi_lr: float = 5e-5  # paper: 5e-5
    bi_warmup: float = 0.0  # paper: no warm-up
    bi_max_length: int = 32  # tokens per sentence (paper: 32)
    lengths: str = "auto"  # "auto": STS keeps the two limits above, other tasks fit them to the pool; "fixed"
    bi_batches: str = "length"  # "length": length-bucketed batches (tenc); "random": the reference's order (CoSENT
    # then ranks pairs of mixed lengths inside a batch)
    bi_loss: str = "mse"  # "mse" between cos and the cross score (paper) or "cosent" (ranking)
    target_map: str = "clip"  # bi cosines -> BCE targets: "clip" to [0, 1], "minmax" rescale, "rank"
    label_both_orders: bool = False  # cross pseudo-labels averaged over (s1, s2) and (s2, s1) (paper: one order)
    label_history: str = "last"  # "last": a student learns its cycle's labels (paper); "mean": the mean of its
    # direction's labels of cycles 1..k (cross students: every bi -> cross label set so far; bi: every cross one)
    cross_orders: str = "one"  # cross scoring for dev, test and dev checks: "one" (s1, s2) (paper) or "both" (mean)
    eval_steps: int = 0  # STS-B dev check every N training steps, keep the best (paper: 200); 0 = off
    patience: int = 0  # end a stage after this many dev checks without a new best (0: train every step)
    min_delta: float = 0.0  # with patience: a dev check counts as a new best only if it gains more than this
    trainer: str = "tenc"  # student training loop: "tenc" (tenc.train) or "st" (sentence-transformers' Trainers)
    selection: str = "dev"  # per encoder, member: "dev" (best trained cycle, paper), "dev+start", "last", "agreement"
    task: str = "sts"  # "sts" (paper), "qqp", "qnli", "mrpc", "trecqa" (ROC-AUC) or "custom"
    pairs: str = ""  # custom task: the unlabelled pair file (.txt sent1||sent2, .tsv, .csv, .jsonl)
    dev: str = ""  # custom task: labelled dev file for selection; "" = label-free selection
    tests: str = ""  # custom task: comma-separated labelled test files
    task_data: str = ""  # qqp/qnli/mrpc/trecqa: train/dev/test folder; "" = hub (trecqa: ../shared/data/binary)
    pool: str = (
        "transductive"  # "transductive" (paper), "inductive" (no evaluation pair), "disjoint" (no test sentence)
    )
    max_pairs: int = 0  # subsample the pool to this many unique pairs; 0 = all (~36k)
    seed: int = 0  # seeds python, numpy and torch
    data: str = ""  # STS data folder; "" = $TENC_DATA, ./data/sts, ../shared/data/sts, hub
    threads: int = 2  # torch intra-op threads (this machine has 2 cores)
    checkpoint_minutes: float = 5.0  # save training progress inside a stage this often; a rerun resumes there (0: off)
    grad_accum: int = 1  # split each batch (each rank's share under torchrun) into this many micro-batches
    amp: str = ""  # mixed precision for training and pseudo-labelling: "" (fp32), "bf16", "fp16" (CUDA only),
    # "auto" (bf16 where the CPU has bf16 units, else fp32; resolved at the start and recorded in config.json)
    device: str = ""  # "" = this rank's GPU under torchrun with CUDA, else "cpu"
    evaluate_test: bool = True  # 7-task test evaluation of every cycle's encoders
    parallel: bool = False  # mutual only: train the members concurrently, one process each (threads split)

    @classmethod
    def from_dict(cls, values: dict) -> DistillConfig:
        return cls(**validate(cls, values))

    @classmethod
    def from_preset(cls, preset: str, **overrides) -> DistillConfig:
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
        return cls.from_dict({**PRESETS[preset], **overrides})

    @classmethod
    def from_sources(cls, preset: str, yaml_path: str = "", **overrides) -> DistillConfig:
        """Preset < YAML file (which may name its own preset) < explicit overrides."""
        values = load_yaml(yaml_path) if yaml_path else {}
        preset = values.pop("preset", None) or preset
        return cls.from_preset(preset, **{**values, **overrides})

    def to_dict(self) -> dict:
        return asdict(self)

    def student(self, kind: str) -> dict:
        """The training settings of the ``kind`` ("bi" or "cross") student, as `tenc.train` takes them."""
        keys = ("epochs", "batch_size", "lr", "warmup", "max_length", "loss") + (("batches",) if kind == "bi" else ())
        return {k: getattr(self, f"{kind}_{k}") for k in keys}

    @property
    def members(self) -> list[Member]:
        starts = [s.strip() for s in self.start.split(",") if s.strip()]
        inits = [s.strip() for s in self.cross_init.split(",") if s.strip()] or starts
        if len(inits) != len(starts):
            raise ConfigError(f"cross_init names {len(inits)} model(s) for {len(starts)} start model(s)")
        return [Member(s, i) for s, i in zip(starts, inits)]


# "continue": each student starts from its own type's previous cycle (was called "inherit", still accepted);
# "handover": the reference's mode without --init_with_new_models, weights cross the architectures:
# cross(c) <- bi(c-1), bi(c) <- cross(c)
INIT_MODES = ("fresh", "continue", "handover")
RENAMED = {("cross_init_mode", "inherit"): "continue", ("bi_init_mode", "inherit"): "continue"}

# What a run folder's config.json means when it was written by older code. Keys added later default to the
# behaviour they preserve, so a missing key takes today's default, except where tenc changed what a run does:
# before c5dfc7a (the commit that added cross_orders) cross-encoders scored and labelled in both orders and
# selection "dev" let the start compete (today's "dev+start"). Such a folder is read with those values, so it is
# never reported as one-order: resuming it with today's defaults is refused with the difference named.
BEFORE_ONE_ORDER = {"cross_orders": "both", "label_both_orders": True}


def saved_settings(saved: dict) -> dict:
    """A run folder's settings as the code that wrote them used them (see `BEFORE_ONE_ORDER`)."""
    saved = dict(saved)
    if "cross_orders" not in saved:
        saved = {**BEFORE_ONE_ORDER, **saved}
        if saved.get("selection", "dev") == "dev":
            saved["selection"] = "dev+start"
    return {**DistillConfig().to_dict(), **saved}


# settings that change how a run executes, not what it computes: ignored when a rerun is compared
RUNTIME_ONLY = ("threads", "parallel", "checkpoint_minutes", "grad_accum", "device")

CHOICES = {
    "pooling": ("", "cls", "mean"),
    "cross_init_mode": INIT_MODES,
    "bi_init_mode": INIT_MODES,
    "cross_orders": ("one", "both"),
    "cross_loss": tuple(LOSSES["cross"]),
    "bi_loss": tuple(LOSSES["bi"]),
    "bi_batches": ("length", "random"),
    "target_map": ("clip", "minmax", "rank"),
    "label_history": ("last", "mean"),
    "selection": SELECTION_RULES,
    "pool": POOL_MODES,
    "method": ("simcse", "mirror"),
    "amp": ("", "bf16", "fp16", "auto"),
    "lengths": ("auto", "fixed"),
    "task": ("sts", "qqp", "qnli", "mrpc", "trecqa", "custom"),
    "trainer": ("tenc", "st"),
    "teachers_teach": ("cross", "both", "bi"),
}
FRACTIONS = {"cross_warmup", "bi_warmup"}  # fractions of a stage's steps
RATES = {"cross_lr", "bi_lr", "lr"}  # learning rates: finite and above 0
POSITIVE = {
    "cycles",
    "cross_epochs",
    "cross_batch_size",
    "cross_max_length",
    "bi_epochs",
    "bi_batch_size",
    "bi_max_length",
    "threads",
    "steps",
    "batch_size",
    "max_length",
    "grad_accum",
}


def validate(cls, values: dict) -> dict:
    """Check keys, types and ranges of ``values`` against the dataclass ``cls``; return cleaned values."""
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    out = {}
    for key, value in values.items():
        value = RENAMED.get((key, value), value) if isinstance(value, str) else value
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown parameter {key!r}{hint}")
        typ = hints[key]
        if typ is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"parameter {key!r} must be true/false, got {value!r}")
        elif typ is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"parameter {key!r} must be an integer, got {value!r}")
        elif typ is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"parameter {key!r} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ConfigError(f"parameter {key!r} must be finite, got {value!r}")
            if key in FRACTIONS and not 0 <= value <= 1:
                raise ConfigError(f"parameter {key!r} is a fraction of the steps, in [0, 1]; got {value!r}")
            if key in RATES and value <= 0:
                raise ConfigError(f"parameter {key!r} must be positive, got {value!r}")
        elif typ is str:
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise ConfigError(f"parameter {key!r} must be a string, got {value!r}")
        if key in CHOICES and value not in CHOICES[key]:
            raise ConfigError(f"parameter {key!r} must be one of {CHOICES[key]}, got {value!r}")
        if key in POSITIVE and value <= 0:
            raise ConfigError(f"parameter {key!r} must be positive, got {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"parameter {key!r} must not be negative, got {value!r}")
        out[key] = value
    return out


# The reference scripts' settings (PAPER.md), and two reduced budgets for this 2-core CPU.
PRESETS: dict[str, dict] = {
    "paper": {"cycles": 3, "cross_epochs": 1, "bi_epochs": 10, "eval_steps": 200, "selection": "dev"},
    # make run (about 25 min here with priming and setup): the paper's settings on an 8k-pair pool, one cycle,
    # 4 bi epochs
    "main": {"cycles": 1, "max_pairs": 8000, "cross_epochs": 1, "bi_epochs": 4, "eval_steps": 100, "selection": "dev"},
    # ~20 min a cycle here: 4k pairs, one epoch each, cross labels in one order, dev checked at the end
    "quick": {"cycles": 1, "max_pairs": 4000, "cross_epochs": 1, "bi_epochs": 1, "eval_steps": 0},
    # seconds: for tests on a tiny model
    "smoke": {
        "cycles": 1,
        "max_pairs": 32,
        "cross_epochs": 1,
        "bi_epochs": 1,
        "cross_batch_size": 8,
        "bi_batch_size": 8,
        "eval_steps": 0,
        "evaluate_test": True,
    },
}


def load_yaml(path: str | Path) -> dict:
    import yaml

    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of parameter: value")
    return values


# The ablations of notebooks/40_ablation.ipynb: name -> (values, value -> DistillConfig overrides)
ABLATIONS: dict[str, tuple[tuple[str, ...], typing.Callable[[str], dict]]] = {
    "cycles": (("1", "2", "3"), lambda v: {"cycles": int(v)}),
    "init": (("fresh", "inherit"), lambda v: {"cycles": 2, "cross_init_mode": v, "bi_init_mode": v}),
    "cross_loss": (tuple(LOSSES["cross"]), lambda v: {"cross_loss": v}),
    "bi_loss": (tuple(LOSSES["bi"]), lambda v: {"bi_loss": v}),
    "pooling": (("cls", "mean"), lambda v: {"pooling": v}),
    "pool_size": (("1000", "4000", "16000", "all"), lambda v: {"max_pairs": 0 if v == "all" else int(v)}),
    "pool": (POOL_MODES, lambda v: {"pool": v}),
}


def ablation_overrides(name: str, value: str) -> dict:
    """The settings one ablation value changes (on top of the base budget)."""
    if name not in ABLATIONS:
        raise ConfigError(f"unknown ablation {name!r}: use one of {', '.join(ABLATIONS)}")
    values, make = ABLATIONS[name]
    if str(value) not in values:
        raise ConfigError(f"ablation {name!r} takes one of {values}, got {value!r}")
    return make(str(value))


@dataclass
class PrimeConfig:
    """Priming settings (`tenc.prime`): here, below every module that reads them, so tables can fill an old
    run's missing settings without importing the priming code."""

    model: str = "rampart"  # language model to prime (alias, folder or hub id)
    layers: int = 0  # keep only the first N transformer layers (0 = all)
    method: str = "simcse"  # "simcse" or "mirror"
    pooling: str = "cls"  # "cls" (SimCSE) or "mean"
    mlp: bool = False  # SimCSE's MLP over the pooled vector during training only
    steps: int = 500  # optimisation steps
    batch_size: int = 64  # sentences per step (in-batch negatives)
    lr: float = 3e-5  # AdamW learning rate
    temperature: float = 0.0  # 0 = the method's own (SimCSE 0.05, Mirror-BERT 0.04)
    max_length: int = 32  # tokens per sentence
    span: int = 5  # Mirror-BERT: masked span length
    corpus: str = "pool"  # "pool" or a one-sentence-per-line file
    max_sentences: int = 0  # subsample the corpus; 0 = all
    length_buckets: bool = False  # batches of similar lengths (about 2x fewer tokens; negatives of similar length)
    dev_select: bool = False  # keep the best STS-B dev checkpoint instead of the last step
    eval_steps: int = 100  # dev check interval when dev_select
    seed: int = 0
    data: str = ""  # STS data folder ("" = default resolution)
    threads: int = 2
    device: str = ""  # "" = the GPU when there is one, else "cpu"
    evaluate_test: bool = True  # 7-task evaluation of the primed model

    @classmethod
    def from_dict(cls, values: dict) -> PrimeConfig:
        cfg = cls(**validate(cls, values))
        if cfg.method not in ("simcse", "mirror"):
            raise ConfigError(f"parameter 'method' must be 'simcse' or 'mirror', got {cfg.method!r}")
        if cfg.pooling not in ("cls", "mean"):
            raise ConfigError(f"parameter 'pooling' must be 'cls' or 'mean', got {cfg.pooling!r}")
        if cfg.batch_size < 2:
            raise ConfigError("parameter 'batch_size' must be at least 2 (in-batch negatives)")
        return cfg

    @property
    def tau(self) -> float:
        return self.temperature or (0.05 if self.method == "simcse" else 0.04)
