"""How close the converted packaged models are to their ONNX originals (tests/test_models.py checks it)."""

from __future__ import annotations

from . import models
from .convert import dequantize_nbits, initialisers


def onnx_max_abs_diff(alias: str, sentences: list[str]) -> float:
    """Largest |difference| between a converted model and its ONNX original on ``sentences``.

    ``minilm-l3``: the pooled sentence embeddings. ``rampart``: the PII-tagging logits, computed from
    the converted encoder plus the graph's own (dequantised) classifier, against onnxruntime.
    """
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModel, AutoTokenizer

    if alias == "minilm-l3":
        model = models.bi_encoder("minilm-l3")
        ours = model.encode(sentences, convert_to_numpy=True)
        tok = model.tokenizer(sentences, padding=True, return_tensors="np")
        sess = ort.InferenceSession(str(models.l3_onnx_path()), providers=["CPUExecutionProvider"])
        feeds = {
            "input_ids": tok["input_ids"].astype(np.int64),
            "attention_mask": tok["attention_mask"].astype(np.int64),
        }
        theirs = sess.run(["461"], feeds)[0]
        return float(np.abs(ours - theirs).max())
    if alias == "rampart":
        import onnx

        path = models.resolve("rampart")
        onnx_path = models.rampart_dir() / "onnx" / "model_q4.onnx"
        graph = onnx.load(str(onnx_path)).graph
        init = initialisers(graph)
        node = next(n for n in graph.node if n.output[0].startswith("/classifier/MatMul"))
        attrs = {a.name: a for a in node.attribute}
        w = dequantize_nbits(
            init[node.input[1]], init[node.input[2]], attrs["N"].i, attrs["K"].i, block_size=attrs["block_size"].i
        )
        b = init["classifier.bias"]
        tok = AutoTokenizer.from_pretrained(path)
        enc = tok(sentences, padding=True, return_tensors="np")
        bert = AutoModel.from_pretrained(path).eval()
        with torch.inference_mode():
            hidden = bert(**{k: torch.from_numpy(v) for k, v in enc.items()}).last_hidden_state.numpy()
        ours = hidden @ w.T + b
        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        theirs = sess.run(["logits"], {k: v.astype(np.int64) for k, v in enc.items()})[0]
        mask = enc["attention_mask"].astype(bool)
        return float(np.abs(ours - theirs)[mask].max())
    raise models.ModelError(f"{alias!r} is not a converted model")
