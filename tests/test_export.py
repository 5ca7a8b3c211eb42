"""A run's selected models at stable paths (RUN/best/*) with a filled hub model card, and `tenc export`
(copies, ONNX, the hub push)."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from huggingface_hub import HfApi, ModelCard, RepoUrl

from tenc.cli import main


@pytest.fixture(scope="module")
def finished_run(tiny_bert, fake_sts, tmp_path_factory):
    run = tmp_path_factory.mktemp("export") / "run"
    argv = ["distill", "--preset", "smoke", "--quiet", "--out", str(run), "--set", f"start={tiny_bert}"]
    assert main([*argv, "--set", f"data={fake_sts}", "--set", "cycles=2", "--name", "card check"]) == 0
    return run


def test_cards_carry_hub_metadata_and_keep_the_sentence_transformers_card(finished_run):
    summary = json.loads((finished_run / "summary.json").read_text())
    for kind, pipeline in (("bi", "sentence-similarity"), ("cross", "text-ranking")):
        card = ModelCard.load(finished_run / "best" / kind / "README.md")
        data = card.data
        assert data.library_name == "sentence-transformers" and data.pipeline_tag == pipeline
        assert {"tenc", "trans-encoder", "sentence-transformers"} <= set(data.tags)
        row = summary["selected"][kind]["row"]
        tests = {t: v for t, v in row.items() if t not in ("cycle", "kind", "member", "dev", "avg")}
        assert data.model_name == "card check" and len(data.eval_results) == len(tests) > 0
        for result in data.eval_results:  # the model-index parses back to the selected row's scores
            assert result.dataset_split == "test" and result.metric_value == pytest.approx(tests[result.dataset_name])
            assert result.metric_type == summary["metrics"][result.dataset_name]
        assert "## The card sentence-transformers wrote" in card.text and "sentence-transformers" in card.text
        assert f"Selected: cycle {row['cycle']}" in card.text


def test_onnx_export_scores_like_torch(finished_run, tmp_path, capsys):
    import onnxruntime
    from sentence_transformers import CrossEncoder, SentenceTransformer

    assert main(["export", str(finished_run), str(tmp_path / "out"), "--onnx"]) == 0
    assert (tmp_path / "out" / "bi" / "onnx" / "model.onnx").is_file()
    s1 = ["a man is eating food .", "a woman plays the violin on a small stage", "dogs"]
    s2 = ["someone eats", "a cat sleeps", "two dogs run through the grass in the park"]
    bi = SentenceTransformer(str(tmp_path / "out" / "bi"), device="cpu")
    pooling = json.loads((tmp_path / "out" / "bi" / "1_Pooling" / "config.json").read_text())["pooling_mode"]
    assert pooling in ("cls", "mean")
    session = onnxruntime.InferenceSession(str(tmp_path / "out" / "bi" / "onnx" / "model.onnx"))

    def embed(sentences):  # ONNX Runtime's token states, pooled and normalised as the torch model does
        enc = bi.tokenizer(sentences, padding=True, return_tensors="np", return_token_type_ids=True)
        states = session.run(None, {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")})[0]
        mask = enc["attention_mask"][..., None]
        pooled = states[:, 0] if pooling == "cls" else (states * mask).sum(1) / mask.sum(1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    want = (bi.encode(s1, normalize_embeddings=True) * bi.encode(s2, normalize_embeddings=True)).sum(1)
    np.testing.assert_allclose((embed(s1) * embed(s2)).sum(1), want, atol=1e-5)
    ce = CrossEncoder(str(tmp_path / "out" / "cross"), device="cpu")
    enc = ce.tokenizer(s1, s2, padding=True, return_tensors="np", return_token_type_ids=True)
    cross = onnxruntime.InferenceSession(str(tmp_path / "out" / "cross" / "onnx" / "model.onnx"))
    logits = cross.run(None, {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")})[0][:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), ce.predict(list(zip(s1, s2, strict=True))), atol=1e-5)


def test_push_uploads_each_folder_through_sentence_transformers(finished_run, tmp_path, monkeypatch, capsys):
    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create", repo_id))
        return RepoUrl(f"https://huggingface.co/{repo_id}")

    def upload_folder(self, repo_id, folder_path, **kwargs):
        calls.append(("upload", repo_id, sorted(p.name for p in Path(folder_path).iterdir())))
        return SimpleNamespace(commit_url=f"https://huggingface.co/{repo_id}/commit/0", pr_url=None)

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert main(["export", str(finished_run), str(tmp_path / "out"), "--push", "someone/tenc-smoke"]) == 0
    assert [c[:2] for c in calls] == [
        ("create", "someone/tenc-smoke-bi"),
        ("upload", "someone/tenc-smoke-bi"),
        ("create", "someone/tenc-smoke-cross"),
        ("upload", "someone/tenc-smoke-cross"),
    ]
    assert all("README.md" in c[2] and "model.safetensors" in c[2] for c in calls if c[0] == "upload")
    assert capsys.readouterr().out.split()[-2:] == [
        "https://huggingface.co/someone/tenc-smoke-bi/commit/0",
        "https://huggingface.co/someone/tenc-smoke-cross/commit/0",
    ]


def test_best_models_have_cards_and_export_copies_them(tiny_bert, finished_run, tmp_path, capsys):
    from sentence_transformers import CrossEncoder, SentenceTransformer

    run = finished_run
    summary = __import__("json").loads((run / "summary.json").read_text())
    for kind in ("bi", "cross"):
        card = (run / "best" / kind / "README.md").read_text()
        cycle = summary["selected"][kind]["cycle"]
        row = summary["selected"][kind]["row"]
        assert f"Selected: cycle {cycle}" in card and f"{row['avg']:.2f}" in card
        assert f"start (bi-encoder) model: `{tiny_bert}`" in card and "--preset smoke" in card
        assert ("cosine" if kind == "bi" else "one-order") in card
        # the same weights as the selected cycle's folder
        src = run / f"cycle_{cycle}" / kind / "model.safetensors"
        assert (run / "best" / kind / "model.safetensors").read_bytes() == src.read_bytes()
    capsys.readouterr()
    assert main(["export", str(run), str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "out" / "bi"), str(tmp_path / "out" / "cross")]
    emb = SentenceTransformer(str(tmp_path / "out" / "bi"), device="cpu").encode(["a man is eating ."])
    score = CrossEncoder(str(tmp_path / "out" / "cross"), device="cpu").predict([("a man", "a dog")])
    assert np.isfinite(emb).all() and np.isfinite(score).all()
    assert main(["export", str(tmp_path / "nothing"), str(tmp_path / "o2")]) == 2
    assert "no selected models" in capsys.readouterr().err


def test_scores_in_mteb_format_load_in_mteb(finished_run):
    import mteb
    from mteb.results import TaskResult

    from tenc.mteb_format import TASKS

    for name, (task, revision) in TASKS.items():  # the revisions MTEB pins for the same sets
        assert mteb.get_task(task).metadata.dataset["revision"] == revision, name
    summary = json.loads((finished_run / "summary.json").read_text())
    for kind in ("bi", "cross"):
        row = summary["selected"][kind]["row"]
        files = sorted((finished_run / "mteb" / kind).glob("*.json"))
        shared = {TASKS[t][0]: row[t] for t in TASKS if t in row}
        assert shared and sorted(f.stem for f in files) == sorted(shared)  # SICK-R is not MTEB's split: left out
        for path in files:
            result = TaskResult.from_disk(path)
            assert result.task_name == path.stem
            assert result.get_score() * 100 == pytest.approx(shared[path.stem], abs=1e-4)


def test_mteb_command_rewrites_a_runs_files_elsewhere(finished_run, tmp_path, capsys):
    assert main(["mteb", str(finished_run), "--out", str(tmp_path / "m")]) == 0
    printed = capsys.readouterr().out.split()
    mine = sorted(p.relative_to(tmp_path / "m" / "run") for p in (tmp_path / "m").rglob("*.json"))
    theirs = sorted(p.relative_to(finished_run / "mteb") for p in (finished_run / "mteb").rglob("*.json"))
    assert mine == theirs and len(printed) == len(mine) > 0
    for rel in mine:
        assert (tmp_path / "m" / "run" / rel).read_text() == (finished_run / "mteb" / rel).read_text()
    assert main(["mteb", str(tmp_path / "nothing")]) == 2
    assert "summary.json: not found" in capsys.readouterr().err


def test_export_never_replaces_a_users_folder_and_replaces_all_or_none(finished_run, tmp_path, capsys, monkeypatch):
    import shutil

    from tenc import export as export_mod

    dest = tmp_path / "dest"
    (dest / "bi").mkdir(parents=True)
    (dest / "bi" / "mine.txt").write_text("a user's file")
    assert main(["export", str(finished_run), str(dest)]) == 2
    err = capsys.readouterr().err
    assert "are not tenc models" in err and "--force" in err and (dest / "bi" / "mine.txt").is_file()
    assert not (dest / "cross").exists()  # nothing was written either
    assert main(["export", str(finished_run), str(dest), "--force"]) == 0  # asked for: replaced
    assert not (dest / "bi" / "mine.txt").exists() and (dest / "bi" / "model.safetensors").is_file()
    shutil.rmtree(dest)
    assert main(["export", str(finished_run), str(dest)]) == 0  # a fresh export ...
    before = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    copies = []
    real_copytree = shutil.copytree

    def second_copy_fails(src, dst, *args, **kw):  # a full disk while the second model is copied
        if Path(dst).parent == dest:  # a model folder, not one of copytree's own recursive calls
            copies.append(src)
            if len(copies) == 2:
                raise OSError(28, "No space left on device")
        return real_copytree(src, dst, *args, **kw)

    monkeypatch.setattr(export_mod.shutil, "copytree", second_copy_fails)
    assert main(["export", str(finished_run), str(dest)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    after = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert after == before  # the earlier export whole: neither folder replaced, no temporary left
    assert sorted(p.name for p in dest.iterdir()) == ["bi", "cross"]


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    import os

    from tenc import io

    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    real_replace, calls = os.replace, []

    def swap_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the new folder's rename into place
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", swap_fails)
    with pytest.raises(OSError), io.atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["old.txt"] and [p.name for p in tmp_path.iterdir()] == ["model"]


def test_export_refuses_a_selected_model_whose_files_changed(finished_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run, copy_function=shutil.copy2)  # plain copies: the edit stays in this copy
    weights = run / "best" / "cross" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert main(["export", str(run), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_committed_mteb_results_load_in_mteb():
    from mteb.results import TaskResult

    files = sorted((Path(__file__).resolve().parents[1] / "results" / "mteb").rglob("*.json"))
    assert files
    for path in files:
        result = TaskResult.from_disk(path)
        assert result.task_name == path.stem and 0 < result.get_score() < 1
