"""Issue 27's faults, each reproduced first: nothing runs from a run folder, nothing is silently wrong or
lost, and a user's mistake gets one line and exit code 2 (docs/reliability.md lists them all)."""

import json
import os
import pickle
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
from conftest import fixture_pairs

from tenc import distill, reuse, runfolder, tasks
from tenc.cli import main
from tenc.config import ConfigError, DistillConfig
from tenc.corpora import read_pairs
from tenc.data import DataError
from tenc.inputs import input_digests
from tenc.io import CorruptRun


def _fails(capsys, argv, pattern):
    import re

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert re.search(pattern, err), err


def _quiet():
    return dict(progress=False, log=lambda *_: None)


def _tsv(path, rows, label=True):
    head = "sentence1\tsentence2" + ("\tlabel" if label else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


def _binary(path, seed=0, n=16):
    return _tsv(path, [(a, b, int(y >= 2.5)) for a, b, y in fixture_pairs(n, seed)])


def _smoke(tiny_bert, fake_sts, **kw):
    return DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, **kw)


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


# 1. code execution from a run folder -----------------------------------------------------------
def test_a_pickle_in_a_checkpoint_never_runs(tmp_path):
    from tenc.loop import Checkpoint

    sentinel = tmp_path / "pwned"
    ckpt = tmp_path / "train_cross.ckpt"
    ckpt.write_bytes(pickle.dumps({"fingerprint": "x", "payload": _Exploit(sentinel)}))
    assert Checkpoint(ckpt, "x").load() is None  # refused: the stage starts over
    assert not sentinel.exists()


# 2. dev and test with one stem; the same file as dev and test ----------------------------------
def test_files_sharing_a_stem_stay_apart_and_dev_is_never_a_test(tmp_path):
    pairs = _tsv(tmp_path / "pairs.tsv", [(a, b) for a, b, _ in fixture_pairs(16)], label=False)
    dev, t1, t2 = (
        _binary(tmp_path / "b" / "data.tsv", 1),
        _binary(tmp_path / "a" / "data.tsv", 2),
        _binary(tmp_path / "c" / "data.tsv", 3),
    )
    task = tasks.custom_task(pairs, dev, [t1, t2])
    assert [task.dev.name] + [t.name for t in task.tests] == ["b/data", "a/data", "c/data"]
    with pytest.raises(DataError, match="dev file and as a test file"):
        tasks.custom_task(pairs, dev, [t1, dev])


# 3. a custom corpus with neither dev nor test --------------------------------------------------
def test_a_custom_corpus_alone_runs_with_label_free_selection(tiny_bert, tmp_path):
    pairs = _tsv(tmp_path / "pairs.tsv", [(a, b) for a, b, _ in fixture_pairs(24)], label=False)
    summary = distill.run(
        DistillConfig.from_preset("smoke", start=tiny_bert, task="custom", pairs=str(pairs)),
        tmp_path / "run",
        **_quiet(),
    )
    assert summary["selected"]["bi"]["rule"] == "agreement" and summary["selected"]["bi"]["cycle"] == 1


# 4 and 12. quotes, CR and nulls in pair files --------------------------------------------------
def test_quotes_are_text_in_tsv_and_an_unclosed_csv_quote_is_named(tmp_path):
    tsv = tmp_path / "q.tsv"
    tsv.write_text('sentence1\tsentence2\n"a" b\tc\nsay "hi\tthere\nd\te\n')
    df, _ = read_pairs(tsv)
    assert df.values.tolist() == [['"a" b', "c"], ['say "hi', "there"], ["d", "e"]]  # 3 lines, 3 pairs
    csv = tmp_path / "q.csv"
    csv.write_text('sentence1,sentence2\n"a, b",c\n"open,d\ne,f\n')
    with pytest.raises(DataError, match=r"q.csv:3: a quote opened here closes on line 4"):
        read_pairs(csv)
    jsonl = tmp_path / "n.jsonl"
    jsonl.write_text('{"sentence1": "a", "sentence2": "b"}\n{"sentence1": null, "sentence2": "c"}\n')
    with pytest.raises(DataError, match=r"n.jsonl:2: sentence1 is null"):
        read_pairs(jsonl)


