"""Mutual distillation on two tiny models: averaged labels, ensembles, concurrent members."""

import numpy as np
import pytest
from conftest import make_tiny_bert

from tenc import distill, encode, models, reuse
from tenc.config import ConfigError, DistillConfig


@pytest.fixture(scope="module")
def two_tiny(tmp_path_factory, tiny_bert):
    other = make_tiny_bert(tmp_path_factory.mktemp("tiny2") / "bert", layers=1, hidden=32, seed=7)
    return tiny_bert, str(other)


@pytest.mark.parametrize("parallel", [False, True])
def test_mutual_loop_two_members(two_tiny, fake_sts, tmp_path, parallel):
    a, b = two_tiny
    cfg = DistillConfig.from_preset("smoke", start=f"{a},{b}", data=fake_sts, parallel=parallel)
    summary = distill.run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
    members = {(r["cycle"], r["kind"], r["member"]) for r in summary["cycles"]}
    assert {(1, "cross", "m0"), (1, "cross", "m1"), (1, "cross", "ensemble"), (1, "bi", "ensemble")} <= members
    assert summary["selected"]["bi"]["row"]["member"] == "ensemble"
    c1 = tmp_path / "run" / "cycle_1"
    run = distill.Run(cfg, tmp_path / "run", progress=False)
    # the teacher labels are the mean of the two start models' cosines
    expected = np.mean(
        [
            encode.pair_cosines(models.bi_encoder(m), run.labels.s1, run.labels.s2, max_length=cfg.bi_max_length)
            for m in (a, b)
        ],
        axis=0,
    )
    assert np.allclose(np.load(c1 / "labels_bi.npy"), expected, atol=1e-5)
    for folder in ("cross_0", "cross_1", "bi_0", "bi_1"):
        assert (c1 / folder / "modules.json").is_file()


def test_cli_mutual_needs_two_members(capsys):
    from tenc.cli import main

    assert main(["mutual", "--members", "minilm-l6"]) == 2
    assert "at least two" in capsys.readouterr().err


def test_a_frozen_teacher_joins_the_labels_and_trains_nothing(two_tiny, fake_sts, tmp_path):
    a, b = two_tiny
    cfg = DistillConfig.from_preset("smoke", start=a, teachers=b, data=fake_sts)
    summary = distill.run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
    assert {r["member"] for r in summary["cycles"]} == {"model"}  # one student pair, no teacher rows
    run = distill.Run(cfg, tmp_path / "run", progress=False)
    cos = [
        encode.pair_cosines(models.bi_encoder(m), run.labels.s1, run.labels.s2, max_length=cfg.bi_max_length)
        for m in (a, b)
    ]
    assert np.allclose(np.load(tmp_path / "run" / "start" / "labels_teachers.npy"), cos[1], atol=1e-5)
    assert np.allclose(np.load(tmp_path / "run" / "cycle_1" / "labels_bi.npy"), np.mean(cos, axis=0), atol=1e-5)
    assert sorted(p.name for p in (tmp_path / "run" / "cycle_1").iterdir() if p.is_dir()) == ["bi", "cross"]


def test_frozen_teachers_can_teach_the_bi_student_too(two_tiny, fake_sts, tmp_path):
    """teachers_teach="both": the teachers' cosines (clipped to [0, 1]) join the cross -> bi labels as one more
    member; a finished teacher run beside it lends its cycle 1 up to the cross labels, which are made anew."""
    a, b = two_tiny
    quiet = dict(progress=False, log=lambda *_: None)
    reuse.run_or_reuse(
        DistillConfig.from_preset("smoke", start=a, teachers=b, data=fake_sts),
        tmp_path / "cross",
        {"name": "cross"},
        **quiet,
    )
    lines = []
    cfg = DistillConfig.from_preset("smoke", start=a, teachers=b, data=fake_sts, teachers_teach="both")
    reuse.run_or_reuse(cfg, tmp_path / "both", {"name": "both"}, progress=False, log=lines.append)
    assert "cycle 1 up to its cross labels taken from the run" in lines[0]
    assert [line.split(":")[1].split()[0] for line in lines if " done in " in line] == ["label_cross", "train_bi"]
    cross_scores = np.load(tmp_path / "cross" / "cycle_1" / "labels_cross.npy")  # the cross-encoder alone
    teacher = np.clip(np.load(tmp_path / "both" / "start" / "labels_teachers.npy"), 0, 1)
    assert np.allclose(
        np.load(tmp_path / "both" / "cycle_1" / "labels_cross.npy"), (cross_scores + teacher) / 2, atol=1e-5
    )
    with pytest.raises(ConfigError, match="needs frozen teachers"):
        distill.Run(
            DistillConfig.from_preset("smoke", start=a, data=fake_sts, teachers_teach="both"),
            tmp_path / "x",
            progress=False,
        )


def test_teachers_alone_teach_the_bi_student_as_the_standard_distillation_baseline(two_tiny, fake_sts, tmp_path):
    """teachers_teach="bi": no cross-encoder is trained; the bi student learns the teachers' raw cosines."""
    a, b = two_tiny
    cfg = DistillConfig.from_preset("smoke", start=a, teachers=b, data=fake_sts, teachers_teach="bi")
    summary = distill.run(cfg, tmp_path / "run", progress=False, log=lambda *_: None)
    assert {r["kind"] for r in summary["cycles"]} == {"bi"} and set(summary["selected"]) == {"bi"}
    c1 = tmp_path / "run" / "cycle_1"
    teacher = np.load(tmp_path / "run" / "start" / "labels_teachers.npy")
    assert np.allclose(np.load(c1 / "labels_cross.npy"), teacher, atol=1e-6)
    assert sorted(p.name for p in c1.iterdir() if p.is_dir()) == ["bi"]
