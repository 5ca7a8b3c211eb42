"""A run's selected scores in MTEB's per-task result format, so MTEB's own tools read them
(``mteb.results.TaskResult.from_disk``; tested), beside the numbers MTEB publishes for other models.

    RUN/mteb/bi/STS12.json … STSBenchmark.json    (cross/, bi_0/ … likewise)
    python -m tenc mteb RUN [--out results/mteb]  # (re)write them from RUN/summary.json

Six sets only: STS12-16 and STS-B are MTEB's test sets pair for pair ("all" setting, cosine Spearman for a
bi-encoder, the one-order cross score's Spearman for a cross-encoder, as ``main_score`` in [0, 1]).
SICK-R is left out: MTEB's SICK-R test set is all 9,927 SICK pairs, while tenc scores SICK's own test
split (4,927 pairs), so the two numbers are not the same measurement.
"""

from __future__ import annotations

import json
from pathlib import Path

from .io import atomic_write_text

# tenc's set name -> (MTEB task name, the dataset revision MTEB pins; checked against mteb in the tests)
TASKS = {
    "STS12": ("STS12", "a0d554a64d88156834ff5ae9920b964011b16384"),
    "STS13": ("STS13", "7e90230a92c190f1bf69ae9002b8cea547a64cca"),
    "STS14": ("STS14", "6031580fec1f6af667f0bd2da0a551cf4f0b2375"),
    "STS15": ("STS15", "ae752c7c21bf194d8b67fd573edf7ae58183cbe3"),
    "STS16": ("STS16", "4d8694f8f0e0100860b497b999b3dbed754a0513"),
    "STS-B": ("STSBenchmark", "b0fddb56ed78048fa8b90373c8a3cfc37b684831"),
}
MTEB_VERSION = "2.0.0"  # the result format written (MTEB 2's)


def task_results(row: dict, kind: str) -> dict[str, dict]:
    """{MTEB task name: its result JSON} for the sets of ``row`` (Spearman x 100) MTEB shares with tenc."""
    metric = "cosine_spearman" if kind.startswith("bi") else "spearman"
    out = {}
    for name, (task, revision) in TASKS.items():
        if isinstance(row.get(name), (int, float)):
            score = round(float(row[name]) / 100, 6)
            split = {"main_score": score, metric: score, "hf_subset": "default", "languages": ["eng-Latn"]}
            out[task] = {
                "dataset_revision": revision,
                "task_name": task,
                "mteb_version": MTEB_VERSION,
                "scores": {"test": [split]},
                "evaluation_time": None,
                "kg_co2_emissions": None,
            }
    return out


def write_mteb(folder: Path, row: dict, kind: str) -> list[Path]:
    """Write ``folder/<Task>.json`` for each shared set of ``row``; return the files written."""
    written = []
    for task, result in task_results(row, kind).items():
        path = Path(folder) / f"{task}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(result, indent=2))
        written.append(path)
    return written


def write_summary_mteb(run: str | Path, out: str | Path | None = None) -> list[Path]:
    """From ``run/summary.json``: every selected student's files, under ``run/mteb/`` or ``out/<run name>/``."""
    from .runfolder import Layout, selected_students

    summary_path = Layout(run).summary
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path}: not found (is {run} a finished tenc run?)")
    summary = json.loads(summary_path.read_text())
    written = []
    for student in selected_students(summary):
        name = f"{student.kind}{student.suffix}"
        folder = Layout(run).mteb(student.kind, student.suffix) if out is None else Path(out) / Path(run).name / name
        written += write_mteb(folder, student.row, student.kind)
    return written
