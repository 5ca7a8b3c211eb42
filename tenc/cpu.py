"""The CPU's fast GEMM path: MKL (torch's BLAS on x86) takes a slower code path on CPUs it does not recognise
as Intel's. Measured on a 2-core AMD EPYC with AVX-512 (``benchmarks/peak.py``, ``results/peak.csv``):
fp32 GEMMs at 2 threads run at ~200 GFLOP/s by default and ~470-490 GFLOP/s once MKL is told the CPU is
Intel-like, as fast as oneDNN; tenc's training and labelling steps take 1.5-1.85x less time
(``benchmarks/mkl_shim.py``, ``results/mkl_shim.csv``), with the same labels to 4 decimals.

The telling is a one-function shared library, ``int mkl_serv_intel_cpu_true(void) { return 1; }``, preloaded
before MKL loads. ``python -m tenc`` (and the ``tenc`` script) builds it once with the system C compiler
into ``$TENC_CACHE`` and restarts itself with it preloaded on an AMD CPU; child processes (papermill
kernels under ``tenc run``, torchrun ranks) inherit it, and the "tenc" Jupyter kernel (``tenc.kernel``) starts
the same way. ``TENC_MKL_SHIM=0`` turns it off; every metrics.json records whether it was on
(``cpu.gemm_path``). Python started another way (another kernel, pytest, a script) runs as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SHIM_NAME = "tenc_mkl_intel_cpu_true.so"
SHIM_SOURCE = "int mkl_serv_intel_cpu_true(void) { return 1; }\n"


def vendor() -> str:
    """The CPU's vendor id (``AuthenticAMD``, ``GenuineIntel``), '' where /proc/cpuinfo is not there."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("vendor_id"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where it is not there)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


BF16_UNITS = ("avx512_bf16", "amx_bf16")  # native bf16 dot products: bf16 GEMMs ~1.8x fp32 on the EPYC measured


def resolve_amp(amp: str, device: str) -> str:
    """``amp="auto"``: bf16 on a CPU with bf16 units (``BF16_UNITS``) and on a CUDA device that supports it,
    fp16 on other CUDA devices, else fp32 (""). Other values as given. Measured on a 2-core AMD EPYC with
    avx512_bf16 (``benchmarks/levers.py``): training 1.26-1.28x faster at equal dev, labelling 1.24-1.44x
    with labels at Spearman >= 99.99 with fp32's."""
    if amp != "auto":
        return amp
    if device.startswith("cuda"):
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if device == "cpu" and any(f in flags() for f in BF16_UNITS) else ""


def shim_loaded() -> bool:
    """Whether this process runs with the shim preloaded."""
    try:
        return SHIM_NAME in Path("/proc/self/maps").read_text()
    except OSError:
        return False


def gemm_path() -> str:
    """What metrics.json records: which GEMM path MKL takes in this process."""
    return "mkl, Intel path (shim preloaded)" if shim_loaded() else "mkl, default path"


def build_shim() -> Path | None:
    """The shim under ``$TENC_CACHE``, compiled once; None where there is no C compiler."""
    from .models import cache_dir

    out = cache_dir() / SHIM_NAME
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_suffix(f".{os.getpid()}.c")
    tmp = out.with_suffix(f".{os.getpid()}.so")
    try:
        src.write_text(SHIM_SOURCE)
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(tmp), str(src)], check=True, capture_output=True)
        tmp.replace(out)
    except (OSError, subprocess.CalledProcessError):
        return None
    finally:
        src.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out


def restart_with_shim(argv: list[str], command: list[str] | None = None) -> None:
    """On an AMD CPU, restart ``python -m tenc argv`` (or ``python *command, *argv``, e.g. a benchmark script)
    with the shim preloaded (once; never where it is off, already loaded, or cannot be built). Returns only
    when it does not restart."""
    if os.environ.get("TENC_MKL_SHIM", "1") == "0" or os.environ.get("TENC_MKL_SHIM_TRIED") or shim_loaded():
        return
    if vendor() != "AuthenticAMD":
        return
    shim = build_shim()
    if shim is None:
        return
    env = dict(os.environ, TENC_MKL_SHIM_TRIED="1")
    env["LD_PRELOAD"] = " ".join(p for p in (str(shim), env.get("LD_PRELOAD", "")) if p)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *(command or ["-m", "tenc"]), *argv], env)
