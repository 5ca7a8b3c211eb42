"""Atomic writes under kill -9: a reader sees the old file or the new one, never a torn one."""

import signal
import subprocess
import sys
import time

from tenc.io import atomic_write_text, read_marker, write_marker

WRITER = """
import sys
from tenc.io import atomic_write_text
i = 0
while True:
    atomic_write_text(sys.argv[1], str(i % 10) * 2_000_000)   # 2 MB: each write takes a while
    i += 1
"""


def test_kill_9_during_atomic_writes_never_leaves_a_torn_file(tmp_path):
    path = tmp_path / "metrics.json"
    atomic_write_text(path, "0" * 2_000_000)
    for delay in (0.05, 0.13, 0.29, 0.41):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        text = path.read_text()
        assert len(text) == 2_000_000 and len(set(text)) == 1


def test_unreadable_marker_means_not_done(tmp_path):
    write_marker(tmp_path, "eval_bi", {"ok": 1})
    assert read_marker(tmp_path, "eval_bi") == {"ok": 1}
    (tmp_path / "eval_bi.done.json").write_text('{"ok": ')
    assert read_marker(tmp_path, "eval_bi") is None
