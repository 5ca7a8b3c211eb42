"""Training and labelling with and without the ``mkl_serv_intel_cpu_true`` shim, side by side in one run.

MKL picks a slower code path on CPUs it does not recognise as Intel's (``benchmarks/peak.py`` measures the
GEMMs); the shim, preloaded, tells it otherwise. This times what tenc does with it: cross and bi training
steps and bi labelling of minilm-l6 on pool pairs, alternating the two sides, medians over ``--repeats``.

    python benchmarks/mkl_shim.py --pairs 256 --repeats 3 --csv results/mkl_shim.csv   # ~4 min; run it alone
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def child(pairs: int) -> dict:
    import numpy as np
    import torch

    from tenc import data, encode, models, train

    torch.set_num_threads(2)
    pool = data.build_pool(data.load_sts(None), seed=0).pairs.head(pairs)
    s1, s2 = pool["sentence1"].tolist(), pool["sentence2"].tolist()
    y = np.linspace(0, 1, len(s1), dtype=np.float32)
    out = {}
    bi = models.bi_encoder("minilm-l6", max_seq_length=32)
    t = time.perf_counter()
    labels = encode.pair_cosines(bi, s1, s2, max_length=32)
    out["label bi"] = time.perf_counter() - t
    out["label_checksum"] = float(np.round(labels, 4).sum())
    ce = models.cross_encoder("minilm-l6", max_length=64)
    params = {
        kind: sum(p.numel() for n, p in module.named_parameters() if "embeddings" not in n)
        for kind, module in (("cross", ce.model), ("bi", bi[0].auto_model))
    }
    stats = train.train_cross(ce, s1, s2, y, epochs=1, batch_size=32, progress=False)
    out["train cross"] = stats.seconds
    out["flop train cross"] = 6 * params["cross"] * stats.padded_tokens  # 2 forward + 4 backward per token
    stats = train.train_bi(bi, s1, s2, y, epochs=1, batch_size=32, progress=False)
    out["train bi"] = stats.seconds
    out["flop train bi"] = 6 * params["bi"] * stats.padded_tokens
    return out


def main() -> None:
    from peak import append_csv, cpu, recorded_peak, shim_library

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--csv", help="append the medians here (e.g. results/mkl_shim.csv)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print("RESULT", json.dumps(child(args.pairs)), flush=True)
        return
    shim = shim_library()
    if shim is None:
        sys.exit("no C compiler to build the shim with")
    name, flags = cpu()
    times: dict[str, dict[str, list[float]]] = {"mkl": {}, "mkl+shim": {}}
    checks, flops = {}, {}
    for _ in range(args.repeats):
        for side in times:
            env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", TENC_HEARTBEAT="0")
            if side == "mkl+shim":
                env["LD_PRELOAD"] = shim
            argv = [sys.executable, __file__, "--child", "--pairs", str(args.pairs)]
            out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
            result = json.loads(out.split("RESULT ", 1)[1])
            checks[side] = result.pop("label_checksum")
            flops.update({k.removeprefix("flop "): result.pop(k) for k in list(result) if k.startswith("flop ")})
            for stage, seconds in result.items():
                times[side].setdefault(stage, []).append(seconds)
    peak = recorded_peak(str(ROOT / "results" / "peak.csv"))
    print(f"CPU: {name} [{flags}]; {args.pairs} pairs, 2 threads, medians of {args.repeats}; fp32 peak {peak} GFLOP/s")
    rows = []
    for stage in times["mkl"]:
        plain, shimmed = statistics.median(times["mkl"][stage]), statistics.median(times["mkl+shim"][stage])
        row = {"cpu": name, "flags": flags, "stage": stage, "pairs": args.pairs, "mkl_s": round(plain, 2)}
        row.update({"shim_s": round(shimmed, 2), "speedup": round(plain / shimmed, 2), "peak_gflops": peak})
        line = f"{stage:12s} mkl {plain:7.2f} s   mkl+shim {shimmed:7.2f} s   {plain / shimmed:.2f}x"
        for side, seconds in (("mkl", plain), ("shim", shimmed)):
            rate = flops[stage] / seconds / 1e9 if stage in flops else None
            row[f"{side}_gflops"] = round(rate, 1) if rate else None
            if rate and peak:
                line += f"   {side} {rate:.0f} GFLOP/s = {100 * rate / peak:.0f} % of the peak"
        print(line)
        rows.append(row)
    print(f"bi labels agree to 4 decimals: {checks['mkl'] == checks['mkl+shim']}")
    if args.csv:
        append_csv(args.csv, rows)


if __name__ == "__main__":
    main()