def test_a_bare_cr_inside_a_sentence_does_not_break_the_rerun(tiny_bert, tmp_path):
    rows = [(a, b) for a, b, _ in fixture_pairs(24)]
    pairs = tmp_path / "cr.tsv"
    pairs.write_bytes(
        (
            "sentence1\tsentence2\n"
            + f"{rows[0][0]}\rmore\t{rows[0][1]}\n"
            + "".join(f"{a}\t{b}\n" for a, b in rows[1:])
        ).encode()
    )
    cfg = DistillConfig.from_preset("smoke", start=tiny_bert, task="custom", pairs=str(pairs))
    first = distill.run(cfg, tmp_path / "run", **_quiet())
    again = distill.run(cfg, tmp_path / "run", **_quiet())  # the resume path reads pool.tsv back
    assert first["pool_pairs"] == again["pool_pairs"] == len(runfolder.read_pool(tmp_path / "run"))


# 6 and 11. output folders ----------------------------------------------------------------------
def test_a_folder_that_is_no_run_is_not_overwritten(capsys, tiny_bert, fake_sts, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.json").write_text('{"mine": 1}')
    _fails(
        capsys,
        [
            "distill",
            "--preset",
            "smoke",
            "--out",
            str(mine),
            "--set",
            f"start={tiny_bert}",
            "--set",
            f"data={fake_sts}",
        ],
        r"not a tenc run folder but holds metrics.json",
    )
    assert (mine / "metrics.json").read_text() == '{"mine": 1}'
    for theirs in ("best", "cycle_1"):  # a user's own folders of a run's names would be replaced too
        own = tmp_path / f"own-{theirs}"
        (own / theirs).mkdir(parents=True)
        argv = ["distill", "--preset", "smoke", "--out", str(own), "--set", f"start={tiny_bert}"]
        _fails(capsys, [*argv, "--set", f"data={fake_sts}"], rf"not a tenc run folder but holds {theirs}.*--force")
        assert [p.name for p in own.iterdir()] == [theirs]
    forced = ["distill", "--preset", "smoke", "--quiet", "--out", str(mine), "--set", f"start={tiny_bert}"]
    assert main([*forced, "--set", f"data={fake_sts}", "--set", "evaluate_test=false", "--force"]) == 0  # asked for
    assert (mine / "config.json").is_file() and "mine" not in json.loads((mine / "metrics.json").read_text())
    a_file = tmp_path / "file"
    a_file.write_text("x")
    _fails(
        capsys,
        [
            "distill",
            "--preset",
            "smoke",
            "--out",
            str(a_file),
            "--set",
            f"start={tiny_bert}",
            "--set",
            f"data={fake_sts}",
        ],
        r"is a file, not a run folder",
    )


# 7. a failed start leaves the folder usable ----------------------------------------------------
def test_a_failed_start_does_not_block_the_corrected_command(capsys, tiny_bert, fake_sts, tmp_path):
    out = tmp_path / "run"
    base = [
        "distill",
        "--preset",
        "smoke",
        "--quiet",
        "--out",
        str(out),
        "--set",
        f"data={fake_sts}",
        "--set",
        "evaluate_test=false",
    ]
    _fails(capsys, base + ["--set", f"start={tmp_path / 'no-such-model'}"], r"no-such-model")
    _fails(
        capsys,
        base + ["--set", f"start={tiny_bert}", "--set", "cross_max_length=100000"],
        r"cross_max_length=100000 is more than .* has positions for \(\d+\)",
    )
    assert not (out / "config.json").exists()
    assert main(base + ["--set", f"start={tiny_bert}"]) == 0


# 8. non-finite and out-of-range numbers; a diverging loss; non-finite labels --------------------
def test_non_finite_and_out_of_range_settings_are_refused(capsys, tmp_path):
    out = ["distill", "--preset", "smoke", "--out", str(tmp_path / "r"), "--set"]
    _fails(capsys, out + ["bi_lr=.inf"], r"'bi_lr' must be finite")
    _fails(capsys, out + ["cross_lr=nan"], r"'cross_lr' must be (finite|a number)")
    _fails(capsys, out + ["cross_warmup=50"], r"'cross_warmup' is a fraction of the steps, in \[0, 1\]")
    _fails(capsys, out + ["bi_lr=0"], r"'bi_lr' must be positive")


def test_a_diverging_loss_stops_before_anything_is_saved(tiny_bert):
    from tenc import models, train
    from tenc.loop import TrainingDiverged

    rows = fixture_pairs(16)
    bi = models.bi_encoder(tiny_bert, pooling="mean")
    y = np.array([r[2] for r in rows], dtype=np.float32) / 5
    with pytest.raises(TrainingDiverged, match=r"train bi: the loss is (nan|inf) at step \d+ .*lower the learning"):
        train.train_bi(
            bi, [r[0] for r in rows], [r[1] for r in rows], y, epochs=50, batch_size=4, lr=1e30, progress=False
        )


def test_non_finite_pseudo_labels_stop_the_run(tiny_bert, fake_sts, tmp_path, monkeypatch):
    from tenc import encode

    monkeypatch.setattr(encode, "pair_cosines", lambda *a, **k: np.full(len(a[1]), np.nan, dtype=np.float32))
    run = distill.Run(_smoke(tiny_bert, fake_sts, evaluate_test=False), tmp_path, **_quiet())
    with pytest.raises(CorruptRun, match=r"label_bi: 32 of 32 pseudo-labels are not finite"):
        run.labels.bi(1)
    assert not (tmp_path / "cycle_1" / "label_bi.done.json").exists()


# 10. degenerate dev and test sets --------------------------------------------------------------
def test_degenerate_label_files_are_refused_at_the_start(tmp_path):
    pairs = fixture_pairs(12)
    one_class = _tsv(tmp_path / "one.tsv", [(a, b, 1) for a, b, _ in pairs])
    constant = _tsv(tmp_path / "flat.tsv", [(a, b, 3.5) for a, b, _ in pairs])
    stray = _tsv(tmp_path / "stray.tsv", [(a, b, int(y >= 2.5)) for a, b, y in pairs[:11]] + [(*pairs[11][:2], 0.7)])
    with pytest.raises(DataError, match="ROC-AUC needs both classes"):
        tasks.labelled("one", one_class)
    with pytest.raises(DataError, match="a correlation needs varying scores"):
        tasks.labelled("flat", constant)
    with pytest.raises(DataError, match=r"labels look binary \(0/1\) but 1 are not, e.g. 0.7"):
        tasks.labelled("stray", stray)


# 11. ordinary mistakes: one line, exit code 2 --------------------------------------------------
def test_ordinary_mistakes_get_one_line(capsys, tiny_bert, fake_sts, tmp_path, monkeypatch):
    ev = ["evaluate", "--data", fake_sts, "--model"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _fails(
        capsys,
        [
            "distill",
            "--preset",
            "smoke",
            "--out",
            str(tmp_path / "h"),
            "--set",
            "start=org/some-model",
            "--set",
            f"data={fake_sts}",
        ],
        r"'org/some-model': not a local folder, and the hub is offline",
    )
    bad_config = tmp_path / "badcfg"
    bad_config.mkdir()
    (bad_config / "config.json").write_text("{not json")
    (bad_config / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")  # the config is what is wrong
    _fails(capsys, ev + [str(bad_config)], r"badcfg.*cannot be loaded|badcfg/config.json")
    no_weights = tmp_path / "noweights"
    no_weights.mkdir()
    for name in ("config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json"):  # all but the weights
        if (Path(tiny_bert) / name).is_file():
            (no_weights / name).write_bytes((Path(tiny_bert) / name).read_bytes())
    _fails(
        capsys,
        [
            "distill",
            "--preset",
            "smoke",
            "--out",
            str(tmp_path / "w"),
            "--set",
            f"start={no_weights}",
            "--set",
            f"data={fake_sts}",
        ],
        r"noweights: no weights",
    )
    board = tmp_path / "board.csv"
    board.write_text("just,some\n1,2\n")
    _fails(capsys, ev + [tiny_bert, "--pooling", "mean", "--results", str(board)], r"board.csv: not this kind")
    _fails(capsys, ["distill", "--out", str(tmp_path / "y"), "--set", "start=["], r"--set start: '\[' is not a value")
    with pytest.raises(SystemExit) as exit_:  # argparse's own one line, exit code 2
        main(ev + [tiny_bert, "--threads", "0"])
    assert exit_.value.code == 2 and "must be a whole number of at least 1" in capsys.readouterr().err


def test_cycles_outside_the_run_are_refused_by_name(tiny_bert, fake_sts, tmp_path):
    run = distill.Run(_smoke(tiny_bert, fake_sts, evaluate_test=False), tmp_path, **_quiet())
    for cycle in (-1, 2):
        with pytest.raises(ConfigError, match=rf"cycle must be between 1 and the run's cycles=1, got {cycle}"):
            run.run_cycle(cycle)


def test_a_malformed_sibling_does_not_break_reuse(tiny_bert, fake_sts, tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{oops")
    assert reuse.finished_siblings(_smoke(tiny_bert, fake_sts), tmp_path) == {}


# 12. task rows stay out of the STS scoreboard; outputs are shared as plain files are ------------
def test_task_rows_never_enter_the_sts_scoreboard(tmp_path):
    from tenc.scoreboard import write_task_rows

    board = tmp_path / "sts.csv"
    board.write_text("model,kind,stage,STS12,avg,protocol\nm,bi,start,1.0,1.0,cosine\n")
    summary = {"config": {"task": "custom"}, "cycles": [{"cycle": 0, "kind": "bi", "member": "model", "dev": 1.0}]}
    with pytest.raises(DataError, match="no task column"):
        write_task_rows(summary, str(board), "x")
    assert board.read_text().startswith("model,kind,stage,STS12")


def test_outputs_get_the_permissions_of_plain_files(tiny_bert, fake_sts, tmp_path):
    old = os.umask(0o022)
    try:
        distill.run(_smoke(tiny_bert, fake_sts, evaluate_test=False), tmp_path, **_quiet())
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)
    assert mode(tmp_path / "metrics.json") == 0o644 and mode(tmp_path / "cycle_1" / "labels_bi.npy") == 0o644
    assert mode(tmp_path / "cycle_1" / "bi") == 0o755


def test_settings_the_machine_cannot_honour_are_refused_before_any_work(tiny_bert, fake_sts, tmp_path):
    """amp=fp16 on a CPU, an absent device and a grad_accum the Trainer cannot split: one line each, before
    the start is evaluated or anything is written."""
    import torch

    cases = [({"amp": "fp16"}, "needs a CUDA device"), ({"trainer": "st", "grad_accum": 3}, "does not divide")]
    if not torch.cuda.is_available():
        cases.append(({"device": "cuda"}, "no CUDA device here"))
    for values, message in cases:
        cfg = DistillConfig.from_preset("smoke", start=tiny_bert, data=fake_sts, **values)
        with pytest.raises(ConfigError, match=message):
            distill.Run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
        assert not (tmp_path / "run").exists()


def test_a_test_file_named_like_a_result_column_is_refused(tmp_path):
    """A test file called dev.tsv (GLUE's dev set used as a test set) would overwrite the row's dev score and
    select cycles on the test set: refused in one line naming the file."""
    good = tmp_path / "ok.tsv"
    good.write_text("sentence1\tsentence2\tlabel\n" + "".join(f"a{i}\tb{i}\t{i % 5}\n" for i in range(10)))
    bad = tmp_path / "dev.tsv"
    bad.write_text(good.read_text())
    with pytest.raises(DataError, match="dev.tsv: a test file named 'dev' would overwrite"):
        tasks.labelled_files(good, [bad])


def test_degenerate_target_maps_are_refused():
    import numpy as np

    from tenc.labelling import to_unit

    with pytest.raises(ConfigError, match="every bi label is 0.5"):
        to_unit(np.full(5, 0.5, dtype=np.float32), "minmax")
    with pytest.raises(ConfigError, match="at least two pool pairs"):
        to_unit(np.array([0.3], dtype=np.float32), "rank")


def test_a_negative_max_length_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--model", "minilm-l6", "--max-length", "-5"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "must be a whole number of at least 1" in err and "Traceback" not in err


def test_a_model_folder_without_tokenizer_or_with_nan_weights_is_refused_in_one_line(
    capsys, tiny_bert, fake_sts, tmp_path
):
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    bare = tmp_path / "bare"
    shutil.copytree(tiny_bert, bare)
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        (bare / name).unlink(missing_ok=True)
    _fails(capsys, ["evaluate", "--model", str(bare), "--data", fake_sts], r"no tokenizer files")
    broken = tmp_path / "nan"
    shutil.copytree(tiny_bert, broken)
    weights = load_file(broken / "model.safetensors")
    save_file(
        {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in weights.items()},
        broken / "model.safetensors",
    )
    board = tmp_path / "sts.csv"
    argv = ["evaluate", "--model", str(broken), "--data", fake_sts, "--results", str(board), "--quiet"]
    _fails(capsys, argv, r"no finite score on .*nothing written")
    assert not board.exists()


def test_an_edited_pool_is_caught_by_its_content_not_its_count(tmp_path):
    from types import SimpleNamespace

    import pandas as pd

    from tenc.io import CorruptRun

    pool = pd.DataFrame({"sentence1": ["a cat sits", "a dog runs"], "sentence2": ["a cat rests", "dogs run"]})
    task = SimpleNamespace(pool=pool, name="custom", describe=lambda: "two pairs")
    runfolder.fix_pool(tmp_path, task, log=lambda *_: None)
    assert runfolder.fix_pool(tmp_path, task, log=lambda *_: None).equals(pool)  # read back as written
    path = tmp_path / "pool.tsv"
    path.write_text(path.read_text().replace("a dog runs", "a dog sleeps"))  # same count, other pairs
    with pytest.raises(CorruptRun, match=r"pool.tsv: its content changed .*start over"):
        runfolder.fix_pool(tmp_path, task, log=lambda *_: None)


def test_a_hand_edited_marker_of_the_wrong_type_is_refused_in_one_line(tmp_path):
    import json

    from tenc.io import read_marker, write_marker

    write_marker(tmp_path, "pool", {"pairs": 12, "sha256": "ab", "task": "sts"})
    assert read_marker(tmp_path, "pool")["pairs"] == 12
    for edit in ({"pairs": "12"}, {"pairs": True}, {"sha256": 5}, {"files": ["model.safetensors"]}):
        (tmp_path / "pool.done.json").write_text(json.dumps({"pairs": 12, **edit}))
        key = next(iter(edit))
        with pytest.raises(CorruptRun, match=rf"pool.done.json: '{key}' is .*not what tenc wrote; rm -r"):
            read_marker(tmp_path, "pool")
    (tmp_path / "pool.done.json").write_text("[1, 2]")
    with pytest.raises(CorruptRun, match="not a stage marker"):
        read_marker(tmp_path, "pool")


def test_a_pickled_bin_and_a_failed_save_are_one_line_without_unsafe_advice(
    capsys, tiny_bert, fake_sts, tmp_path, monkeypatch
):
    import shutil

    import sentence_transformers
    from safetensors import SafetensorError

    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_bert, pickled)
    (pickled / "model.safetensors").unlink()

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    (pickled / "pytorch_model.bin").write_bytes(pickle.dumps({"w": Payload()}))
    _fails(capsys, ["evaluate", "--model", str(pickled), "--data", fake_sts], r"a pickle that torch's safe loader")
    capsys.readouterr()

    def full_disk(self, *args, **kwargs):
        raise SafetensorError("Error while serializing: IoError(No space left on device (os error 28))")

    monkeypatch.setattr(sentence_transformers.SentenceTransformer, "save", full_disk)
    monkeypatch.setattr(sentence_transformers.CrossEncoder, "save", full_disk)
    argv = ["distill", "--preset", "smoke", "--quiet", "--out", str(tmp_path / "run"), "--set", f"start={tiny_bert}"]
    _fails(capsys, [*argv, "--set", f"data={fake_sts}"], r"a model could not be saved .*is the disk full")


# round two: inputs by content, a start that failed late, folders made by reuse ---------------------
def test_inputs_are_tracked_by_content_on_rerun_and_reuse(tiny_bert, tmp_path):
    pairs = _tsv(tmp_path / "pairs.tsv", [(a, b) for a, b, _ in fixture_pairs(24)], label=False)
    dev = _binary(tmp_path / "dev.tsv", 1)
    cfg = DistillConfig.from_preset("smoke", start=tiny_bert, task="custom", pairs=str(pairs), dev=str(dev))
    distill.run(cfg, tmp_path / "runs" / "a", **_quiet())
    assert set(reuse.finished_siblings(cfg, tmp_path / "runs")) == {tmp_path / "runs" / "a"}
    original = dev.read_text()
    _binary(dev, 2)  # the same path, other pairs and labels
    with pytest.raises(ConfigError, match=r"runs/a: the run's dev changed since it began \(sha256 differs\)"):
        distill.run(cfg, tmp_path / "runs" / "a", **_quiet())
    assert reuse.finished_siblings(cfg, tmp_path / "runs") == {}  # nothing lent across two dev files
    dev.write_text(original)
    pairs.write_text(pairs.read_text() + "one more sentence\tand its pair\n")
    assert reuse.finished_siblings(cfg, tmp_path / "runs") == {}  # nor across two versions of the pairs
    with pytest.raises(ConfigError, match=r"the run's pairs changed"):
        distill.run(cfg, tmp_path / "runs" / "a", **_quiet())


def test_the_data_folder_is_tracked_by_content(tiny_bert, fake_sts, tmp_path):
    cfg = _smoke(tiny_bert, fake_sts)
    before = input_digests(cfg)
    assert set(before) == {"data"} and len(before["data"]) == 64
    some = next(p for p in sorted(Path(fake_sts).rglob("*")) if p.is_file())
    try:
        some.write_bytes(some.read_bytes() + b"\n")
        assert input_digests(cfg) != before
    finally:
        some.write_bytes(some.read_bytes()[:-1])
    assert input_digests(cfg) == before


def test_a_start_that_failed_after_config_json_does_not_block_the_corrected_command(
    capsys, tiny_bert, fake_sts, tmp_path
):
    out = tmp_path / "run"
    base = ["distill", "--preset", "smoke", "--quiet", "--out", str(out), "--set", f"data={fake_sts}"]
    base += ["--set", "evaluate_test=false", "--set", f"start={tiny_bert}"]
    broken = tmp_path / "teacher"
    shutil.copytree(tiny_bert, broken)
    weights = next(broken.rglob("model.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])  # loads its config, fails at its weights: after config.json
    teach = ["--set", f"teachers={broken}", "--set", "teachers_teach=both"]
    assert main(base + teach) == 2
    capsys.readouterr()
    assert (out / "config.json").is_file()
    assert main(base) == 0  # no stage had finished: the folder takes the corrected settings
    assert json.loads((out / "config.json").read_text())["teachers"] == ""
    _fails(capsys, base + ["--set", "bi_lr=1e-3"], r"holds a run with other settings")  # now a stage has finished


def test_a_folder_made_by_reuse_can_be_exported_and_rerun(capsys, tiny_bert, fake_sts, tmp_path):
    from tenc.export import export

    cfg = _smoke(tiny_bert, fake_sts, evaluate_test=False)
    reuse.run_or_reuse(cfg, tmp_path / "a", {"name": "a"}, **_quiet())
    reuse.run_or_reuse(cfg, tmp_path / "b", {"name": "b"}, **_quiet())  # the same settings: a's results
    assert not (tmp_path / "b" / "best").exists()
    written = export(tmp_path / "b", tmp_path / "dest")
    assert sorted(p.name for p in written) == ["bi", "cross"]
    for name in ("bi", "cross"):
        assert (tmp_path / "dest" / name / "model.safetensors").read_bytes() == (
            tmp_path / "a" / "best" / name / "model.safetensors"
        ).read_bytes()
    argv = ["distill", "--preset", "smoke", "--quiet", "--out", str(tmp_path / "b"), "--reuse"]
    argv += ["--set", f"data={fake_sts}", "--set", "evaluate_test=false", "--set", f"start={tiny_bert}"]
    assert main(argv) == 0  # reused again, not refused as somebody else's folder


def test_a_large_pair_file_is_never_held_whole(tmp_path):
    """read_pairs streams the file and keeps its strings compact, CHUNK pairs at a time as Python strings:
    the Python heap's peak stays under twice the file's size (4.6x when the file was read whole)."""
    import random
    import tracemalloc

    from tenc import corpora

    rng = random.Random(0)
    words = [f"w{i}" for i in range(3000)]
    path = tmp_path / "big.tsv"
    n = corpora.CHUNK + 20_000  # two chunks
    with path.open("w") as f:
        f.write("sentence1\tsentence2\n")
        for _ in range(n):
            f.write(" ".join(rng.choices(words, k=12)) + "\t" + " ".join(rng.choices(words, k=12)) + "\n")
    tracemalloc.start()
    try:
        df, dropped = read_pairs(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(df) == n and dropped == 0 and df["sentence1"].iloc[-1].count(" ") == 11
    assert peak < 2 * path.stat().st_size, f"peak {peak / path.stat().st_size:.1f}x the file's size"
