"""The README's inspector screenshot: explore_pairs.ipynb on a real run, in JupyterLab, in Chromium.

    python tools/inspector_screenshot.py --run runs/quick-minilm-l6 --out figures/inspector.png

Sorts by |bi - cross| (the students' biggest disagreements), opens the top pair with its score
trajectory and scores a typed pair live. Needs Debian's chromium and playwright (the test extra).
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import papermill as pm

from tenc.widgets import SORTS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser import ensure_chromium, run_and_screenshot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="runs/quick-minilm-l6", help="distillation run folder")
    ap.add_argument("--out", default="figures/inspector.png")
    ap.add_argument("--rows", type=int, default=6)
    args = ap.parse_args()
    from tenc.data import resolve_data_dir

    # the server runs in a temporary folder: name the data explicitly (older runs' predictions lack text)
    os.environ.setdefault("TENC_DATA", str(resolve_data_dir(None)))
    chromium = ensure_chromium()
    if not chromium:
        sys.exit("Chromium is missing and could not be installed (apt-get install chromium)")

    def interact(page):
        page.locator(".tenc-dataset select").first.select_option(value="STS-B")
        page.locator(".tenc-page input").first.fill(str(args.rows))
        page.locator(".tenc-page input").first.press("Enter")
        page.locator(".tenc-sort select").first.select_option(value=SORTS["bi_vs_cross"])  # values are labels
        page.locator(".tenc-table", has_text=f"showing {args.rows}").first.wait_for(timeout=60_000)
        pick = page.locator(".tenc-pick select").first
        pick.select_option(index=1)
        pick.select_option(index=0)
        page.locator("img.tenc-plot").first.wait_for(timeout=60_000)  # the trajectory plot
        page.locator(".tenc-s1 input").first.fill("A man is playing a guitar.")
        page.locator(".tenc-s2 input").first.fill("Someone plays an instrument.")
        page.get_by_role("button", name="score").first.click()
        page.get_by_text("cross score").first.wait_for(timeout=120_000)
        page.locator(".tenc-inspector").first.scroll_into_view_if_needed()

    with tempfile.TemporaryDirectory() as tmp:
        nb = Path(tmp) / "explore_pairs.ipynb"
        pm.execute_notebook(
            str(ROOT / "notebooks" / "explore_pairs.ipynb"),
            str(nb),
            prepare_only=True,
            parameters={"run_dir": str(Path(args.run).resolve()), "live": True},
        )
        out = Path(args.out).resolve()
        run_and_screenshot(nb, out, ".tenc-table", chromium=chromium, then=interact, height=1300)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
