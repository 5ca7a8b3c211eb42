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

from .data import MAX_SENTENCE_CHARS, DataError, iter_lines


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
    lines = (ln.replace("\r", " ") for ln in iter_lines(path))  # a bare CR inside a sentence is no line break
    records = _records(path, ext, lines)
    s1: list[str] = []
    s2: list[str] = []
    labels: list[float] = []
    parts: list[pd.DataFrame] = []  # compact string columns, CHUNK pairs at a time
    has_label, dropped, pairs = None, 0, 0
    for line, a, b, label in records:  # one pass, the file never held whole
        pairs += 1
        if max(len(a), len(b)) > MAX_SENTENCE_CHARS:
            raise DataError(
                f"{path}:{line}: a sentence of {max(len(a), len(b))} characters "
                f"(limit {MAX_SENTENCE_CHARS}); is this really one sentence per field?"
            )
        if has_label is None:
            has_label = label is not None
        elif has_label != (label is not None):
            raise DataError(
                f"{path}:{line}: label missing while other lines have one"
                if label is None
                else f"{path}:{line}: a label here while the lines before have none"
            )
        a, b = a.strip(), b.strip()
        if not a or not b:
            dropped += 1
            continue
        s1.append(a)
        s2.append(b)
        if label is not None:
            labels.append(label)
        if len(s1) == CHUNK:
            parts.append(_frame(s1, s2, labels))
            s1, s2, labels = [], [], []
    if not pairs:
        raise DataError(f"{path}: no sentence pairs found")
    if require_label and not has_label:
        raise DataError(f"{path}: labels are required here but the file has none")
    parts.append(_frame(s1, s2, labels))
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if df.empty:
        raise DataError(f"{path}: every pair has an empty sentence")
    return df, dropped


CHUNK = 50_000  # pairs held as Python strings at a time while a pair file is read


def _frame(s1: list[str], s2: list[str], labels: list[float]) -> pd.DataFrame:
    df = pd.DataFrame({"sentence1": pd.Series(s1, dtype="str"), "sentence2": pd.Series(s2, dtype="str")})
    if labels:
        df["label"] = np.asarray(labels, dtype=float)
    return df


def _records(path: Path, ext: str, lines):
    """(line number, sentence1, sentence2, label or None) of every pair line, as read."""
    if ext == ".txt":
        for i, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            cols = line.split("||")
            if len(cols) not in (2, 3):
                raise DataError(f"{path}:{i}: expected 'sentence1||sentence2[||label]', got {len(cols)} field(s)")
            yield i, cols[0], cols[1], _parse_label(cols[2], path, i) if len(cols) == 3 else None
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
            yield i, str(obj["sentence1"]), str(obj["sentence2"]), None if lab is None else _parse_label(lab, path, i)
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
            yield i, cols[c1], cols[c2], None if cl is None else _parse_label(cols[cl], path, i)


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
    sents = list(dict.fromkeys(s.strip() for s in iter_lines(Path(path)) if s.strip()))
    if not sents:
        raise DataError(f"{path}: no sentences found")
    return sents
