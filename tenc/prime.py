"""Step 1: prime a bi-encoder from a language model with unsupervised SimCSE or Mirror-BERT.

| method   | views of a sentence                      | loss                                                   | temp. |
|----------|------------------------------------------|--------------------------------------------------------|-------|
| `simcse` | the sentence twice, dropout as the noise | InfoNCE, in-batch negatives (MultipleNegativesRanking) | 0.05  |
| `mirror` | dropout + a `span` of [MASK] in view two | symmetric NT-Xent (`symmetric_infonce`)                | 0.04  |

Sentences: both sides of every pool pair, de-duplicated (or a one-sentence-per-line file).
Selection: the last step by default, or the best STS-B dev checkpoint (``dev_select``).

Example::

    from tenc import prime
    cfg = PrimeConfig(model="rampart", method="simcse", steps=500)
    result = prime.run(cfg, "runs/prime/rampart-simcse")
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import data as tdata
from . import evaluation, models, tables
from .config import PrimeConfig
from .corpora import read_sentences
from .encode import pad_batch, tokenize_sentences, uses_token_types
from .heartbeat import Heartbeat
from .io import atomic_dir, atomic_write_text, run_lock
from .loop import length_bucketed_batches, loss_curve, optimizer, seed_everything


def symmetric_infonce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mirror-BERT's symmetric NT-Xent: mean of InfoNCE(a -> b) and InfoNCE(b -> a) on cosines / T."""
    sim = torch.nn.functional.normalize(a, dim=-1) @ torch.nn.functional.normalize(b, dim=-1).T / temperature
    target = torch.arange(len(a), device=sim.device)
    return 0.5 * (torch.nn.functional.cross_entropy(sim, target) + torch.nn.functional.cross_entropy(sim.T, target))


def features(rows: list[list[int]], pad: int, keep_types: bool, device) -> dict:
    """A padded batch of token id lists on ``device`` (the model's), without token types where unused."""
    f = pad_batch(rows, pad)
    if not keep_types:
        f.pop("token_type_ids")
    return {k: v.to(device) for k, v in f.items()}


def span_mask(ids: list[int], span: int, mask_id: int, rng: np.random.Generator) -> list[int]:
    """Replace one random run of ``span`` tokens (never [CLS]/[SEP]) by [MASK]."""
    inner = len(ids) - 2
    if inner <= 0 or span <= 0:
        return list(ids)
    k = min(span, inner)
    start = 1 + int(rng.integers(0, inner - k + 1))
    out = list(ids)
    out[start : start + k] = [mask_id] * k
    return out


def corpus_sentences(cfg: PrimeConfig, pairs) -> list[str]:
    if cfg.corpus == "pool":
        sents = tdata.build_pool(pairs).sentences
    else:
        sents = read_sentences(cfg.corpus)
    if cfg.max_sentences and cfg.max_sentences < len(sents):
        rng = np.random.default_rng(cfg.seed)
        sents = [sents[i] for i in sorted(rng.choice(len(sents), cfg.max_sentences, replace=False))]
    return sents


