"""tenc.data: loaders, the pool, custom corpora and their errors."""

import numpy as np
import pandas as pd
import pytest
from conftest import with_gold_line

from tenc import corpora, data
from tenc.data import DataError


def test_fake_tree_loads_every_set(fake_sts):
    df = data.load_sts(fake_sts)
    assert list(df.columns) == data.COLUMNS
    assert set(df["dataset"]) == set(data.EVAL_SETS)
    assert df.loc[df["dataset"] == "STS15", "score"].isna().any()  # unscored pairs are kept as NaN
    ev = data.eval_sets(df)
    assert list(ev) == list(data.EVAL_SETS)
    assert all(v["score"].notna().all() and len(v) > 0 for v in ev.values())
    assert set(data.dev_set(df)["split"]) == {"dev"}


def test_pool_dedups_unordered_pairs_and_inductive_drops_eval_pairs():
    pairs = pd.DataFrame(
        {
            "dataset": ["STS12", "STS-B", "STS-B", "SICK-R"],
            "split": ["test", "train", "train", "train"],
            "subset": ["x"] * 4,
            "sentence1": ["a b", "b a", "c", "a b"],
            "sentence2": ["b a", "a b", "d", "e"],
            "score": [1.0, 2.0, 3.0, np.nan],
        }
    )
    pool = data.build_pool(pairs)
    assert len(pool) == 3 and pool.n_before_dedup == 4  # (a b, b a) == (b a, a b)
    ind = data.build_pool(pairs, "inductive")
    assert set(map(tuple, ind.pairs.values)) == {("c", "d"), ("a b", "e")}
    disjoint = data.build_pool(pairs, "disjoint")  # "a b" is a test sentence: (a b, e) goes
    assert set(map(tuple, disjoint.pairs.values)) == {("c", "d")} and disjoint.mode == "disjoint"
    assert len(data.build_pool(pairs, max_pairs=2)) == 2
    with pytest.raises(DataError, match="unknown pool mode"):
        data.build_pool(pairs, "weird")


@pytest.mark.data
def test_real_data_sizes(shared_sts):
    df = data.load_sts(shared_sts)
    sizes = {k: len(v) for k, v in data.eval_sets(df).items()}
    assert sizes == {
        "STS12": 3108,
        "STS13": 1500,
        "STS14": 3750,
        "STS15": 3000,
        "STS16": 1186,
        "STS-B": 1379,
        "SICK-R": 4927,
    }
    pool = data.build_pool(df)
    assert 35_000 < len(pool) < 38_000 and 46_000 < len(pool.sentences) < 48_000
    disjoint = data.build_pool(df, "disjoint")  # no sentence of any of the seven test sets
    test_sentences = {s for v in data.eval_sets(df).values() for s in (*v["sentence1"], *v["sentence2"])}
    assert len(disjoint) == 9799 and not test_sentences & set(disjoint.sentences)
    raw = data.load_sts(shared_sts, layout="raw")  # raw STS16 has 4 columns
    assert {k: len(v) for k, v in data.eval_sets(raw).items()} == sizes


def test_data_dir_resolution(tmp_path, monkeypatch, fake_sts):
    monkeypatch.setenv("TENC_DATA", fake_sts)
    assert str(data.resolve_data_dir()) == str(data.resolve_data_dir(fake_sts))
    with pytest.raises(DataError, match="does not hold"):
        data.resolve_data_dir(tmp_path)
    monkeypatch.setenv("TENC_DATA", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="tried"):
        data.resolve_data_dir(allow_hub=False)


def test_missing_file_and_bad_score_name_the_file(fake_sts, tmp_path):
    root = tmp_path / "sts"
    gs = with_gold_line(fake_sts, root, "STS12-en-test/STS.gs.MSRpar.txt", 3, "7.5")
    lines = gs.read_text().splitlines()
    with pytest.raises(DataError, match=r"STS.gs.MSRpar.txt:3: gold score 7.5 outside"):
        data.load_sts(root)
    lines[2] = "nan"
    gs.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"MSRpar.txt:3"):
        data.load_sts(root)
    gs.unlink()
    with pytest.raises(DataError, match="file not found"):
        data.load_sts(root)


@pytest.mark.parametrize(
    "name,text",
    [
        ("p.txt", "a cat||a dog\n b || c ||0.5\n"),
        ("p.tsv", "sentence1\tsentence2\tlabel\na cat\ta dog\t1\nb\tc\t0.5\n"),
        ("p.csv", "sentence1,sentence2,label\na cat,a dog,1\nb,c,0.5\n"),
        (
            "p.jsonl",
            '{"sentence1": "a cat", "sentence2": "a dog", "label": 1}\n'
            '{"sentence1": "b", "sentence2": "c", "label": 0.5}\n',
        ),
    ],
)
def test_custom_formats(tmp_path, name, text):
    path = tmp_path / name
    text = text.replace("a cat||a dog\n", "a cat||a dog||1\n") if name.endswith(".txt") else text
    path.write_text(text)
    df, dropped = corpora.read_pairs(path)
    assert df["sentence1"].tolist() == ["a cat", "b"] and df["label"].tolist() == [1.0, 0.5] and dropped == 0


def test_custom_errors(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("sentence1\tsentence2\na\tb\nonly-one-column\n")
    with pytest.raises(DataError, match=r"bad.tsv:3: expected 2 columns, got 1"):
        corpora.read_pairs(bad)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("ok||fine\ncaf\xe9||x\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.txt:2: not valid UTF-8"):
        corpora.read_pairs(latin)
    one = tmp_path / "one.txt"
    one.write_text("no separator here\n")
    with pytest.raises(DataError, match=r"one.txt:1: expected 'sentence1\|\|sentence2"):
        corpora.read_pairs(one)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="no sentence pairs"):
        corpora.read_pairs(empty)
    huge = tmp_path / "huge.txt"
    huge.write_text("a||b\n" + "word " * 10_000 + "||c\n")
    with pytest.raises(DataError, match=r"huge.txt:2: a sentence of 50000 characters"):
        corpora.read_pairs(huge)
    holes = tmp_path / "holes.txt"
    holes.write_text("a||b\n  ||c\nd||e\n")
    df, dropped = corpora.read_pairs(holes)
    assert len(df) == 2 and dropped == 1  # counted, never silent
    with pytest.raises(DataError, match="unsupported extension"):
        corpora.read_pairs(tmp_path / "x.parquet")
