"""Notebook smoke runs (tiny model, fake data) under papermill, and the source notebooks' hygiene."""

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_source_notebooks_have_no_outputs_and_documented_parameters(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: one cell tagged 'parameters'"
    params = pm.inspect_notebook(str(path))
    assert params and all(p["help"] for p in params.values()), f"{path.name}: every parameter needs help"
    lines = [ln for ln in tagged[0].source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(params) == len(lines), f"{path.name}: papermill could not parse every parameter line"


def _run(name, tmp_path, **parameters):
    out = tmp_path / f"{name}.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / name),
        str(out),
        parameters=parameters,
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    return out


def test_data_notebook(fake_sts, tmp_path):
    _run("00_data.ipynb", tmp_path, data=fake_sts, out_dir=str(tmp_path / "d"))
    m = json.loads((tmp_path / "d" / "metrics.json").read_text())["metrics"]
    assert m["pool_transductive_pairs"] > m["pool_inductive_pairs"] > 0
    assert (tmp_path / "d" / "lengths.png").stat().st_size > 1000


# 10_prime, 20_distill, 30_mutual and 50_evaluate run as the smoke plan's chain in tests/test_runs.py.


def test_explore_pairs_notebook_on_a_smoke_run(tiny_bert, fake_sts, tmp_path):
    from tenc import distill
    from tenc.config import DistillConfig

    distill.run(
        DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts),
        tmp_path / "run",
        progress=False,
        log=lambda *_: None,
    )
    out = _run("explore_pairs.ipynb", tmp_path, run_dir=str(tmp_path / "run"))
    nb = nbformat.read(out, as_version=4)
    assert any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])
    )


def test_unknown_or_mistyped_parameter_fails_fast(tmp_path, fake_sts):
    with pytest.raises(pm.PapermillExecutionError, match=r"unknown notebook parameter 'cycels'"):
        _run("20_distill.ipynb", tmp_path, cycels=2, data=fake_sts)
    with pytest.raises(pm.PapermillExecutionError, match=r"'cycle' must be int"):
        _run("20_distill.ipynb", tmp_path, cycle="two", data=fake_sts)


def test_every_notebook_is_a_jupytext_pair_in_sync():
    """Each .ipynb has its percent-format .py beside it (jupytext.toml), and the two hold the same cells."""
    import jupytext

    assert sorted(p.stem for p in (ROOT / "notebooks").glob("*.py")) == [p.stem for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        nb, py = jupytext.read(path), jupytext.read(path.with_suffix(".py"))
        cells = lambda n: [(c.cell_type, c.source.strip(), c.metadata.get("tags", [])) for c in n.cells]  # noqa: E731
        assert cells(nb) == cells(py), f"{path.name}: out of sync with its .py; run make sync"


def test_an_edit_saved_by_jupyterlab_syncs_into_the_py(tmp_path):
    """An edit to the .ipynb, written as JupyterLab writes it, is kept: `jupytext --sync` carries it into the .py
    (the newer file wins) instead of failing a check."""
    import shutil
    import subprocess
    import sys

    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    (tmp_path / "notebooks").mkdir()
    for suffix in (".ipynb", ".py"):
        shutil.copy2(ROOT / "notebooks" / f"00_data{suffix}", tmp_path / "notebooks" / f"00_data{suffix}")
    ipynb = tmp_path / "notebooks" / "00_data.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('a researcher was here')"))
    nbformat.write(nb, ipynb)
    import os

    os.utime(ipynb, (os.path.getmtime(ipynb) + 5,) * 2)  # saved after the .py
    sync = [sys.executable, "-m", "jupytext", "--sync", str(ipynb)]
    subprocess.run(sync, check=True, capture_output=True, cwd=tmp_path)
    assert "print('a researcher was here')" in (tmp_path / "notebooks" / "00_data.py").read_text()


def test_prime_notebook_defaults_are_primeconfigs_so_a_yaml_config_is_not_undone():
    """10_prime passes on top of its YAML `config` only the parameters set away from PrimeConfig's defaults:
    its declared defaults must therefore be PrimeConfig's (a notebook default lr once undid a YAML's 3e-4)."""
    import ast

    from tenc import notebook as tnb
    from tenc.config import PrimeConfig

    declared = pm.inspect_notebook(str(ROOT / "notebooks" / "10_prime.ipynb"))
    reference = PrimeConfig()
    for name, p in declared.items():
        if hasattr(reference, name):
            assert ast.literal_eval(p["default"]) == getattr(reference, name), name
    yaml_values = {"layers": 2, "lr": 3e-4, "pooling": "mean"}
    notebook_values = {"layers": 0, "lr": 3e-5, "pooling": "cls", "steps": 40, "out_dir": "x"}  # defaults, one change
    assert {**yaml_values, **tnb.overrides(notebook_values, PrimeConfig)} == {
        "layers": 2,
        "lr": 3e-4,
        "pooling": "mean",
        "steps": 40,
    }


ANALYSES = sorted((ROOT / "notebooks").glob("6*.ipynb"))


@pytest.mark.parametrize("path", ANALYSES, ids=lambda p: p.name)
def test_analysis_notebooks_run_on_the_committed_csvs(path, tmp_path):
    """Each research question runs from committed files alone, draws its figure and ends on a 'what this shows'
    line computed above it; its executed copy is committed under docs/analyses/ (make analyses)."""
    out = _run(path.name, tmp_path, figure=str(tmp_path / "fig.png"))
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no figure shown"
    assert (tmp_path / "fig.png").stat().st_size > 1000
    assert outputs[-1].get("name") == "stdout" and len(outputs[-1]["text"]) > 80  # the closing sentence
    assert (ROOT / "docs" / "analyses" / path.name).is_file(), "run make analyses and commit docs/analyses/"


def test_drop_timings_removes_only_what_changes_per_execution(tmp_path):
    """An executed notebook loses its timestamps and durations; outputs, tags and status stay, and a second
    pass writes nothing, so rerunning make analyses on unchanged results leaves docs/analyses unchanged."""
    from tenc.notebook import drop_timings

    cell = nbformat.v4.new_code_cell("1 + 1", outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"})])
    cell.metadata = {
        "tags": ["parameters"],
        "execution": {"iopub.status.idle": "2026-12-07T01:52:01Z"},
        "papermill": {"duration": 0.6, "start_time": "t0", "end_time": "t1", "status": "completed"},
    }
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["papermill"] = {"duration": 3.1, "start_time": "t0", "end_time": "t1", "parameters": {"a": 1}}
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    assert drop_timings(path) is True
    out = nbformat.read(path, as_version=4)
    assert out.cells[0].metadata == {"tags": ["parameters"], "papermill": {"status": "completed"}}
    assert out.metadata["papermill"] == {"parameters": {"a": 1}}
    assert out.cells[0].outputs == nb.cells[0].outputs
    assert drop_timings(path) is False


def test_committed_analyses_carry_no_execution_timestamps():
    for path in sorted((ROOT / "docs" / "analyses").glob("*.ipynb")):
        text = path.read_text()
        assert '"end_time"' not in text and '"iopub.execute_input"' not in text, f"{path.name}: run make analyses"
