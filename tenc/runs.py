"""Batch driver over papermill: execute a plan of parameterised notebooks, in order, resumably.

A plan (``params/plans/*.yaml``)::

    steps:
      - notebook: 50_evaluate            # notebooks/<name>.ipynb
        run: minilm-l6                   # run name; default: built from the parameters
        parameters: {model: minilm-l6}   # "${var}" is replaced by --var var=value
        always: false                    # true: rerun every time (cheap aggregation steps: tables, figures)

Each step runs into ``papermill_runs/<notebook>/<run>/`` (executed notebook, ``params.yaml``, the
notebook's own ``metrics.json``, ``log.txt``: what it printed, also shown indented as it runs), with
``out_dir`` / ``run_dir`` pointing there unless the plan sets them. A step whose folder holds
``done.json`` for the same parameters is skipped; the first failure stops the plan and names the
executed notebook to open.

Example::

    python -m tenc run params/plans/quick.yaml
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from .config import ConfigError, load_yaml
from .io import atomic_write_text, run_lock

ROOT = Path(__file__).resolve().parents[1]


class StepFailed(RuntimeError):
    """A notebook of the plan failed; the message names the executed notebook."""


class _StepOutput:
    """What a running notebook prints, as it prints it: appended to its run folder's ``log.txt`` and
    passed, line by line and indented, to the driver's log (an hour-long step shows its stages)."""

    def __init__(self, path: Path, log):
        self.file, self.log, self.pending = open(path, "a", encoding="utf-8"), log, ""

    def write(self, text: str) -> None:
        self.file.write(text)
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if line.strip():
                self.log(f"    {line.rstrip()}")

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        if self.pending.strip():
            self.log(f"    {self.pending.rstrip()}")
        self.file.close()


def run_name(parameters: dict) -> str:
    if not parameters:
        return "default"
    text = "-".join(f"{k}={Path(str(v)).name if '/' in str(v) else v}" for k, v in sorted(parameters.items()))
    return re.sub(r"[^A-Za-z0-9_.=,+-]+", "_", text)[:120]


def load_plan(path: str | Path, variables: dict[str, str] | None = None) -> list[dict]:
    plan = load_yaml(path)
    steps = plan.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"{path}: a plan needs a non-empty 'steps' list")
    variables = variables or {}

    def subst(value):
        if isinstance(value, str):

            def repl(m):
                if m.group(1) not in variables:
                    raise ConfigError(f"{path}: plan uses ${{{m.group(1)}}}; pass --var {m.group(1)}=VALUE")
                return variables[m.group(1)]

            return re.sub(r"\$\{(\w+)\}", repl, value)
        return value

    out = []
    for i, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or "notebook" not in step:
            raise ConfigError(f"{path}: step {i} needs a 'notebook'")
        unknown = set(step) - {"notebook", "run", "parameters", "always"}
        if unknown:
            raise ConfigError(f"{path}: step {i} has unknown key(s) {sorted(unknown)}")
        params = {k: subst(v) for k, v in (step.get("parameters") or {}).items()}
        out.append(
            {
                "notebook": step["notebook"],
                "run": subst(step.get("run")) or run_name(params),
                "parameters": params,
                "always": bool(step.get("always", False)),
            }
        )
    return out


def execute(
    plan_path: str | Path,
    root: str | Path = "papermill_runs",
    variables: dict | None = None,
    notebooks: str | Path = ROOT / "notebooks",
    log=print,
) -> list[Path]:
    """Run every step of the plan; return the run folders."""
    import papermill as pm

    steps = load_plan(plan_path, variables)
    root, notebooks = Path(root), Path(notebooks)
    folders = []
    for i, step in enumerate(steps, start=1):
        source = notebooks / f"{step['notebook']}.ipynb"
        if not source.is_file():
            raise ConfigError(f"{plan_path}: step {i}: notebook {source} not found")
        declared = pm.inspect_notebook(str(source))
        unknown = set(step["parameters"]) - set(declared)
        if unknown:
            raise ConfigError(
                f"{plan_path}: step {i} ({step['notebook']}): unknown parameter(s) {sorted(unknown)}; "
                f"it takes {', '.join(declared)}"
            )
        folder = root / step["notebook"] / step["run"]
        params = dict(step["parameters"])
        for key in ("out_dir", "run_dir"):
            if key in declared and key not in params:
                params[key] = str(folder)
        done = folder / "done.json"
        tag = f"[{i}/{len(steps)}] {step['notebook']} / {step['run']}"
        if not step["always"] and done.is_file() and json.loads(done.read_text()).get("parameters") == params:
            log(f"{tag}: done, skipped")
            folders.append(folder)
            continue
        log(f"{tag}: running")
        folder.mkdir(parents=True, exist_ok=True)
        executed = folder / f"{step['notebook']}.ipynb"
        t = time.perf_counter()
        with run_lock(folder / ".driver"):  # a second driver is refused before it writes anything here
            atomic_write_text(folder / "params.yaml", json.dumps(params, indent=2))
            output = _StepOutput(folder / "log.txt", log)
            try:
                pm.execute_notebook(
                    str(source),
                    str(executed),
                    parameters=params,
                    cwd=str(ROOT),
                    progress_bar=False,
                    kernel_name="python3",
                    stdout_file=output,
                    # the kernel's own log (a TCP-transport warning per step) is noise here;
                    # a failing cell still raises PapermillExecutionError below
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                )
            except pm.PapermillExecutionError as err:
                raise StepFailed(f"{tag} failed ({err.ename}: {str(err.evalue)[:200]}); open {executed}") from None
            finally:
                output.close()
        atomic_write_text(done, json.dumps({"parameters": params, "seconds": round(time.perf_counter() - t, 1)}))
        log(f"{tag}: finished in {time.perf_counter() - t:.0f}s")
        folders.append(folder)
    return folders
