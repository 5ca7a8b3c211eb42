"""Custom corpora: a user's pair files (``--pairs``, ``--dev``, ``--test``) and sentence files (priming).

Formats, by extension: ``.txt`` (the reference tool's ``sent1||sent2`` lines, optionally ``||label``),
``.tsv``/``.csv`` (header with sentence1, sentence2 and optionally label/score), ``.jsonl``. Errors name the
file and line (`tenc.data.DataError`).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .data import MAX_SENTENCE_CHARS, DataError, read_lines


def read_pairs(path: str | os.PathLike, require_label: bool = False) -> tuple[pd.DataFrame, int]:
    """Read a custom pair file; return ``(DataFrame[sentence1, sentence2, label?], n_dropped_empty)``.

    Formats, by extension: ``.txt`` (the reference tool's ``sent1||sent2`` lines, optionally
    ``||label``), ``.tsv``/``.csv`` (header with sentence1, sentence2 and optionally label/score),
    ``.jsonl`` (objects with those keys). Errors name the file and line.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".txt", ".tsv", ".csv", ".jsonl"):
        raise DataError(f"{path}: unsupported extension {ext!r} (use .txt, .tsv, .csv or .jsonl)")
    lines = [ln.replace("\r", " ") for ln in read_lines(path)]  # a bare CR inside a sentence is no line break
    rows: list[tuple[int, str, str, float | None]] = []
    if ext == ".txt":
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            cols = line.split("||")
            if len(cols) not in (2, 3):
                raise DataError(f"{path}:{i}: expected 'sentence1||sentence2[||label]', got {len(cols)} field(s)")
            rows.append((i, cols[0], cols[1], _parse_label(cols[2], path, i) if len(cols) == 3 else None))
    elif ext == ".jsonl":
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{i}: invalid JSON ({err.msg})") from None
            if not isinstance(obj, dict) or "sentence1" not in obj or "sentence2" not in obj:
                raise DataError(f"{path}:{i}: expected an object with 'sentence1' and 'sentence2'")
            for key in ("sentence1", "sentence2"):
                if not isinstance(obj[key], str):
                    raise DataError(f"{path}:{i}: {key} is {json.dumps(obj[key])}, not a string")
            lab = obj.get("label", obj.get("score"))
            rows.append(
                (i, str(obj["sentence1"]), str(obj["sentence2"]), None if lab is None else _parse_label(lab, path, i))
            )
    else:
        # TSV has no quoting: a '"' is ordinary text. CSV quotes fields, and a quoted field must close on its line.
        reader = (
            csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
            if ext == ".tsv"
            else csv.reader(lines, delimiter=",")
        )
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file")
        header = [h.strip().lower() for h in header]
        if "sentence1" not in header or "sentence2" not in header:
            raise DataError(f"{path}:1: header must name sentence1 and sentence2, got {header}")
        c1, c2 = header.index("sentence1"), header.index("sentence2")
        cl = next((header.index(k) for k in ("label", "score") if k in header), None)
        for i, cols in enumerate(reader, start=2):
            if reader.line_num != i:
                raise DataError(
                    f"{path}:{i}: a quote opened here closes on line {reader.line_num}; "
                    "a field holding '\"' must be quoted and the quote doubled ('\"\"')"
                )
            if not cols:
                continue
            if len(cols) != len(header):
                raise DataError(f"{path}:{i}: expected {len(header)} columns, got {len(cols)}")
            rows.append((i, cols[c1], cols[c2], None if cl is None else _parse_label(cols[cl], path, i)))
    if not rows:
        raise DataError(f"{path}: no sentence pairs found")
    for line, a, b, _ in rows:
        if max(len(a), len(b)) > MAX_SENTENCE_CHARS:
            raise DataError(
                f"{path}:{line}: a sentence of {max(len(a), len(b))} characters "
                f"(limit {MAX_SENTENCE_CHARS}); is this really one sentence per field?"
            )
    has_label = [r[3] is not None for r in rows]
    if any(has_label) and not all(has_label):
        first = rows[has_label.index(False)][0]
        raise DataError(f"{path}:{first}: label missing while other lines have one")
    if require_label and not has_label[0]:
        raise DataError(f"{path}: labels are required here but the file has none")
    kept = [r for r in rows if r[1].strip() and r[2].strip()]
    dropped = len(rows) - len(kept)
    if not kept:
        raise DataError(f"{path}: every pair has an empty sentence")
    df = pd.DataFrame({"sentence1": [r[1].strip() for r in kept], "sentence2": [r[2].strip() for r in kept]})
    if has_label[0]:
        df["label"] = [r[3] for r in kept]
    return df, dropped


def _parse_label(value, path, line: int) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{path}:{line}: label {value!r} is not a number") from None
    if not np.isfinite(out):
        raise DataError(f"{path}:{line}: label {value!r} is not finite")
    return out


def read_sentences(path: str | os.PathLike) -> list[str]:
    """One sentence per line (for priming); blank lines are skipped, duplicates removed."""
    lines = read_lines(Path(path))
    sents = list(dict.fromkeys(s.strip() for s in lines if s.strip()))
    if not sents:
        raise DataError(f"{path}: no sentences found")
    return sents
