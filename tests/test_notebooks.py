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


def _run(name, tmp_path, **parameters):
    out = tmp_path / f"{name}.out.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / name), str(out), parameters=parameters, cwd=str(ROOT),
                        progress_bar=False, kernel_name="python3")
    return out


def test_data_notebook(fake_sts, tmp_path):
    _run("00_data.ipynb", tmp_path, data=fake_sts, out_dir=str(tmp_path / "d"))
    m = json.loads((tmp_path / "d" / "metrics.json").read_text())["metrics"]
    assert m["pool_transductive_pairs"] > m["pool_inductive_pairs"] > 0
    assert (tmp_path / "d" / "lengths.png").stat().st_size > 1000


def test_prime_then_distill_then_evaluate_notebooks(tiny_bert, fake_sts, tmp_path):
    primed = tmp_path / "primed"
    _run("10_prime.ipynb", tmp_path, model=tiny_bert, pooling="cls", steps=4, batch_size=8, lr=1e-3,
         data=fake_sts, out_dir=str(primed))
    assert (primed / "modules.json").is_file()
    run_dir = tmp_path / "distill"
    for cycle in (0, 1):
        _run("20_distill.ipynb", tmp_path, preset="smoke", start=str(primed), cross_init=tiny_bert,
             data=fake_sts, cycle=cycle, run_dir=str(run_dir))
    rows = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert {(r["cycle"], r["kind"]) for r in rows} == {(0, "bi"), (1, "bi"), (1, "cross")}
    assert all(-100 <= r["avg"] <= 100 for r in rows)
    _run("50_evaluate.ipynb", tmp_path, model=str(run_dir / "cycle_1" / "cross"), kind="cross", data=fake_sts,
         out_dir=str(tmp_path / "e"))
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())["metrics"]
    assert -100 <= metrics["sts_avg_spearman"] <= 100


def test_mutual_notebook(tiny_bert, fake_sts, tmp_path):
    run_dir = tmp_path / "mutual"
    _run("30_mutual.ipynb", tmp_path, preset="smoke", members=f"{tiny_bert},{tiny_bert}", data=fake_sts,
         run_dir=str(run_dir))
    rows = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert {"m0", "m1", "ensemble"} <= {r["member"] for r in rows}


def test_explore_pairs_notebook_on_a_smoke_run(tiny_bert, fake_sts, tmp_path):
    from tenc import distill
    from tenc.config import DistillConfig

    distill.run(DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts), tmp_path / "run",
                progress=False, log=lambda *_: None)
    out = _run("explore_pairs.ipynb", tmp_path, run_dir=str(tmp_path / "run"))
    nb = nbformat.read(out, as_version=4)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in nb.cells
               for o in c.get("outputs", []))


def test_unknown_or_mistyped_parameter_fails_fast(tmp_path, fake_sts):
    with pytest.raises(pm.PapermillExecutionError, match=r"unknown notebook parameter 'cycels'"):
        _run("20_distill.ipynb", tmp_path, cycels=2, data=fake_sts)
    with pytest.raises(pm.PapermillExecutionError, match=r"'cycle' must be int"):
        _run("20_distill.ipynb", tmp_path, cycle="two", data=fake_sts)
