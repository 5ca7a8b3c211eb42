"""tenc vs the obvious way (sentence-transformers' own APIs with their defaults), side by side.

Same model (minilm-l6), same pairs, same hyperparameters, one process, alternating the two sides:

* labelling: ``tenc.encode.pair_cosines`` vs ``SentenceTransformer.encode`` of both columns (batch 32);
  ``tenc.encode.cross_logits`` vs ``CrossEncoder.predict`` (batch 32);
* training: ``tenc.train.train_cross`` vs ``CrossEncoder.fit`` (the reference code's call) and
  ``tenc.train.train_bi`` vs ``SentenceTransformer.fit`` with ``CosineSimilarityLoss`` (MSE on the cosine);
* the STS-B dev Spearman each trained side reaches, so a speed-up cannot hide a quality loss;
* bi labelling on a large pool too (``--label-pairs``): a real pool repeats sentences, which tenc embeds once;
* tokens processed vs real tokens, and achieved FLOP/s (2 x non-embedding parameters per token forward,
  x3 with backward) against a measured fp32 matmul peak of this CPU. tenc counts its own tokens; the
  sentence-transformers side's padding is computed from the same tokenizer for its batching (random
  batches of 32 padded to their longest member, the DataLoader's shuffle), averaged over 5 shuffles;
* scaling: tenc's bi and cross labelling and bi training wall time at several pool sizes.

    python benchmarks/run.py --pairs 1000 --repeats 3 --seeds 3 --label-pairs all   # ~35 min here
    python benchmarks/run.py --pairs 1000 --repeats 3 --scaling 1000,4000,16000     # the scaling figures
    python benchmarks/run.py --pairs 200 --scaling 200,400                          # smoke, ~3 min

Writes ``results/bench.csv`` (side-by-side rows; medians over repeats for labelling, training once),
``results/bench_scaling.csv`` and ``figures/bench.png``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tenc import data, encode, evaluation, models, train  # noqa: E402


def matmul_peak(seconds: float = 2.0) -> float:
    """Achieved GFLOP/s of a large fp32 matmul: the practical ceiling here."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        a @ b
        n += 1
    return 2 * 1024**3 * n / (time.perf_counter() - t) / 1e9


def non_embedding_params(backbone) -> int:
    """Parameters of a transformer outside its embedding tables (the ones every token multiplies)."""
    return sum(p.numel() for n, p in backbone.named_parameters() if "embeddings" not in n)


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def seed_result(stats, st_rate: float, tenc_model, st_model, kind: str, pairs, n_params: int) -> dict:
    """One seed of a training comparison: throughput of each side, dev Spearman of each, tenc's padding and GFLOP/s."""
    return {
        "tenc": stats.examples / stats.seconds,
        "st": st_rate,
        "tenc_dev": evaluation.dev_spearman([tenc_model], kind, pairs),
        "st_dev": evaluation.dev_spearman([st_model], kind, pairs),
        "padding_tenc": stats.padding,
        "gflops_tenc": 6 * n_params * stats.padded_tokens / stats.seconds / 1e9,
    }


def seed_summary(runs: list[dict]) -> dict:
    """Medians over seeds of throughput and dev; the dev spread (max - min) on each side too."""
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    for side in ("tenc", "st"):
        devs = [r[f"{side}_dev"] for r in runs]
        out[f"{side}_dev_range"] = max(devs) - min(devs)
    out["seeds"] = len(runs)
    return out


def st_padding(tokenizer, s1, s2, batch_size: int, max_length: int, pairs: bool, seeds: int = 5) -> float:
    """Padding fraction of random batches padded to their longest member (sentence-transformers' default)."""
    if pairs:
        lengths = np.array([len(x) for x in tokenizer(s1, s2, truncation=True, max_length=max_length)["input_ids"]])
    else:
        lengths = np.array([len(x) for x in tokenizer(s1 + s2, truncation=True, max_length=max_length)["input_ids"]])
    fractions = []
    for seed in range(seeds):
        order = np.random.default_rng(seed).permutation(len(lengths))
        batches = [lengths[order[i : i + batch_size]] for i in range(0, len(order), batch_size)]
        fractions.append(1 - sum(b.sum() for b in batches) / sum(b.max() * len(b) for b in batches))
    return float(np.mean(fractions))


