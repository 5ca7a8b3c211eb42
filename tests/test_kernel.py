"""The "tenc" Jupyter kernel starts as ``python -m tenc`` does: with MKL's fast path on an AMD CPU."""

import json
import sys

import pytest

from tenc import cpu, kernel


def test_the_kernel_spec_launches_through_tenc_kernel(tmp_path):
    folder = kernel.install(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text())
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "tenc"
    assert spec["argv"] == [sys.executable, "-m", "tenc.kernel", "-f", "{connection_file}"]
    assert spec["display_name"] == "tenc" and spec["language"] == "python"


def test_the_launcher_restarts_with_the_shim_then_starts_ipykernel(monkeypatch):
    calls = []
    monkeypatch.setattr(kernel, "restart_with_shim", lambda argv, command: calls.append(("restart", argv, command)))
    from ipykernel import kernelapp

    monkeypatch.setattr(kernelapp, "launch_new_instance", lambda argv: calls.append(("launch", argv)))
    kernel.main(["-f", "conn.json"])
    assert calls == [("restart", ["-f", "conn.json"], ["-m", "ipykernel_launcher"]), ("launch", ["-f", "conn.json"])]


def test_a_notebook_kernel_runs_with_the_shim_on_amd(tmp_path, monkeypatch):
    if cpu.vendor() != "AuthenticAMD" or cpu.build_shim() is None:
        pytest.skip("the shim is for AMD CPUs with a C compiler at hand")
    from jupyter_client.manager import start_new_kernel

    kernel.install(prefix=str(tmp_path))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    for key in ("TENC_MKL_SHIM", "TENC_MKL_SHIM_TRIED", "LD_PRELOAD"):
        monkeypatch.delenv(key, raising=False)
    manager, client = start_new_kernel(kernel_name="tenc", startup_timeout=120)
    try:
        seen = []
        client.execute_interactive(
            "from tenc import cpu; print(cpu.gemm_path())",
            output_hook=lambda msg: seen.append(msg["content"].get("text", "")),
            timeout=120,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert "".join(seen).strip() == "mkl, Intel path (shim preloaded)"
