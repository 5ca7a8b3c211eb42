"""Open a notebook in a real JupyterLab, run it in headless Chromium, screenshot what renders.

Used by tests/test_browser.py and by tools/inspector_screenshot.py (the README's screenshot).
Chromium comes from Debian's packages (`ensure_chromium` installs it when it is missing and we are
root); Playwright drives it through `executable_path`, so no browser is ever downloaded.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> str:
    """Path to Debian's Chromium, installing it with apt-get if needed; '' with the reason when impossible."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else "")
    if found:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return ""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        if subprocess.run(cmd, env=env, capture_output=True, timeout=900).returncode != 0:
            return ""
    return shutil.which("chromium") or ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root: Path, log: Path):
    """A JupyterLab server on localhost serving `root`; yields its base URL and token."""
    port, token = _free_port(), secrets.token_hex(8)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}; see {log}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"jupyter lab did not answer within 60 s; see {log}")
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_and_screenshot(
    notebook: Path,
    png: Path,
    wait_for: str,
    chromium: str = CHROMIUM,
    then=None,
    timeout_s: float = 240,
    width: int = 1400,
    height: int = 1000,
) -> str:
    """Open `notebook` in JupyterLab, run all cells, wait until `wait_for` (a CSS selector) is visible
    inside an output, call `then(page)` if given (to interact), save a screenshot to `png`; return the
    text of `wait_for` at that moment."""
    from playwright.sync_api import sync_playwright

    with jupyterlab(notebook.parent, notebook.parent / "jupyter.log") as (url, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(f"{url}/lab/tree/{notebook.name}?token={token}", timeout=timeout_s * 1000)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_s * 1000)
            page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=timeout_s * 1000)
            news = page.get_by_role("button", name="No", exact=True)  # the "official Jupyter news?" toast
            if news.count():
                news.first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            target = page.locator(f".jp-OutputArea-output {wait_for}").first
            target.wait_for(state="visible", timeout=timeout_s * 1000)
            target.scroll_into_view_if_needed()
            time.sleep(1.0)  # let the widget finish laying out
            if then is not None:
                then(page)
            png.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(png))
            return target.inner_text()
        except Exception:
            page.screenshot(path=str(png.with_suffix(".failed.png")))  # what the browser showed
            raise
        finally:
            browser.close()
