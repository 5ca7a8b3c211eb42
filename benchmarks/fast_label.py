"""Faster labelling and evaluation passes: dynamic int8 against fp32, speed and label fidelity side by side.

For a bi-encoder (pair cosines; minilm-l6) and a trained cross-encoder (logits; ``--cross``), on
``--pairs`` pool pairs:

* ``fp32`` — tenc's own passes (`tenc.encode.pair_cosines` / `cross_logits`);
* ``int8`` — the same passes after ``torch.ao.quantization.quantize_dynamic`` of every ``nn.Linear``
  (int8 weights, activations quantised per batch; fbgemm's AVX2 kernels here, this CPU has no VNNI);
* ``ort`` / ``ort-int8`` — the same batches through ONNX Runtime: the backbone (and the cross-encoder's
  head) exported by ``torch.onnx.export``, graph-optimised, and its ``quantize_dynamic`` int8 copy.

Each row: pairs/s (median of ``--repeats``), the speed ratio to fp32, the Spearman x 100 of the int8
labels with the fp32 labels on the pool (the adoption rule: >= 99.9), and with ``--evaluate`` the
7-task average of each side (the rule: within 0.1; torch sides only).

    python benchmarks/fast_label.py --pairs 2000 --repeats 3 --evaluate --cross RUN/best/cross   # ~15 min here
    python benchmarks/fast_label.py --pairs 64                              # smoke

Writes ``results/fast_label.csv``.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run import timed  # noqa: E402  (benchmarks/run.py: median wall time of repeated calls)

from tenc import data, encode, evaluation, models  # noqa: E402


def int8(model):
    """A dynamically quantised copy: every nn.Linear with int8 weights."""
    return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


class Exported(torch.nn.Module):
    """The backbone as ONNX sees it: token ids in, last hidden states (bi) or the one logit (cross) out."""

    def __init__(self, backbone, kind: str):
        super().__init__()
        self.backbone, self.kind = backbone, kind

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return out.last_hidden_state if self.kind == "bi" else out.logits[:, 0]


def ort_session(model, kind: str, folder: Path, quantised: bool):
    import onnxruntime as ort

    backbone = model[0].auto_model
    path = folder / f"{kind}.onnx"
    if not path.is_file():
        ids = torch.ones(2, 8, dtype=torch.long)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        axes = {n: {0: "batch", 1: "tokens"} for n in names} | {
            "out": {0: "batch"} if kind == "cross" else {0: "batch", 1: "tokens"}
        }
        torch.onnx.export(
            Exported(backbone, kind).eval(),
            (ids, ids, torch.zeros_like(ids)),
            str(path),
            input_names=names,
            output_names=["out"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
        backbone.eval()  # export restores the wrapper's training flag on every submodule
    if quantised:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        q = folder / f"{kind}-int8.onnx"
        if not q.is_file():
            quantize_dynamic(str(path), str(q), weight_type=QuantType.QInt8)
        path = q
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def ort_pass(session, tokenizer, kind: str, s1, s2, max_length: int) -> np.ndarray:
    """tenc's batching (unique sentences, token-budget batches) with ONNX Runtime doing the forward passes."""

    def run(ids, types=None):
        lengths = np.array([len(x) for x in ids])
        out = [None] * len(ids)
        for idx in encode.token_budget_batches(lengths, encode.DEFAULT_TOKENS):
            b = encode.pad_batch(
                [ids[i] for i in idx], tokenizer.pad_token_id or 0, [types[i] for i in idx] if types else None
            )
            feed = {
                "input_ids": b["input_ids"].numpy(),
                "attention_mask": b["attention_mask"].numpy(),
                "token_type_ids": b["token_type_ids"].numpy() if types else np.zeros_like(b["input_ids"].numpy()),
            }
            res = session.run(None, feed)[0]
            if kind == "bi":  # mean pooling over real tokens, as the bi-encoder's Pooling module does
                mask = feed["attention_mask"][..., None].astype(np.float32)
                res = (res * mask).sum(1) / mask.sum(1)
            for j, i in enumerate(idx):
                out[i] = res[j]
        return np.stack(out)

    if kind == "cross":
        ids, types = encode.tokenize_pairs(tokenizer, s1, s2, max_length)
        return run(ids, types).astype(np.float32)
    uniq = list(dict.fromkeys(list(s1) + list(s2)))
    pos = {s: i for i, s in enumerate(uniq)}
    emb = run(encode.tokenize_sentences(tokenizer, uniq, max_length))
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    return np.array([emb[pos[a]] @ emb[pos[b]] for a, b in zip(s1, s2)], dtype=np.float32)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--model", default="minilm-l6", help="the bi-encoder")
    p.add_argument(
        "--cross",
        default="",
        help="a trained cross-encoder folder (e.g. RUN/best/cross); default: --model "
        "with a new head, whose near-constant logits make the fidelity figure meaningless",
    )
    p.add_argument("--evaluate", action="store_true", help="also the 7-task average of each side")
    p.add_argument("--out", default=str(ROOT / "results" / "fast_label.csv"))
    args = p.parse_args()
    torch.set_num_threads(2)
    sts = data.load_sts()
    pool = data.build_pool(sts, seed=0).pairs.sample(frac=1.0, random_state=0).reset_index(drop=True).head(args.pairs)
    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    rows = []
    for kind in ("bi", "cross"):
        if kind == "bi":
            fp32 = models.bi_encoder(args.model, max_seq_length=32)
            run = lambda m: encode.pair_cosines(m, s1, s2, max_length=32)  # noqa: E731
        else:
            fp32 = models.cross_encoder(args.cross or args.model, max_length=64)
            run = lambda m: encode.cross_logits(m, s1, s2, max_length=64)  # noqa: E731
        t32, ref = timed(lambda: run(fp32), args.repeats)  # noqa: B023 (called within this iteration)
        quantised_model = int8(fp32)
        sides = {"int8": lambda: run(quantised_model)}  # noqa: B023
        with tempfile.TemporaryDirectory() as tmp:
            for name, quantised in (("ort", False), ("ort-int8", True)):
                session = ort_session(fp32, kind, Path(tmp), quantised)
                sides[name] = lambda s=session: ort_pass(s, fp32.tokenizer, kind, s1, s2, 32 if kind == "bi" else 64)  # noqa: B023
            for name, fn in sides.items():
                t, got = timed(fn, args.repeats)
                row = {
                    "model": args.model if kind == "bi" else (args.cross or args.model),
                    "kind": kind,
                    "side": name,
                    "pairs": len(s1),
                    "fp32_pairs_per_s": len(s1) / t32,
                    "pairs_per_s": len(s1) / t,
                    "ratio": t32 / t,
                    "label_spearman": 100 * spearmanr(ref, got).statistic,
                    "max_abs_diff": float(np.abs(ref - got).max()),
                }
                if args.evaluate and name == "int8":
                    for side, m in (("fp32", fp32), ("int8", int8(fp32))):
                        row[f"{side}_avg"] = evaluation.paper_row(evaluation.evaluate([m], kind, sts)[0])["avg"]
                rows.append(row)
                print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    df = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False, float_format="%.4g")
    print(df.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
