"""A run's selected models at stable paths (RUN/best/*) with a filled model card, and `tenc export`."""

import numpy as np

from tenc.cli import main


def test_best_models_have_cards_and_export_copies_them(tiny_bert, fake_sts, tmp_path, capsys):
    from sentence_transformers import CrossEncoder, SentenceTransformer

    run = tmp_path / "run"
    argv = [
        "distill",
        "--preset",
        "smoke",
        "--quiet",
        "--out",
        str(run),
        "--set",
        f"start={tiny_bert}",
        "--set",
        f"data={fake_sts}",
        "--set",
        "cycles=2",
    ]
    assert main(argv) == 0
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
