"""This CPU's real matmul ceiling: fp32 (and bf16 where the CPU has it) GFLOP/s at 1 and 2 threads, after
warm-up, for a large square and for the students' own GEMM shapes, through MKL (torch's default BLAS
here), MKL with the ``mkl_serv_intel_cpu_true`` shim (MKL takes a slower path on AMD CPUs unless told the
CPU is Intel-like) and oneDNN. Each row names the CPU and its flags; the best fp32 two-thread figure is
the peak the performance page and ``benchmarks/cycle_time.py`` use for this CPU.

    python benchmarks/peak.py --csv results/peak.csv          # about 2 min; run it alone on the machine
    python benchmarks/peak.py --quick                          # one shape, a few seconds (smoke)

Shapes (MiniLM: hidden 384, FFN 1536, 12 heads of 32; a 128-pair batch of ~32 tokens = 4096 tokens):
square 2048^3; tokens x 384 x 384 (attention projections); tokens x 384 x 1536 and x 1536 x 384 (the FFN);
attention scores (128*12 batched 64 x 32 x 64) and context (64 x 64 x 32).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLAGS_OF_INTEREST = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")
SHAPES = {  # name: (batch, m, k, n)
    "square 2048": (1, 2048, 2048, 2048),
    "qkv/out proj 4096x384x384": (1, 4096, 384, 384),
    "ffn up 4096x384x1536": (1, 4096, 384, 1536),
    "ffn down 4096x1536x384": (1, 4096, 1536, 384),
    "attn scores 1536x(64x32x64)": (1536, 64, 32, 64),
    "attn context 1536x(64x64x32)": (1536, 64, 64, 32),
}


def cpu() -> tuple[str, str]:
    """(model name, the flags of interest it has), from /proc/cpuinfo (platform's name elsewhere)."""
    name, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name in ("unknown", "x86_64", ""):
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return name, " ".join(f for f in FLAGS_OF_INTEREST if f in flags)


def gflops(fn, flop: float, seconds: float, repeats: int) -> list[float]:
    """Warm up, then ``repeats`` timings of as many calls as fill ``seconds``; GFLOP/s of each."""
    for _ in range(3):
        fn()
    t = time.perf_counter()
    fn()
    calls = max(1, int(seconds / max(time.perf_counter() - t, 1e-6)))
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append(flop * calls / (time.perf_counter() - t) / 1e9)
    return out


def measure(backend: str, threads: int, dtype: str, shapes: dict, seconds: float, repeats: int) -> list[dict]:
    import torch
    import torch.utils.mkldnn

    torch.set_num_threads(threads)
    dt = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    rows = []
    for name, (batch, m, k, n) in shapes.items():
        a = torch.randn(batch, m, k).to(dt).squeeze(0)
        if backend == "onednn":
            if batch > 1:
                continue  # oneDNN's inner product has no batched form here
            linear = torch.nn.Linear(k, n, bias=False).to(dt).eval()
            mk = torch.utils.mkldnn.to_mkldnn(linear, dt)
            x = a.to_mkldnn() if dt == torch.float32 else a

            def fn(mk=mk, x=x):
                with torch.no_grad():
                    mk(x)
        else:
            b = torch.randn(batch, k, n).to(dt).squeeze(0)

            def fn(a=a, b=b):
                torch.matmul(a, b)

        runs = gflops(fn, 2.0 * batch * m * k * n, seconds, repeats)
        rows.append(
            {
                "backend": backend,
                "dtype": dtype,
                "threads": threads,
                "shape": name,
                "gflops_median": round(statistics.median(runs), 1),
                "gflops_min": round(min(runs), 1),
                "gflops_max": round(max(runs), 1),
            }
        )
    return rows


def recorded_peak(path: str) -> float:
    """The best fp32 two-thread median GFLOP/s ``benchmarks/peak.py`` recorded for this CPU (0 if none)."""
    import pandas as pd

    if not Path(path).is_file():
        return 0.0
    rows = pd.read_csv(path)
    name, flags = cpu()
    mine = rows[(rows["cpu"] == name) & (rows["flags"].fillna("") == flags) & (rows["dtype"] == "fp32")]
    mine = mine[mine["threads"] == 2]
    if mine.empty:
        return 0.0
    best = mine.loc[mine["gflops_median"].idxmax()]
    print(
        f"fp32 peak of this CPU from {path}: {best['gflops_median']:.1f} GFLOP/s ({best['backend']}, {best['shape']})"
    )
    return float(best["gflops_median"])


def append_csv(path: str | Path, rows: list[dict]) -> None:
    """Add ``rows`` to a results CSV, its header written when the file is new (benchmarks keep every run)."""
    path = Path(path)
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            writer.writeheader()
        writer.writerows(rows)


def shim_library() -> str | None:
    """The shim tenc preloads on AMD CPUs (`tenc.cpu`), built once with the system C compiler; None without one."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tenc.cpu import build_shim

    path = build_shim()
    return str(path) if path else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", help="append the rows to this CSV (e.g. results/peak.csv)")
    ap.add_argument("--seconds", type=float, default=0.6, help="time per repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="one small shape, 1 thread, fp32, no shim (a smoke run)")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # backend:threads:dtype, measured in this process
    args = ap.parse_args()
    if args.child:
        backend, threads, dtype = args.child.split(":")
        shapes = {"qkv/out proj 4096x384x384": SHAPES["qkv/out proj 4096x384x384"]} if args.quick else SHAPES
        for row in measure(backend, int(threads), dtype, shapes, args.seconds, args.repeats):
            print("ROW", ",".join(str(v) for v in row.values()), flush=True)
        return

    import torch

    name, flags = cpu()
    bf16 = any(f in flags for f in ("avx512_bf16", "amx_bf16"))
    plans = [("mkl", 1, "fp32")] if args.quick else []
    if not args.quick:
        for threads in (1, 2):
            plans += [("mkl", threads, "fp32"), ("mkl+shim", threads, "fp32"), ("onednn", threads, "fp32")]
            if bf16:
                plans += [("mkl", threads, "bf16")]
    shim = None if args.quick else shim_library()
    rows = []
    print(f"CPU: {name} [{flags}]; torch {torch.__version__}")
    for backend, threads, dtype in plans:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        if backend == "mkl+shim":
            if shim is None:
                print("mkl+shim: no C compiler here, skipped")
                continue
            env["LD_PRELOAD"] = shim
        argv = [sys.executable, __file__, "--child", f"{backend.split('+')[0]}:{threads}:{dtype}"]
        argv += ["--seconds", str(args.seconds), "--repeats", str(args.repeats)] + (["--quick"] if args.quick else [])
        out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("ROW "):
                _, _, thr, shape, med, lo, hi = line[4:].split(",")
                row = {"cpu": name, "flags": flags, "backend": backend, "dtype": dtype, "threads": int(thr)}
                row.update(
                    {"shape": shape, "gflops_median": float(med), "gflops_min": float(lo), "gflops_max": float(hi)}
                )
                rows.append(row)
                print(f"{backend:9s} {dtype} {thr} thr  {shape:30s} {float(med):7.1f} GFLOP/s (min {lo}, max {hi})")
    fp32_2 = [r for r in rows if r["dtype"] == "fp32" and r["threads"] == 2]
    if fp32_2:
        best = max(fp32_2, key=lambda r: r["gflops_median"])
        print(f"fp32 two-thread peak: {best['gflops_median']} GFLOP/s ({best['backend']}, {best['shape']})")
    if args.csv:
        stamp = {"torch": torch.__version__, "date": time.strftime("%Y-%m-%d")}
        append_csv(args.csv, [{**row, **stamp} for row in rows])


if __name__ == "__main__":
    main()
