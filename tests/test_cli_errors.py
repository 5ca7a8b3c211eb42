"""Bad input through the command line: exit code 2 and one line naming the file, line or parameter."""

import re

from conftest import with_gold_line

from tenc.cli import main


def _fails(capsys, argv, pattern):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert re.search(pattern, err), err


def test_unknown_model_alias(capsys, fake_sts):
    _fails(capsys, ["evaluate", "--model", "minilm-l7", "--data", fake_sts], r"minilm-l7")


def test_missing_data_directory(capsys, tmp_path):
    _fails(capsys, ["evaluate", "--model", "minilm-l6", "--data", str(tmp_path / "nowhere")], r"nowhere")


def test_mistyped_and_out_of_range_settings(capsys, tmp_path):
    _fails(
        capsys,
        ["distill", "--preset", "smoke", "--out", str(tmp_path / "r"), "--set", "cycels=2"],
        r"unknown parameter 'cycels' \(did you mean 'cycles'\?\)",
    )
    _fails(
        capsys,
        ["distill", "--preset", "smoke", "--out", str(tmp_path / "r"), "--set", "cross_lr=-1e-5"],
        r"'cross_lr' must be positive",
    )


def test_bad_pair_files(capsys, tmp_path):
    one = tmp_path / "one.tsv"
    one.write_text("sentence1\tsentence2\na\tb\nonly-one-column\n")
    _fails(
        capsys,
        ["distill", "--preset", "smoke", "--task", "custom", "--pairs", str(one), "--out", str(tmp_path / "r")],
        r"one.tsv:3: expected 2 columns",
    )
    latin = tmp_path / "latin.txt"
    latin.write_bytes("ok||fine\ncaf\xe9||x\n".encode("latin-1"))
    _fails(
        capsys,
        ["distill", "--preset", "smoke", "--task", "custom", "--pairs", str(latin), "--out", str(tmp_path / "r2")],
        r"latin.txt:2: not valid UTF-8",
    )


def test_empty_priming_corpus(capsys, tmp_path, tiny_bert, fake_sts):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    _fails(
        capsys,
        [
            "prime",
            "--set",
            f"model={tiny_bert}",
            "--set",
            f"corpus={empty}",
            "--set",
            f"data={fake_sts}",
            "--out",
            str(tmp_path / "p"),
        ],
        r"empty.txt: no sentences",
    )


def test_nan_gold_score_names_the_line(capsys, tmp_path, fake_sts):
    root = tmp_path / "sts"
    with_gold_line(fake_sts, root, "STS13-en-test/STS.gs.FNWN.txt", 5, "nan")
    _fails(capsys, ["evaluate", "--model", "minilm-l6", "--data", str(root)], r"STS.gs.FNWN.txt:5")


def test_every_preset_is_a_cli_choice():
    """`make main-seeds` once failed: --preset main was refused by a hard-coded list of choices."""
    from tenc.cli import build_parser
    from tenc.config import PRESETS

    for preset in PRESETS:
        assert build_parser().parse_args(["distill", "--preset", preset]).preset == preset
        assert build_parser().parse_args(["mutual", "--preset", preset, "--members", "a,b"]).preset == preset
