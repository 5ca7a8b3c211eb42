"""Live progress: a line every interval on long work, with done/total, loss, dev, rate and time left."""

import numpy as np

from tenc.heartbeat import Heartbeat


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_line_once_per_interval_with_rate_and_time_left(capsys):
    clock = Clock()
    beat = Heartbeat("train cross", 100, every=60, clock=clock)
    clock.now = 30.0
    assert beat.beat(10, loss="0.5000") is None  # not a minute yet
    clock.now = 60.0
    line = beat.beat(20, loss="0.5000", dev=81.2)
    assert line == "train cross: 20/100 steps (20%), loss 0.5000, dev 81.2, 0.33 steps/s, about 4m00s left"
    assert capsys.readouterr().out == line + "\n"
    clock.now = 90.0
    assert beat.beat(30) is None  # 30 s after the last line
    clock.now = 121.0
    assert "30/100" not in beat.beat(40, dev=None) and "dev" not in capsys.readouterr().out


def test_a_resumed_stage_rates_only_its_own_steps_and_zero_turns_it_off(monkeypatch):
    clock = Clock()
    beat = Heartbeat("train bi", 400, initial=300, every=10, clock=clock)
    clock.now = 10.0
    assert "10.00 steps/s, about 0m00s left" in beat.beat(400)
    monkeypatch.setenv("TENC_HEARTBEAT", "0")
    silent = Heartbeat("x", 10, clock=clock)
    clock.now = 1e6
    assert silent.beat(5) is None


def test_training_prints_heartbeat_lines(tiny_bert, monkeypatch, capsys):
    from conftest import fixture_pairs

    from tenc import models, train

    monkeypatch.setenv("TENC_HEARTBEAT", "1e-9")  # every step
    rows = fixture_pairs(16)
    s1, s2, y = [a for a, _, _ in rows], [b for _, b, _ in rows], np.array([v for _, _, v in rows]) / 5
    train.train_cross(models.cross_encoder(tiny_bert), s1, s2, y.astype(np.float32), batch_size=8, progress=False)
    out = capsys.readouterr().out.splitlines()
    assert len(out) > 1 and [line.split(" (")[0] for line in out] == [
        f"train cross: {i}/{len(out)} steps" for i in range(1, len(out) + 1)
    ]
    assert all(", loss " in line and "left" in line for line in out)
