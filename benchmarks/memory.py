"""Peak memory of pseudo-labelling a large synthetic pool: does it stream, or hold everything?

Each size runs in a fresh process that builds a synthetic pool (random 6-14-word sentences from a
2k-word vocabulary, so almost every sentence is unique), labels it with a bi-encoder
(`encode.pair_cosines`) and a cross-encoder in both orders (`encode.cross_scores`), and reports its
peak resident memory (ru_maxrss) after each step. The encoder is a 1-layer BERT with MiniLM's
width (384) and tokenizer: the data structures (token ids, embeddings, labels) are the real ones,
the compute is cut ~6x so 200k pairs take minutes, and activations are bounded by the token budget
either way.

    python benchmarks/memory.py --sizes 50000,200000      # ~15 min here; writes results/memory.csv
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def one(n: int, workdir: Path) -> dict:
    import numpy as np
    import torch
    from sentence_transformers import CrossEncoder, SentenceTransformer
    from sentence_transformers.models import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

    from tenc import encode, models

    torch.set_num_threads(2)
    out = {"pairs": n, "rss_start_mb": rss_mb()}
    tok = AutoTokenizer.from_pretrained(models.resolve("minilm-l6"))
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=384,
        num_hidden_layers=1,
        num_attention_heads=6,
        intermediate_size=512,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    bi_dir, ce_dir = workdir / "bi", workdir / "ce"
    BertModel(cfg).save_pretrained(bi_dir)
    tok.save_pretrained(bi_dir)
    BertForSequenceClassification(BertConfig(**{**cfg.to_dict(), "num_labels": 1})).save_pretrained(ce_dir)
    tok.save_pretrained(ce_dir)
    t = Transformer(str(bi_dir), max_seq_length=32)
    bi = SentenceTransformer(modules=[t, Pooling(384, "mean")], device="cpu")
    ce = CrossEncoder(str(ce_dir), num_labels=1, max_length=64, device="cpu")
    out["rss_models_mb"] = rss_mb()

    rng = np.random.default_rng(0)
    vocab = [w for w in tok.vocab if w.isalpha() and len(w) > 2][:2000]
    sent = lambda: " ".join(rng.choice(vocab, size=rng.integers(6, 15)))
    s1, s2 = [sent() for _ in range(n)], [sent() for _ in range(n)]
    out["unique_sentences"] = len(set(s1) | set(s2))
    out["rss_pool_mb"] = rss_mb()

    t0 = time.perf_counter()
    cos = encode.pair_cosines(bi, s1, s2, max_length=32)
    out["label_bi_s"], out["rss_after_bi_mb"] = time.perf_counter() - t0, rss_mb()
    t0 = time.perf_counter()
    scores = encode.cross_scores(ce, s1, s2, both_orders=True, max_length=64)
    out["label_cross_s"], out["rss_after_cross_mb"] = time.perf_counter() - t0, rss_mb()
    assert len(cos) == len(scores) == n
    # what holding every sentence's embedding at once would take (fp32, 384 dims)
    out["all_embeddings_mb"] = out["unique_sentences"] * 384 * 4 / 2**20
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="50000,200000")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--workdir", default="", help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(ROOT / "results" / "memory.csv"))
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one, Path(args.workdir))))
        return 0
    import tempfile

    import pandas as pd

    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run(
                [sys.executable, __file__, "--one", str(n), "--workdir", tmp], capture_output=True, text=True
            )
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            return 1
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print({k: round(v, 1) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    pd.DataFrame(rows).to_csv(args.out, index=False, float_format="%.1f")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