def scaling(pool_all: pd.DataFrame, sizes: list[int]) -> pd.DataFrame:
    """tenc's labelling (bi, cross) and bi training wall time per pool size: should grow linearly."""
    rows = []
    bi = models.bi_encoder("minilm-l6", max_seq_length=32)
    ce = models.cross_encoder("minilm-l6", max_length=64)
    for n in sizes:
        pool = pool_all.head(n)
        s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
        t = time.perf_counter()
        cos = encode.pair_cosines(bi, s1, s2, max_length=32)
        t_bi = time.perf_counter() - t
        t = time.perf_counter()
        encode.cross_logits(ce, s1, s2, max_length=64)
        t_cross = time.perf_counter() - t
        student = models.bi_encoder("minilm-l6", max_seq_length=32)
        stats = train.train_bi(
            student, s1, s2, np.clip(cos, 0, 1), batch_size=128, lr=5e-5, max_length=32, progress=False
        )
        rows.append({"pairs": n, "label_bi_s": t_bi, "label_cross_s": t_cross, "train_bi_s": stats.seconds})
        print(f"scaling {n} pairs: label bi {t_bi:.1f} s, label cross {t_cross:.1f} s, train bi {stats.seconds:.1f} s")
    df = pd.DataFrame(rows)
    for col in ("label_bi_s", "label_cross_s", "train_bi_s"):
        df[col.replace("_s", "_ms_per_pair")] = 1000 * df[col] / df["pairs"]
    return df


