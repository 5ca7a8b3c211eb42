"""The papermill batch driver: the smoke plan runs the whole notebook chain, skips finished steps, fails clearly."""

import json

import pytest

from tenc.cli import main
from tenc.config import ConfigError
from tenc.runs import execute, load_plan, run_name


def test_smoke_plan_runs_the_chain_and_skips_on_rerun(tiny_bert, fake_sts, tmp_path, monkeypatch):
    root = tmp_path / "pm"
    variables = {"model": tiny_bert, "data": fake_sts, "root": str(root)}
    monkeypatch.setenv("TENC_HEARTBEAT", "1e-9")  # a progress line after every step, not every minute
    driver = []
    folders = execute("params/plans/smoke.yaml", root, variables, log=driver.append)
    # long work reports as it goes: the heartbeat lines reach the driver (make run's console) and log.txt
    assert any(line.startswith("    train cross: 1/") and "steps/s, about" in line for line in driver)
    assert "train cross: 1/" in (root / "20_distill" / "smoke-cycle1" / "log.txt").read_text()
    assert all((f / "done.json").is_file() for f in folders)
    assert (root / "10_prime" / "tiny-simcse" / "modules.json").is_file()  # a primed model
    rows = json.loads((root / "distill-smoke" / "metrics.json").read_text())["metrics"]
    assert {(r["cycle"], r["kind"]) for r in rows} == {(0, "bi"), (1, "bi"), (1, "cross")}
    assert all(-100 <= r["avg"] <= 100 for r in rows)
    mutual = json.loads((root / "30_mutual" / "smoke" / "metrics.json").read_text())["metrics"]
    assert {"m0", "m1", "ensemble"} <= {r["member"] for r in mutual}
    evaluated = json.loads((root / "50_evaluate" / "smoke-cross" / "metrics.json").read_text())["metrics"]
    assert -100 <= evaluated["sts_avg_spearman"] <= 100
    # 90/91 rebuilt the tables and figures from those metrics.json files alone
    tables_md = (root / "results" / "tables.md").read_text()
    assert "| distill-smoke | cross | cycle 1 |" in tables_md and "| smoke-cross | cross | eval |" in tables_md
    assert "| smoke [m0] | bi | cycle 1 |" in tables_md
    assert "## Ablation: cross_loss" in tables_md and "| cross_loss | mse |" in tables_md
    assert "## Priming runs" in tables_md and "| tiny-simcse |" in tables_md
    primed = (root / "results" / "prime_search.csv").read_text().splitlines()
    assert len(primed) == 2 and primed[1].startswith("tiny-simcse,") and ",simcse,cls," in primed[1]
    for name in ("cycles", "scatter_distill-smoke", "labels_distill-smoke", "ablations"):
        assert (root / "figures" / f"{name}.png").stat().st_size > 5000, name
        assert (root / "figures" / f"{name}.svg").is_file()
    lines = []
    execute("params/plans/smoke.yaml", root, variables, log=lines.append)
    steps = [line for line in lines if line.startswith("[")]
    assert sum(line.endswith("done, skipped") for line in steps) == 7
    assert sum(line.endswith("running") for line in steps) == 2  # 90/91 are `always`
    # what the notebooks print shows as they run (indented) and stays in the step's log.txt
    printed = [line for line in lines if line.startswith("    ")]
    assert any("result rows from" in line for line in printed)
    assert "result rows from" in (root / "90_tables" / "smoke" / "log.txt").read_text()
    assert any("0 result rows kept from" in line for line in printed)  # every run is here: none kept
    assert "cycle 1" in (root / "20_distill" / "smoke-cycle1" / "log.txt").read_text()


def test_plan_errors(tmp_path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("steps:\n  - notebook: 50_evaluate\n    parameters: {modle: x}\n")
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['modle'\]"):
        execute(bad, tmp_path)
    with pytest.raises(ConfigError, match=r"pass --var model=VALUE"):
        load_plan("params/plans/smoke.yaml", {"data": "x", "root": "y"})
    assert run_name({"model": "a/b/minilm", "kind": "bi"}) == "kind=bi-model=minilm"


def test_failing_step_names_the_executed_notebook(tmp_path, capsys):
    plan = tmp_path / "plan.yaml"
    plan.write_text("steps:\n  - notebook: 50_evaluate\n    run: broken\n    parameters: {model: no-such-model}\n")
    assert main(["run", str(plan), "--root", str(tmp_path / "pm")]) == 1
    err = capsys.readouterr().err
    assert "50_evaluate / broken failed (ModelError" in err and "50_evaluate/broken/50_evaluate.ipynb" in err


@pytest.mark.parametrize("plan", ["quick", "tables", "paper-gpu", "ablations"])
def test_committed_plans_name_only_declared_parameters(plan):
    import papermill as pm

    from tenc.config import DistillConfig

    for step in load_plan(f"params/plans/{plan}.yaml"):
        declared = pm.inspect_notebook(f"notebooks/{step['notebook']}.ipynb")
        assert set(step["parameters"]) <= set(declared), (step["notebook"], set(step["parameters"]) - set(declared))
        if step["parameters"].get("config"):
            DistillConfig.from_sources("quick", step["parameters"]["config"])  # the YAML validates