def train(cfg: PrimeConfig, model, sentences: list[str], dev_fn=None, progress: bool = True) -> dict:
    """Prime ``model`` (a SentenceTransformer) in place; return training statistics."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import Dense

    seed_everything(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    tok = model.tokenizer
    ids = tokenize_sentences(tok, sentences, cfg.max_length)
    keep_types = uses_token_types(model)
    head = None
    if cfg.mlp:
        dim = model.get_embedding_dimension()
        head = Dense(dim, dim, activation_function=torch.nn.Tanh())
    params = list(model.parameters()) + (list(head.parameters()) if head is not None else [])
    holder = torch.nn.ModuleList([model] + ([head] if head is not None else []))
    opt, sched = optimizer(holder, cfg.lr, 0.01, cfg.steps, 0.0)
    mnrl = MultipleNegativesRankingLoss(model, scale=1.0 / cfg.tau)
    pad = tok.pad_token_id or 0

    device = next(model.parameters()).device
    if head is not None:
        head.to(device)

    def feats(rows):
        return features(rows, pad, keep_types, device)

    def emb(f):
        out = model(f)["sentence_embedding"]
        return head({"sentence_embedding": out})["sentence_embedding"] if head is not None else out

    losses, dev, best, best_state, best_step = [], [], -np.inf, None, None
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))

    def epoch_batches():
        if cfg.length_buckets:
            return [b for b in length_bucketed_batches(lengths, cfg.batch_size, rng) if len(b) == cfg.batch_size]
        order = rng.permutation(len(ids))
        return [order[i : i + cfg.batch_size] for i in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size)]

    batches, real, padded = [], 0, 0
    model.train()
    t = time.perf_counter()
    heartbeat = Heartbeat(f"prime {cfg.method}", cfg.steps)
    for step in tqdm(range(1, cfg.steps + 1), desc=f"prime {cfg.method}", disable=not progress, leave=False):
        if not batches:
            batches = epoch_batches()
        idx = batches.pop()
        real += int(lengths[idx].sum())
        padded += int(lengths[idx].max()) * len(idx)
        rows = [ids[i] for i in idx]
        if cfg.method == "simcse":
            if head is None:
                loss = mnrl([feats(rows), feats(rows)], None)
            else:
                loss = mnrl.compute_loss_from_embeddings([emb(feats(rows)), emb(feats(rows))], None)
        else:
            masked = [span_mask(r, cfg.span, tok.mask_token_id, rng) for r in rows]
            loss = symmetric_infonce(emb(feats(rows)), emb(feats(masked)), cfg.tau)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if dev_fn is not None and cfg.dev_select and (step % cfg.eval_steps == 0 or step == cfg.steps):
            score = dev_fn()
            model.train()
            dev.append((step, round(score, 4)))
            if score > best:
                best, best_state, best_step = score, copy.deepcopy(model.state_dict()), step
        heartbeat.beat(step, loss=f"{np.mean(losses[-20:]):.4f}", dev=dev[-1][1] if dev else None)
    seconds = time.perf_counter() - t
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return {
        "seconds": round(seconds, 1),
        "sentences_per_second": round(cfg.steps * cfg.batch_size / seconds, 1),
        "padding_fraction": round(1 - real / max(padded, 1), 4),
        "loss_first": float(np.mean(losses[:10])),
        "loss_last": float(np.mean(losses[-10:])),
        "loss_curve": loss_curve(losses),
        "dev": dev,
        "best_step": best_step or cfg.steps,
        "corpus_sentences": len(sentences),
    }


def collapse(model, sentences: list[str]) -> float:
    """Mean pairwise cosine of embeddings: near 1 means collapsed (a raw LM), lower means spread."""
    from .encode import embed

    e = torch.nn.functional.normalize(embed(model, sentences[:256]), dim=-1)
    n = len(e)
    return float(((e @ e.T).sum() - n) / max(n * (n - 1), 1))


def run(cfg: PrimeConfig, out: str | Path, progress: bool = True) -> dict:
    """Prime, save (sentence-transformers format) and evaluate; ``out/metrics.json`` records it all."""
    out = Path(out)
    torch.set_num_threads(cfg.threads)
    with run_lock(out.parent / f".{out.name}-lock"):
        pairs = tdata.load_sts(cfg.data or None)
        from . import distributed as tdist

        model = models.bi_encoder(
            cfg.model,
            pooling=cfg.pooling,
            max_seq_length=cfg.max_length,
            layers=cfg.layers,
            device=cfg.device or str(tdist.device()),
        )
        sentences = corpus_sentences(cfg, pairs)
        before = collapse(model, sentences)
        dev_fn = (lambda: evaluation.dev_spearman([model], "bi", pairs)) if cfg.dev_select else None
        stats = train(cfg, model, sentences, dev_fn, progress)
        stats["collapse_before"], stats["collapse_after"] = round(before, 4), round(collapse(model, sentences), 4)
        stats["dev"] = stats["dev"] or [(cfg.steps, round(evaluation.dev_spearman([model], "bi", pairs), 4))]
        with atomic_dir(out) as tmp:
            model.save(str(tmp))
        result = {"params": asdict(cfg), "train": stats, **evaluation.provenance()}
        if cfg.evaluate_test:
            table, metrics, _ = evaluation.evaluate([model], "bi", pairs, progress=progress)
            result.update(
                metrics=metrics,
                row=evaluation.paper_row(table),
                table=tables.format_paper_table([(out.name, table)]),
            )
        else:
            result.update(metrics={}, row={}, table="")
        import json

        atomic_write_text(out / "metrics.json", json.dumps(result, indent=2, default=float))
        return result
