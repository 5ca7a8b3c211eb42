"""Packaging: pyproject.toml and environment.yml declare the same dependencies; CI calls make test."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_pip = [d for d in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict)) if not d.startswith("-")]
    assert {d.replace(" ", "") for d in conda_pip} == {d.replace(" ", "") for d in pip_deps}
    assert "torch==2.13.0" in project["dependencies"]
    text = (ROOT / "environment.yml").read_text()  # what make setup adds beyond the dependencies, conda users too
    makefile = (ROOT / "Makefile").read_text()
    rampart = makefile.split("RAMPART := ", 1)[1].split()[0]
    assert f"pip install --no-deps {rampart}" in text and "python -m tenc.kernel --install" in text
    assert "$(PY) -m tenc.kernel --install" in makefile
    assert isinstance(project["license"], str)  # an SPDX expression, not the deprecated table


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make run" in readme


def test_readme_results_table_is_the_scoreboard():
    """Every row of the results page's scoreboard is a row of results/sts.csv, with the same numbers, and back."""
    import pandas as pd

    from tenc.scoreboard import SCORES, read_board

    text = (ROOT / "docs" / "results.md").read_text().split("## The scoreboard", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| model |")
    ]
    readme = {tuple(r[:3]): r[3:] for r in rows if len(r) == 16}
    board = read_board(ROOT / "results" / "sts.csv")
    shown = ["protocol", "seed", "pool", "labels", "selected"]
    csv = {
        (r["model"], r["kind"], r["stage"]): [f"{r[c]:.2f}" for c in SCORES]
        + ["" if pd.isna(r[c]) else str(r[c]) for c in shown]
        for _, r in board.iterrows()
    }
    assert len(readme) == len(board) > 10 and readme == csv
    assert set(board.loc[board["kind"] == "bi", "protocol"]) == {"cosine"}  # every cross row names its protocol
    assert set(board.loc[board["kind"] == "cross", "protocol"]) <= {"one-order", "two-order mean"}


def test_the_results_page_table_is_regenerated_from_the_csv(tmp_path):
    import shutil

    from tenc.scoreboard import refresh_results_page

    page = tmp_path / "results.md"
    shutil.copy(ROOT / "docs" / "results.md", page)
    assert not refresh_results_page(page, ROOT / "results" / "sts.csv")  # the committed page is up to date
    board = tmp_path / "sts.csv"
    lines = (ROOT / "results" / "sts.csv").read_text().splitlines()
    board.write_text("\n".join(lines[:-1]) + "\n")  # one row fewer
    assert refresh_results_page(page, board)
    after, before = page.read_text(), (ROOT / "docs" / "results.md").read_text()
    assert after.count("\n") == before.count("\n") - 1
    assert after.split("## The scoreboard")[0] == before.split("## The scoreboard")[0]


def _table_widths(text: str) -> list[tuple[int, list[int]]]:
    """Each markdown table's first line number and its lines' cell counts (code spans and \\| not cells)."""
    tables, block = [], []
    for n, line in enumerate(text.split("\n") + [""], 1):
        if line.startswith("|"):
            plain = re.sub(r"`[^`]*`", "code", line.replace("\\|", ""))
            block.append((n, plain.strip().strip("|").count("|") + 1))
        elif block:
            tables.append((block[0][0], [w for _, w in block]))
            block = []
    return tables


def test_markdown_tables_keep_their_width():
    """No table row has more or fewer cells than its header (rows appended to the wrong table render
    as garbage: scoreboard rows once landed in the two-column commands table)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "results").glob("*.md"))]
    ragged = [
        f"{page.relative_to(ROOT)}:{line}"
        for page in pages
        for line, widths in _table_widths(page.read_text())
        if len(set(widths)) > 1
    ]
    assert _table_widths("| a | b |\n|---|---|\n| `x | y` | z |\n| 1 | 2 | 3 |\n") == [(1, [2, 2, 2, 3])]
    assert ragged == []


def test_readme_ablation_rows_are_the_tables_rows():
    """The results page's Ablations table quotes results/tables.md (rebuilt from metrics.json by `make tables`)."""
    text = (ROOT / "docs" / "results.md").read_text().split("## Ablations", 1)[1].split("\n#", 1)[0]
    rows = [line.strip() for line in text.splitlines() if line.startswith("| ") and not line.startswith("| ablation |")]
    tables = (ROOT / "results" / "tables.md").read_text().splitlines()
    assert rows and all(row in tables for row in rows)


def test_plans_that_write_results_keep_the_committed_rows():
    """A plan rebuilding results/ or figures/ from this machine's runs keeps the rows of runs made elsewhere
    (a fresh clone's `make run` must add its run, not delete the scoreboard's)."""
    for plan in sorted((ROOT / "params" / "plans").glob("*.yaml")):
        for step in yaml.safe_load(plan.read_text())["steps"]:
            p = step.get("parameters") or {}
            if step["notebook"] in ("90_tables", "91_figures") and p.get("out_dir") in ("results", "figures"):
                assert p.get("keep") == "results", f"{plan.name}: {step['notebook']} without keep: results"


