"""tenc's student training vs sentence-transformers' Trainers, the API its users are told to use today.

Same model (minilm-l6), pairs, targets, hyperparameters and seed, one process, one stage at a time:

* ``tenc`` — `tenc.train.train_cross` / `train_bi` (length-bucketed batches, fused AdamW);
* ``trainer`` — `CrossEncoderTrainer` (`BinaryCrossEntropyLoss`) / `SentenceTransformerTrainer`
  (`CosineSimilarityLoss`) with their defaults (random batches; their default optimiser);
* ``trainer+grouped`` — the same Trainers with the best batching a user can configure: a
  length-grouped ``batch_sampler`` (`LengthGroupedBatchSampler` below: mega-batches of 50 batches
  sorted by character length, then shuffled batch order, the same scheme tenc uses);
* ``tenc on trainer`` — tenc's own Trainer path (`tenc.st_train`, ``--set trainer=st``): the Trainers
  replaying exactly the batches of tenc's loop, with tenc's dev checks and stats.

Each row: examples/s, the STS-B dev Spearman the trained model reaches (equal examples: one epoch each)
and the ratio of tenc's throughput to the peer's. Dev at equal time follows from the two (a faster side
could train more in the same time); it is not run separately.

    python benchmarks/trainers.py --pairs 1000 --seeds 3     # ~40 min here
    python benchmarks/trainers.py --pairs 64                 # smoke, ~2 min
    python benchmarks/trainers.py --pairs 1000 --seeds 3 --bi-chunks 2,1   # + tenc's bi step in 2 and 1 passes

Writes ``results/bench_trainers.csv`` and adds ``ratio_trainer`` / ``ratio_trainer_grouped`` to the
training rows of ``results/bench.csv`` with the same pair count (the legacy ``fit`` ratio is ``ratio``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import data, encode, evaluation, models, train  # noqa: E402


def length_grouped(dataset, batch_size: int, drop_last: bool, valid_label_columns=None, generator=None, seed: int = 0):
    """A ``batch_sampler`` factory for the Trainers (the signature sentence-transformers documents)."""
    from sentence_transformers.base.sampler import DefaultBatchSampler

    class LengthGroupedBatchSampler(DefaultBatchSampler):
        def __init__(self):
            super().__init__(dataset, batch_size, drop_last, valid_label_columns, generator, seed)
            texts = [c for c in dataset.column_names if c not in (valid_label_columns or []) and c != "label"]
            self.lengths = np.sum([[len(t) for t in dataset[c]] for c in texts], axis=0)
            self.epoch = 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = epoch

        def __iter__(self):
            rng = np.random.default_rng(self.seed + self.epoch)
            order = rng.permutation(len(self.lengths))
            mega = 50 * self.batch_size
            batches = []
            for i in range(0, len(order), mega):
                chunk = order[i : i + mega]
                chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]
                batches += [chunk[j : j + self.batch_size].tolist() for j in range(0, len(chunk), self.batch_size)]
            if self.drop_last:
                batches = [b for b in batches if len(b) == self.batch_size]
            for k in rng.permutation(len(batches)):
                yield batches[k]

        def __len__(self):
            n = len(self.lengths)
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    return LengthGroupedBatchSampler()


def trainer_args(cls, out: str, batch_size: int, lr: float, warmup: float, seed: int, grouped: bool):
    extra = {"batch_sampler": length_grouped} if grouped else {}
    return cls(
        output_dir=out,
        num_train_epochs=1,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        warmup_steps=warmup,
        seed=seed,
        save_strategy="no",
        report_to="none",
        logging_strategy="no",
        disable_tqdm=True,
        use_cpu=True,
        dataloader_num_workers=0,
        **extra,
    )


def trainer_cross(s1, s2, targets, seed: int, grouped: bool):
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    torch.manual_seed(seed)
    model = models.cross_encoder("minilm-l6", max_length=64, seed=seed)
    ds = Dataset.from_dict(
        {"sentence1": s1 + s2, "sentence2": s2 + s1, "label": np.concatenate([targets, targets]).astype(float).tolist()}
    )  # both orders, as tenc
    with tempfile.TemporaryDirectory() as out:
        trainer = CrossEncoderTrainer(
            model=model,
            args=trainer_args(CrossEncoderTrainingArguments, out, 32, 2e-5, 0.1, seed, grouped),
            train_dataset=ds,
            loss=BinaryCrossEntropyLoss(model),
        )
        t = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t
    return model, len(ds) / seconds


def trainer_bi(s1, s2, targets, seed: int, grouped: bool):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

    torch.manual_seed(seed)
    model = models.bi_encoder("minilm-l6", max_seq_length=32)
    ds = Dataset.from_dict({"sentence1": s1, "sentence2": s2, "label": targets.astype(float).tolist()})
    with tempfile.TemporaryDirectory() as out:
        trainer = SentenceTransformerTrainer(
            model=model,
            args=trainer_args(SentenceTransformerTrainingArguments, out, 128, 5e-5, 0.0, seed, grouped),
            train_dataset=ds,
            loss=CosineSimilarityLoss(model),
        )
        t = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t
    return model, len(ds) / seconds


def trainer_path_cross(s1, s2, targets, seed: int):
    from tenc import st_train

    model = models.cross_encoder("minilm-l6", max_length=64, seed=seed)
    stats = st_train.train_cross(
        model, s1, s2, targets, batch_size=32, lr=2e-5, warmup=0.1, max_length=64, seed=seed, progress=False
    )
    return model, stats.examples / stats.seconds


def trainer_path_bi(s1, s2, targets, seed: int):
    from tenc import st_train

    model = models.bi_encoder("minilm-l6", max_seq_length=32)
    stats = st_train.train_bi(model, s1, s2, targets, batch_size=128, lr=5e-5, max_length=32, seed=seed, progress=False)
    return model, stats.examples / stats.seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=1000)
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument(
        "--peers",
        default="tenc,trainer,trainer+grouped,tenc on trainer",
        help="comma-separated subset of the peers to time (tenc is always timed: the ratios need it)",
    )
    p.add_argument(
        "--bi-chunks",
        default="",
        help="also time tenc's bi step with these forward-pass counts (comma-separated; tenc's default is 4), e.g. 2,1",
    )
    p.add_argument("--out", default=str(ROOT / "results" / "bench_trainers.csv"))
    p.add_argument("--bench", default=str(ROOT / "results" / "bench.csv"), help="add the ratio columns here")
    args = p.parse_args()
    torch.set_num_threads(2)
    pairs = data.load_sts()
    pool = data.build_pool(pairs, seed=0).pairs.sample(frac=1.0, random_state=0).reset_index(drop=True).head(args.pairs)
    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    # the same targets as benchmarks/run.py: minilm-l6's cosines (cross) and its cross logits (bi)
    cos = encode.pair_cosines(models.bi_encoder("minilm-l6", max_seq_length=32), s1, s2, max_length=32)
    cross_t = np.clip(cos, 0, 1).astype(np.float32)
    lg = encode.cross_logits(models.cross_encoder("minilm-l6", max_length=64), s1, s2, max_length=64)
    bi_t = (1 / (1 + np.exp(-lg))).astype(np.float32)

    rows = []
    for kind, targets in (("cross", cross_t), ("bi", bi_t)):
        for seed in range(args.seeds):
            extra = [f"tenc chunks={c}" for c in args.bi_chunks.split(",") if c] if kind == "bi" else []
            others = [q for q in ("trainer", "trainer+grouped", "tenc on trainer") if q in args.peers.split(",")]
            for peer in ["tenc", *extra, *others]:
                if peer == "tenc on trainer":
                    model, rate = (trainer_path_cross if kind == "cross" else trainer_path_bi)(s1, s2, targets, seed)
                elif peer.startswith("tenc"):
                    if kind == "cross":
                        model = models.cross_encoder("minilm-l6", max_length=64, seed=seed)
                        stats = train.train_cross(
                            model,
                            s1,
                            s2,
                            targets,
                            batch_size=32,
                            lr=2e-5,
                            warmup=0.1,
                            max_length=64,
                            seed=seed,
                            progress=False,
                        )
                    else:
                        model = models.bi_encoder("minilm-l6", max_seq_length=32)
                        chunks = int(peer.split("=")[1]) if "=" in peer else 4
                        stats = train.train_bi(
                            model,
                            s1,
                            s2,
                            targets,
                            batch_size=128,
                            lr=5e-5,
                            max_length=32,
                            seed=seed,
                            progress=False,
                            chunks=chunks,
                        )
                    rate = stats.examples / stats.seconds
                else:
                    fit = trainer_cross if kind == "cross" else trainer_bi
                    model, rate = fit(s1, s2, targets, seed, grouped=peer == "trainer+grouped")
                dev = evaluation.dev_spearman([model], kind, pairs)
                rows.append(
                    {
                        "pairs": len(s1),
                        "stage": f"train {kind}",
                        "peer": peer,
                        "seed": seed,
                        "examples_per_s": rate,
                        "dev": dev,
                    }
                )
                print(f"train {kind}, seed {seed}, {peer}: {rate:.2f} examples/s, dev {dev:.2f}", flush=True)
    df = pd.DataFrame(rows)
    med = (
        df.groupby(["pairs", "stage", "peer"], sort=False)
        .agg(
            examples_per_s=("examples_per_s", "median"),
            dev=("dev", "median"),
            dev_range=("dev", lambda d: d.max() - d.min()),
            seeds=("seed", "count"),
        )
        .reset_index()
    )
    tenc_rate = med[med["peer"] == "tenc"].set_index("stage")["examples_per_s"]
    med["tenc_ratio"] = med["examples_per_s"].rdiv(med["stage"].map(tenc_rate))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    med.to_csv(args.out, index=False, float_format="%.4g")
    with pd.option_context("display.width", 200):
        print(med.round(3).to_string(index=False))
    bench = Path(args.bench)
    if bench.is_file():
        b = pd.read_csv(bench)
        for peer, col in (("trainer", "ratio_trainer"), ("trainer+grouped", "ratio_trainer_grouped")):
            ratio = med[med["peer"] == peer].set_index("stage")["tenc_ratio"]
            if col not in b.columns:
                b[col] = np.nan
            for stage, value in ratio.items():
                b.loc[(b["pairs"] == len(s1)) & (b["what"] == f"{stage} (pairs/s)"), col] = value
        b.to_csv(bench, index=False, float_format="%.4g")
    return 0


if __name__ == "__main__":
    sys.exit(main())
