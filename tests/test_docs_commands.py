"""Every `python -m tenc` (and `torchrun ... -m tenc`) command in the README and docs/ runs as written at HEAD:
it passes the CLI's argument and settings checks (nothing is trained), and no two commands write one run folder
with different settings."""

import json
import re
import shlex
from pathlib import Path

import pytest

from tenc.cli import check_command
from tenc.config import EXTENDABLE, RUNTIME_ONLY

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documented_commands() -> list[tuple[str, str]]:
    """(page, command) for every tenc command on the pages; shell loops' ``$s`` read as seed 1, ``[--flag]``
    (an optional flag in prose) as the flag, continuation lines joined, comments dropped."""
    found = []
    for page in PAGES:
        text = page.read_text().replace("\\\n", " ")
        for match in re.finditer(r"(?:python |torchrun .*?)-m tenc [^`\n;|]*", text):  # torchrun's too
            command = re.sub(r"\$\{?s\}?\b", "1", match.group(0).rstrip())
            command = re.sub(r"\[(--[\w-]+)\]", r"\1", command)
            argv = tenc_argv(command)
            if len(argv) >= 2:  # "python -m tenc run" in a sentence is not a command
                found.append((page.name, command))
    return found


def tenc_argv(command: str) -> list[str]:
    """The arguments after ``-m tenc`` (after ``python`` or a torchrun launcher's own flags)."""
    words = shlex.split(command, comments=True)
    return words[words.index("tenc", words.index("-m")) + 1 :]


COMMANDS = documented_commands()


def test_the_pages_hold_commands():
    assert len(COMMANDS) > 40


@pytest.mark.parametrize("page,command", COMMANDS, ids=[f"{p}:{i}" for i, (p, _) in enumerate(COMMANDS)])
def test_documented_command_validates(page, command):
    check_command(tenc_argv(command))


def test_no_two_commands_share_a_run_folder_with_other_settings():
    folders: dict[str, dict[str, str]] = {}
    for page, command in COMMANDS:
        _, out, settings = check_command(tenc_argv(command))
        if out is not None and settings:
            key = json.dumps({k: v for k, v in settings.items() if k not in RUNTIME_ONLY + EXTENDABLE}, sort_keys=True)
            folders.setdefault(str(out), {}).setdefault(key, f"{page}: {command}")
    shared = {out: list(v.values()) for out, v in folders.items() if len(v) > 1}
    assert not shared, shared


def test_a_broken_command_is_caught(tmp_path):
    from tenc.config import ConfigError

    with pytest.raises(ConfigError):
        check_command(["distill", "--preset", "smoke", "--set", "cycels=2"])
    with pytest.raises(SystemExit):
        check_command(["distill", "--presett", "smoke"])