def test_findings_tables_are_the_paper_table():
    """The tracks' tables on docs/findings.md are results/paper_table.md's (rebuilt by `make tables`)."""
    page = (ROOT / "docs" / "findings.md").read_text().split("## The tracks", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    paper = (ROOT / "results" / "paper_table.md").read_text().splitlines()
    assert len(rows) > 10 and all(row in paper for row in rows)


def test_readme_is_a_front_page_whose_numbers_are_dev_selected_rows():
    """At most 120 lines, the commands (make run, make test, make lab) within the first 30; every tenc number
    in its table is the 7-set average of a scoreboard row that its run's selection rule picked (or a start)."""
    import re

    from tenc.scoreboard import read_board

    readme = (ROOT / "README.md").read_text().splitlines()
    assert len(readme) <= 120
    head = "\n".join(readme[:30])
    assert all(command in head for command in ("make run", "make test", "make lab"))
    table = "\n".join(readme).split("## Does it work?", 1)[1].split("\n## ", 1)[0]
    board = read_board(ROOT / "results" / "sts.csv")
    picked = set(board.loc[board["selected"].isin(["dev", "n/a"]), "avg"].round(2))
    tenc_rows = [line for line in table.splitlines() if line.startswith("| tenc") or line.startswith("| the same")]
    numbers = [float(n) for line in tenc_rows for n in re.findall(r"(?<![+±\d.])\d\d\.\d\d(?![\d)])", line)]
    assert len(tenc_rows) >= 4 and len(numbers) >= 10
    assert all(n in picked for n in numbers), [n for n in numbers if n not in picked]
    for cell in (c for line in tenc_rows for c in line.split("|") if "(mean " in c):  # a mean is of its cell's seeds
        seeds = [float(n) for n in re.findall(r"(?<![+±\d.])\d\d\.\d\d(?![\d)])", cell)]
        mean = float(re.search(r"\(mean (\d\d\.\d\d)\)", cell).group(1))
        assert len(seeds) >= 2 and abs(sum(seeds) / len(seeds) - mean) < 0.006, cell


def test_ruff_lint_and_format_are_clean():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    fmt = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", str(ROOT)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout[-3000:]


def test_make_run_is_the_main_plan_and_its_steps_resolve():
    """`make run` runs params/plans/main.yaml: its priming config exists, its distillation uses the main preset
    from that primed folder, and the last distillation step reads the seed repeats for its gain report."""
    from tenc.config import DistillConfig
    from tenc.runs import load_plan

    assert "tenc run params/plans/main.yaml" in (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n")[0]
    steps = load_plan(ROOT / "params" / "plans" / "main.yaml")
    prime = next(s for s in steps if s["notebook"] == "10_prime")
    assert (ROOT / prime["parameters"]["config"]).is_file()
    distill = [s for s in steps if s["notebook"] == "20_distill"]
    assert [s["parameters"]["cycle"] for s in distill] == [0, 1]
    assert all(s["parameters"]["start"] == f"papermill_runs/10_prime/{prime['run']}" for s in distill)
    assert distill[-1]["parameters"]["repeats"] == "results/main_seeds.csv" and distill[-1]["always"]
    cfg = DistillConfig.from_preset("main", start="x", cross_init="rampart")
    assert (cfg.cycles, cfg.max_pairs, cfg.bi_epochs, cfg.selection) == (1, 8000, 4, "dev")


def test_modules_stay_under_400_lines_and_classes_under_200():
    """The house rule that keeps modules readable: no tenc module over 400 lines, no class over 200."""
    import ast

    for path in sorted((ROOT / "tenc").glob("*.py")):
        source = path.read_text()
        assert source.count("\n") <= 400, f"{path.name}: {source.count(chr(10))} lines"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno + 1 <= 200, f"{path.name}: class {node.name}"


def test_relative_links_of_the_pages_resolve():
    """Every relative link on the README and docs/ pages points at a file or folder that exists."""
    import re

    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith("http"):
                assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_install_is_pinned_and_the_readme_names_the_pins():
    """constraints.txt pins every declared dependency to one version; make setup installs with it; the README's
    versions are the pinned ones."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {
        _name(line.split("==")[0]): line.split("==")[1].strip()
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    declared = {_name(d) for d in [*project["dependencies"], *project["optional-dependencies"]["test"]]}
    assert declared <= set(pins), f"not pinned: {sorted(declared - set(pins))}"
    assert "pip install --quiet -c constraints.txt -e" in (ROOT / "Makefile").read_text()
    assert "-c constraints.txt" in (ROOT / "environment.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    for package in ("torch", "transformers", "sentence-transformers"):
        assert f"{package} {pins[package].split('+')[0]}" in readme, package


def test_tenc_imports_have_no_circles():
    """The package's imports among its own modules (module-level and in-function alike) form no circle."""
    import ast

    modules = {p.stem: p for p in (ROOT / "tenc").glob("*.py")}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
                graph[name] |= {t.split(".")[0] for t in targets if t.split(".")[0] in modules} - {name}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != 1, f"import circle: {' -> '.join([*path, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert len(graph) > 30 and sum(map(len, graph.values())) > 100  # the walk saw the package's imports