def figure(bench: pd.DataFrame, scale: pd.DataFrame | None, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    ax.barh(bench["what"], bench["ratio"], color="tab:blue")
    ax.axvline(1.0, color="0.3", lw=0.8)
    ax.axvline(1.5, color="tab:red", ls="--", lw=0.8, label="target 1.5x")
    for y, r in enumerate(bench["ratio"]):
        ax.text(r, y, f" {r:.2f}x", va="center", fontsize=8)
    ax.set_xlabel("tenc / sentence-transformers defaults (throughput)")
    ax.legend(fontsize=7, loc="lower right")
    if scale is not None and len(scale):
        ax = fig.add_subplot(1, 2, 2)
        for col, label in (("label_bi_s", "label bi"), ("label_cross_s", "label cross"), ("train_bi_s", "train bi")):
            ax.plot(scale["pairs"], scale[col], marker="o", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("pool pairs")
        ax.set_ylabel("seconds")
        ax.set_title("wall time vs pool size (log-log; slope 1 = linear)", fontsize=9)
        ax.legend(fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seeds", type=int, default=1, help="training rows: seeds per side (medians reported)")
    p.add_argument("--label-pairs", default="", help="also time bi labelling on this many pool pairs ('all': ~36k)")
    p.add_argument("--scaling", default="", help="comma-separated pool sizes for the scaling measurement")
    p.add_argument("--out", default=str(ROOT / "results" / "bench.csv"))
    p.add_argument("--figure", default=str(ROOT / "figures" / "bench.png"))
    args = p.parse_args()
    torch.set_num_threads(2)
    from sentence_transformers import InputExample, losses
    from torch.utils.data import DataLoader

    pairs = data.load_sts()
    pool_all = data.build_pool(pairs, seed=0).pairs.sample(frac=1.0, random_state=0).reset_index(drop=True)
    pool = pool_all.head(args.pairs)
    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    rows = []
    from peak import recorded_peak

    peak = recorded_peak(str(ROOT / "results" / "peak.csv"))  # this CPU's row of benchmarks/peak.py
    if not peak:
        peak = matmul_peak()
        print(f"fp32 matmul peak measured now (no row for this CPU in results/peak.csv): {peak:.1f} GFLOP/s")
    print(f"{len(s1)} pairs")

    bi = models.bi_encoder("minilm-l6", max_seq_length=32)
    n_params = non_embedding_params(bi[0].auto_model)

    # --- labelling -------------------------------------------------------------------------------
    t_tenc, cos = timed(lambda: encode.pair_cosines(bi, s1, s2, max_length=32), args.repeats)

    def st_cos():
        a = bi.encode(s1, batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
        b = bi.encode(s2, batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
        return (a * b).sum(-1).numpy()

    t_st, cos_st = timed(st_cos, args.repeats)
    rows.append(
        {
            "what": "label bi (pairs/s)",
            "tenc": len(s1) / t_tenc,
            "st": len(s1) / t_st,
            "max_abs_diff": float(np.abs(cos - cos_st).max()),
        }
    )
    if args.label_pairs:
        # the real workload: a pool repeats sentences (SICK, STS12-16 overlap), each embedded once by tenc
        big = pool_all if args.label_pairs == "all" else pool_all.head(int(args.label_pairs))
        b1, b2 = big["sentence1"].tolist(), big["sentence2"].tolist()
        unique = len(set(b1) | set(b2))
        t_tenc, cos_b = timed(lambda: encode.pair_cosines(bi, b1, b2, max_length=32), 1)
        t_st = time.perf_counter()
        a = bi.encode(b1, batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
        b = bi.encode(b2, batch_size=32, convert_to_tensor=True, normalize_embeddings=True)
        t_st = time.perf_counter() - t_st
        rows.append(
            {
                "what": f"label bi, {len(b1)} pairs / {unique} unique sentences (pairs/s)",
                "tenc": len(b1) / t_tenc,
                "st": len(b1) / t_st,
                "max_abs_diff": float(np.abs(cos_b - (a * b).sum(-1).numpy()).max()),
            }
        )
    ce = models.cross_encoder("minilm-l6", max_length=64)
    t_tenc, lg = timed(lambda: encode.cross_logits(ce, s1, s2, max_length=64), args.repeats)
    t_st, lg_st = timed(
        lambda: ce.predict(
            list(zip(s1, s2)), batch_size=32, activation_fn=torch.nn.Identity(), show_progress_bar=False
        ),
        args.repeats,
    )
    rows.append(
        {
            "what": "label cross (pairs/s)",
            "tenc": len(s1) / t_tenc,
            "st": len(s1) / t_st,
            "max_abs_diff": float(np.abs(lg - lg_st).max()),
        }
    )

    targets = np.clip(cos, 0, 1).astype(np.float32)

    # --- cross training (one row per seed, then the medians) ----------------------------------------
    ex = [
        InputExample(texts=[a, b], label=float(y))
        for a, b, y in zip(s1 + s2, s2 + s1, np.concatenate([targets, targets]))
    ]
    runs = []
    for seed in range(args.seeds):
        torch.manual_seed(seed)
        ce_t = models.cross_encoder("minilm-l6", max_length=64)
        stats = train.train_cross(
            ce_t, s1, s2, targets, batch_size=32, lr=2e-5, warmup=0.1, max_length=64, seed=seed, progress=False
        )
        torch.manual_seed(seed)
        ce_s = models.cross_encoder("minilm-l6", max_length=64)
        loader = DataLoader(ex, shuffle=True, batch_size=32)
        t = time.perf_counter()
        ce_s.fit(train_dataloader=loader, epochs=1, warmup_steps=int(0.1 * len(loader)), show_progress_bar=False)
        t_st = time.perf_counter() - t
        runs.append(seed_result(stats, len(ex) / t_st, ce_t, ce_s, "cross", pairs, n_params))
        print(f"train cross, seed {seed}: {runs[-1]}")
    rows.append(
        {
            "what": "train cross (pairs/s)",
            **seed_summary(runs),
            "padding_st": st_padding(ce.tokenizer, s1 + s2, s2 + s1, 32, 64, pairs=True),
            "peak_gflops": peak,
        }
    )

    # --- bi training -----------------------------------------------------------------------------
    cross_targets = 1 / (1 + np.exp(-lg))
    ex = [InputExample(texts=[a, b], label=float(y)) for a, b, y in zip(s1, s2, cross_targets)]
    runs = []
    for seed in range(args.seeds):
        torch.manual_seed(seed)
        bi_t = models.bi_encoder("minilm-l6", max_seq_length=32)
        stats = train.train_bi(
            bi_t, s1, s2, cross_targets, batch_size=128, lr=5e-5, max_length=32, seed=seed, progress=False
        )
        torch.manual_seed(seed)
        bi_s = models.bi_encoder("minilm-l6", max_seq_length=32)
        loader = DataLoader(ex, shuffle=True, batch_size=128)
        t = time.perf_counter()
        bi_s.fit(
            train_objectives=[(loader, losses.CosineSimilarityLoss(bi_s))],
            epochs=1,
            warmup_steps=0,
            optimizer_params={"lr": 5e-5},
            show_progress_bar=False,
        )
        t_st = time.perf_counter() - t
        runs.append(seed_result(stats, len(ex) / t_st, bi_t, bi_s, "bi", pairs, n_params))
        print(f"train bi, seed {seed}: {runs[-1]}")
    rows.append(
        {
            "what": "train bi (pairs/s)",
            **seed_summary(runs),
            "padding_st": st_padding(bi.tokenizer, s1, s2, 128, 32, pairs=False),
            "peak_gflops": peak,
        }
    )

    df = pd.DataFrame(rows)
    # the host is shared: a peak measured in a busy moment understates the ceiling, so take the best of two
    peak = max(peak, matmul_peak())
    df.loc[df["peak_gflops"].notna(), "peak_gflops"] = peak
    print(f"fp32 matmul peak (best of start and end): {peak:.1f} GFLOP/s")
    df["ratio"] = df["tenc"] / df["st"]
    df.insert(0, "pairs", len(s1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    old = pd.read_csv(args.out) if Path(args.out).is_file() else pd.DataFrame()
    if len(old):
        old = old[old["pairs"] != len(s1)]
    pd.concat([old, df], ignore_index=True).to_csv(args.out, index=False, float_format="%.4g")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(df.round(3).to_string(index=False))
    scale = None
    if args.scaling:
        scale = scaling(pool_all, [int(n) for n in args.scaling.split(",")])
        scale.to_csv(Path(args.out).with_name(Path(args.out).stem + "_scaling.csv"), index=False, float_format="%.4g")
        print(scale.round(3).to_string(index=False))
    figure(df, scale, Path(args.figure))
    return 0


if __name__ == "__main__":
    sys.exit(main())
