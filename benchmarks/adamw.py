"""One AdamW step over MiniLM-L6-sized parameters (22.4M, word embeddings included): for-loop vs foreach
vs fused, median of 5 steps.

    python benchmarks/adamw.py
"""

import statistics
import time

import torch


def params():
    torch.manual_seed(0)
    shapes = [(30522, 384)] + [(384, 384)] * 24 + [(384, 1536)] * 12 + [(384,)] * 60
    ps = [torch.nn.Parameter(torch.randn(*s)) for s in shapes]
    for p in ps:
        p.grad = torch.randn_like(p)
    return ps


if __name__ == "__main__":
    torch.set_num_threads(2)
    for kw in ({}, {"foreach": True}, {"fused": True}):
        ps = params()
        opt = torch.optim.AdamW(ps, lr=1e-4, eps=1e-6, **kw)
        opt.step()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            opt.step()
            times.append(time.perf_counter() - t)
        print(f"{str(kw) or 'default':20s} median step {statistics.median(times):.3f} s")
