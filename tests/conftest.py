"""Shared fixtures: a tiny random BERT built locally, a fake STS tree, the real data when present."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# every python -m tenc the tests start runs as the test process does (MKL's default GEMM path), for the whole
# session (module-scoped fixtures included), so in-process and subprocess results compare exactly;
# tests/test_cpu.py turns the fast path on where it tests it
os.environ["TENC_MKL_SHIM"] = "0"

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "sts"

SUBJECTS = ["a man", "a woman", "the child", "a dog", "the cat", "two people", "a girl", "the boy"]
VERBS = ["is playing", "is eating", "is riding", "is reading", "is cutting", "is watching"]
OBJECTS = ["a guitar", "an apple", "a horse", "a book", "some bread", "the television", "a ball"]


def fixture_pairs(n: int = 48, seed: int = 0) -> list[tuple[str, str, float]]:
    """Synthetic pairs with a graded score: shared words -> higher score."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s, v, o = rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)
        a = f"{s} {v} {o} ."
        same = rng.random()
        if same < 0.33:
            b, score = f"{s} {v} {o} .", 5.0
        elif same < 0.66:
            b, score = f"{s} {v} {rng.choice(OBJECTS)} .", 2.5
        else:
            b, score = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} .", 0.5
        out.append((a, b, score))
    return out


def with_gold_line(fake_sts: str, root: Path, gold_file: str, line: int, value: str) -> Path:
    """A copy of the fake STS tree whose `gold_file` (under senteval/STS) has `value` on line `line` (1-based)."""
    import shutil

    shutil.copytree(fake_sts, root)
    gs = root / "senteval" / "STS" / gold_file
    lines = gs.read_text().splitlines()
    lines[line - 1] = value
    gs.write_text("\n".join(lines) + "\n")
    return gs


def make_fake_sts(root: Path, per_file: int = 12) -> Path:
    """A senteval-layout tree with every file the loaders read, filled with fixture pairs."""
    from tenc.data import STS_YEARS

    seed = 0
    for year, subsets in STS_YEARS.items():
        folder = root / "senteval" / "STS" / f"{year}-en-test"
        folder.mkdir(parents=True, exist_ok=True)
        for sub in subsets:
            seed += 1
            pairs = fixture_pairs(per_file, seed)
            (folder / f"STS.input.{sub}.txt").write_text("".join(f"{a}\t{b}\n" for a, b, _ in pairs))
            gold = [f"{s}" if i % 5 or year not in ("STS15", "STS16") else "" for i, (_, _, s) in enumerate(pairs)]
            (folder / f"STS.gs.{sub}.txt").write_text("".join(f"{g}\n" for g in gold))
    stsb = root / "senteval" / "STS" / "STSBenchmark"
    stsb.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        seed += 1
        rows = [
            f"main-captions\tMSRvid\t2012test\t{i:04d}\t{s}\t{a}\t{b}\n"
            for i, (a, b, s) in enumerate(fixture_pairs(per_file * 2, seed))
        ]
        (stsb / f"sts-{split}.csv").write_text("".join(rows))
    sick = root / "senteval" / "SICK"
    sick.mkdir(parents=True, exist_ok=True)
    for fname in ("SICK_train.txt", "SICK_trial.txt", "SICK_test_annotated.txt"):
        seed += 1
        rows = ["pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n"]
        rows += [
            f"{i}\t{a}\t{b}\t{1 + s * 0.8:.1f}\tNEUTRAL\n" for i, (a, b, s) in enumerate(fixture_pairs(per_file, seed))
        ]
        (sick / fname).write_text("".join(rows))
    return root


def make_tiny_bert(folder: Path, layers: int = 2, hidden: int = 32, seed: int = 0) -> Path:
    """A random 2-layer BERT with a word-piece vocabulary made from the fixture words."""
    import torch
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers import models as tk_models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for p in SUBJECTS + VERBS + OBJECTS for w in p.split()} | {".", ",", "the", "a"})
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + list(letters) + [f"##{c}" for c in letters]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(vocab))}
    tk = Tokenizer(tk_models.WordPiece(vocab, unk_token="[UNK]"))
    tk.normalizer = normalizers.BertNormalizer(lowercase=True)
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tk.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tok = BertTokenizerFast(
        tokenizer_object=tk,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(folder)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
    )
    BertModel(cfg, add_pooling_layer=False).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    return str(make_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert"))


@pytest.fixture(scope="session")
def fake_sts(tmp_path_factory) -> str:
    return str(make_fake_sts(tmp_path_factory.mktemp("sts")))


@pytest.fixture(scope="session")
def shared_sts() -> str:
    if not (SHARED / "senteval").is_dir() and not os.environ.get("TENC_DATA"):
        pytest.skip("the STS data folder ../shared/data/sts is not present")
    return os.environ.get("TENC_DATA") or str(SHARED)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # conversions of packaged models are shared across tests through the user cache;
    # everything else a test writes goes to its tmp_path.
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
