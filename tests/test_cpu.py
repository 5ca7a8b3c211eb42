"""MKL's fast GEMM path on AMD CPUs: python -m tenc restarts itself with the shim preloaded, records it in
metrics.json, and TENC_MKL_SHIM=0 keeps the default path (rates are measured by benchmarks, not here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tenc import cpu

ROOT = Path(__file__).resolve().parents[1]


def _evaluate(tiny_bert, fake_sts, out, shim: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TENC_MKL_SHIM", "TENC_MKL_SHIM_TRIED")}
    env["TENC_MKL_SHIM"] = shim
    argv = [sys.executable, "-m", "tenc", "evaluate", "--model", tiny_bert, "--data", fake_sts, "--out", str(out)]
    subprocess.run([*argv, "--quiet"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.read_text())


def test_the_cli_takes_mkls_fast_path_on_amd_and_records_it(tiny_bert, fake_sts, tmp_path):
    if cpu.vendor() != "AuthenticAMD" or cpu.build_shim() is None:
        pytest.skip("the shim is for AMD CPUs with a C compiler at hand")
    fast = _evaluate(tiny_bert, fake_sts, tmp_path / "fast.json", "1")
    plain = _evaluate(tiny_bert, fake_sts, tmp_path / "plain.json", "0")
    assert fast["cpu"] == {"vendor": "AuthenticAMD", "gemm_path": "mkl, Intel path (shim preloaded)"}
    assert plain["cpu"]["gemm_path"] == "mkl, default path"
    scores = {k: v for k, v in plain["metrics"].items() if k != "seconds"}  # a timing is no score
    assert scores
    # the same scores up to GEMM summation order: a random tiny model's near-tied cosines move its Spearman by
    # tenths (minilm-l6's labels agree to 4 decimals: benchmarks/mkl_shim.py)
    for name, score in scores.items():
        assert fast["metrics"][name] == pytest.approx(score, abs=1.0), name


def test_no_restart_where_it_is_off_or_not_amd(monkeypatch):
    calls = []
    monkeypatch.setattr(cpu.os, "execve", lambda *a: calls.append(a))
    monkeypatch.setenv("TENC_MKL_SHIM", "0")
    cpu.restart_with_shim(["evaluate"])
    monkeypatch.setenv("TENC_MKL_SHIM", "1")
    monkeypatch.setattr(cpu, "vendor", lambda: "GenuineIntel")
    cpu.restart_with_shim(["evaluate"])
    assert calls == []
    monkeypatch.setattr(cpu, "vendor", lambda: "AuthenticAMD")
    monkeypatch.setattr(cpu, "build_shim", lambda: Path("/cache/tenc_mkl_intel_cpu_true.so"))
    monkeypatch.delenv("TENC_MKL_SHIM_TRIED", raising=False)
    monkeypatch.setenv("LD_PRELOAD", "/other.so")
    cpu.restart_with_shim(["evaluate", "--quiet"])
    ((exe, argv, env),) = calls
    assert argv[1:] == ["-m", "tenc", "evaluate", "--quiet"] and env["TENC_MKL_SHIM_TRIED"] == "1"
    assert env["LD_PRELOAD"] == "/cache/tenc_mkl_intel_cpu_true.so /other.so"


def test_amp_auto_takes_bf16_only_where_the_cpu_has_bf16_units(monkeypatch):
    monkeypatch.setattr(cpu, "flags", lambda: {"avx2", "fma", "avx512f", "avx512_bf16"})
    assert cpu.resolve_amp("auto", "cpu") == "bf16"
    monkeypatch.setattr(cpu, "flags", lambda: {"avx2", "fma", "amx_bf16"})
    assert cpu.resolve_amp("auto", "cpu") == "bf16"
    monkeypatch.setattr(cpu, "flags", lambda: {"avx2", "fma"})  # AMD Zen 3: no bf16 units
    assert cpu.resolve_amp("auto", "cpu") == ""
    assert cpu.resolve_amp("bf16", "cpu") == "bf16" and cpu.resolve_amp("", "cpu") == ""  # explicit: as given


def test_a_run_with_amp_auto_records_its_decision_and_labels_in_that_precision(
    tiny_bert, fake_sts, tmp_path, monkeypatch
):
    import numpy as np

    from tenc import distill
    from tenc.config import ConfigError, DistillConfig

    quiet = dict(progress=False, log=lambda *_: None)
    cfg = DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, evaluate_test=False, amp="auto")
    monkeypatch.setattr(cpu, "flags", lambda: {"avx512_bf16"})
    distill.run(cfg, tmp_path / "bf16", **quiet)
    assert json.loads((tmp_path / "bf16" / "config.json").read_text())["amp"] == "bf16"
    distill.run(
        DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, evaluate_test=False),
        tmp_path / "fp32",
        **quiet,
    )
    low, full = (np.load(tmp_path / r / "cycle_1" / "labels_bi.npy") for r in ("bf16", "fp32"))
    assert not np.array_equal(low, full) and np.abs(low - full).max() < 0.05  # bf16 labels, close to fp32's
    monkeypatch.setattr(cpu, "flags", lambda: set())  # the same folder on a CPU without bf16: not mixed
    with pytest.raises(ConfigError, match=r"other settings .*'amp': \('bf16', ''\)"):
        distill.run(cfg, tmp_path / "bf16", **quiet)
