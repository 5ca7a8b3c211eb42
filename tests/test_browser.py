"""A real-browser check of the pair inspector: JupyterLab on localhost, Debian's headless Chromium.

The notebook is explore_pairs.ipynb on a smoke run of the tiny model; Chromium runs all cells, the
widget must render with its table, typing in the search box must re-filter through the live kernel,
and a screenshot is saved in the test's temporary folder.
"""

import papermill as pm
import pytest
from browser import ensure_chromium, run_and_screenshot
from test_notebooks import ROOT

from tenc import distill
from tenc.config import DistillConfig
from tenc.widgets import PairInspector


@pytest.fixture(scope="module")
def chromium():
    pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")
    path = ensure_chromium()
    if not path:
        pytest.skip(
            "Chromium is not installed and apt-get could not install it (needs root and Debian's package registry)"
        )
    return path


def test_inspector_renders_and_filters_in_jupyterlab(chromium, tiny_bert, fake_sts, tmp_path):
    distill.run(
        DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts),
        tmp_path / "run",
        progress=False,
        log=lambda *_: None,
    )
    nb = tmp_path / "explore.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "explore_pairs.ipynb"),
        str(nb),
        prepare_only=True,
        parameters={"run_dir": str(tmp_path / "run"), "live": True},
        progress_bar=False,
    )
    # what the search box must give, computed headlessly on the same run
    headless = PairInspector.from_run(tmp_path / "run")
    text = (headless.frame["sentence1"] + " " + headless.frame["sentence2"]).str.lower()
    word = min({w for t in text for w in t.split() if w.isalpha()}, key=lambda w: (text.str.contains(w).sum(), w))
    headless.search.value = word
    expected = f"{len(headless._view())} pairs match"
    assert 0 < len(headless._view()) < len(headless.frame)
    before = {}

    def search(page):
        before["text"] = page.locator(".tenc-table").first.inner_text()
        page.locator(".tenc-search input").first.fill(word)
        page.locator(".tenc-table", has_text=expected).first.wait_for(timeout=60_000)

    png = tmp_path / "inspector.png"
    text = run_and_screenshot(nb, png, ".tenc-table", chromium=chromium, then=search)
    assert f"{len(headless.frame)} pairs match" in before["text"]
    assert expected in text and word in text
    assert png.stat().st_size > 20_000, "the screenshot looks empty"
