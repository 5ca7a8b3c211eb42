"""The "tenc" Jupyter kernel: ipykernel started the way ``python -m tenc`` starts, so a notebook opened in
JupyterLab runs on MKL's fast GEMM path on an AMD CPU (``tenc.cpu``) as the command line and papermill runs do.

    python -m tenc.kernel --install [--prefix DIR]   # write the kernel spec (make setup does, --user)
    python -m tenc.kernel -f CONNECTION_FILE          # what Jupyter runs; restarts once with the shim preloaded
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cpu import restart_with_shim

NAME = "tenc"


def install(prefix: str | None = None, name: str = NAME) -> Path:
    """Write the kernel spec (per user, or under ``prefix``) with this module as its launcher; its folder."""
    from ipykernel.kernelspec import install as install_spec

    folder = Path(install_spec(user=prefix is None, prefix=prefix, kernel_name=name, display_name=name))
    spec = folder / "kernel.json"
    data = json.loads(spec.read_text())
    data["argv"] = [sys.executable, "-m", "tenc.kernel", "-f", "{connection_file}"]
    spec.write_text(json.dumps(data, indent=1) + "\n")
    return folder


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--install"]:
        parser = argparse.ArgumentParser(prog="python -m tenc.kernel --install")
        parser.add_argument("--install", action="store_true")
        parser.add_argument("--prefix", default=None, help="install under this prefix instead of per user")
        args = parser.parse_args(argv)
        print(f"installed the {NAME} kernel in {install(args.prefix)}")
        return
    restart_with_shim(argv, command=["-m", "ipykernel_launcher"])  # returns where no restart is needed
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=argv)


if __name__ == "__main__":
    main()
