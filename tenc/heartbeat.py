"""Live progress wherever tenc runs: one line every minute on long work (training, labelling, priming), printed
to stdout, so it reaches the console of ``tenc distill``, ``make run`` (the driver streams each notebook's
output) and the step's ``log.txt`` under papermill, where tqdm bars never arrive.

    train cross: 1200/3100 steps (39%), loss 0.5121, dev 81.20, 2.05 steps/s, about 15m26s left

``TENC_HEARTBEAT`` sets the interval in seconds (default 60; 0 turns the lines off). tqdm bars are drawn as
before where a terminal or JupyterLab shows them.
"""

from __future__ import annotations

import os
import time


def _duration(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s"


class Heartbeat:
    """``beat(done, **fields)`` after each unit of work prints a line once ``every`` seconds have passed
    since the last line (the first after ``every`` seconds of work); ``clock`` is for tests."""

    def __init__(self, desc: str, total: int, unit: str = "steps", initial: int = 0, every=None, clock=time.monotonic):
        self.desc, self.total, self.unit, self.initial = desc, total, unit, initial
        self.every = float(os.environ.get("TENC_HEARTBEAT", "60")) if every is None else float(every)
        self.clock = clock
        self.start = self.last = clock()

    def beat(self, done: int, **fields) -> str | None:
        now = self.clock()
        if self.every <= 0 or now - self.last < self.every:
            return None
        self.last = now
        rate = (done - self.initial) / max(now - self.start, 1e-9)
        left = (self.total - done) / rate if rate > 0 else float("inf")
        shown = "".join(f", {k} {v}" for k, v in fields.items() if v is not None)
        line = (
            f"{self.desc}: {done}/{self.total} {self.unit} ({100 * done / max(self.total, 1):.0f}%){shown}, "
            f"{rate:.2f} {self.unit}/s, about {_duration(left)} left"
        )
        print(line, flush=True)
        return line
