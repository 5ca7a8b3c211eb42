"""Command line: ``python -m tenc {evaluate,distill,mutual,prime,run,export,mteb,pool} ...`` (``--help`` on each).

Bad input ends with one line on stderr naming the file, line or parameter, and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .cli_distill import cmd_distill, cmd_mutual, distill_config, mutual_sets, parse_sets
from .config import PRESETS
from .scoreboard import record_result


def cmd_evaluate(args) -> int:
    import torch

    from . import data, evaluation, models, tables

    torch.set_num_threads(args.threads)
    pairs = data.load_sts(args.data) if args.task == "sts" else None
    members = []
    for name in args.model:
        if args.kind == "bi":
            members.append(
                models.bi_encoder(
                    name, pooling=args.pooling or None, max_seq_length=args.max_length, layers=args.layers
                )
            )
        else:
            members.append(models.cross_encoder(name, max_length=args.max_length or 64))
    if args.task != "sts":
        return _evaluate_task(args, members)
    import time

    t = time.perf_counter()
    table, metrics, _ = evaluation.evaluate(
        members, args.kind, pairs, progress=not args.quiet, cross_orders=args.cross_orders
    )
    protocol = evaluation.protocol(args.kind, args.cross_orders)
    seconds = time.perf_counter() - t
    broken = [str(name) for name, v in zip(table["set"], table["spearman"], strict=True) if not math.isfinite(v)]
    if broken:
        raise models.ModelError(
            f"{'+'.join(args.model)}: no finite score on {', '.join(broken)} (NaN or infinite outputs: the weights "
            "are broken or all scores are equal); nothing written"
        )
    label = args.name or "+".join(args.model) + (f" ({args.pooling})" if args.pooling else "") + (
        f" [{args.layers} layers]" if args.layers else ""
    )
    print(tables.format_paper_table([(label, table)]))
    print(
        f"evaluated {int(table['n'].iloc[-1])} pairs in {seconds:.0f} s, {protocol} "
        f"(wmean avg {table['wmean'].iloc[-1]:.2f}, Pearson avg {table['pearson'].iloc[-1]:.2f})"
    )
    metrics["seconds"] = round(seconds, 1)
    if args.out:
        evaluation.write_metrics(
            args.out,
            metrics,
            vars(args) | {"model": args.model},
            **({"cross": protocol} if args.kind == "cross" else {}),
        )
    if args.results:
        packaged = all(m in models.ALIASES for m in args.model)  # a folder's training is not known here
        origin = None if packaged else {"pool": "unknown", "labels": "unknown"}
        record_result(args.results, label, args.kind, args.stage, evaluation.paper_row(table), protocol, origin)
    return 0


def _evaluate_task(args, members) -> int:
    """`tenc evaluate --task trecqa|qqp|qnli|mrpc|custom`: the task's dev and test sets, each by its metric
    (ROC-AUC x 100 for binary labels, Spearman x 100 for graded ones); custom takes --dev / --test files."""
    from . import evaluation, tasks
    from .scoreboard import record_task_rows

    if args.task == "custom":
        from .config import ConfigError

        if not args.dev and not args.test:
            raise ConfigError("--task custom scores your labelled files: give --dev FILE and/or --test FILE ...")
        dev, tests = tasks.labelled_files(args.dev, args.test)
        both_orders = True  # as a custom run scores them
    else:
        task = (
            tasks.trecqa_task(args.task_data) if args.task == "trecqa" else tasks.glue_task(args.task, args.task_data)
        )
        dev, tests, both_orders = task.dev, task.tests, task.both_orders
    orders = args.cross_orders if both_orders else "one"
    results, _ = evaluation.score_sets(members, args.kind, dev, tests, False, orders, not args.quiet)
    main = results.get("ensemble", results["model"])
    label = args.name or "+".join(args.model)
    row = {"dev": main["dev"], **main.get("test", {})}
    print(f"{label} ({args.kind}, {args.task}): " + ", ".join(f"{k} {v:.2f}" for k, v in row.items() if v is not None))
    if args.results:
        record_task_rows(
            args.results, [{"task": args.task, "model": label, "kind": args.kind, "stage": args.stage, **row}]
        )
    return 0


def check_command(argv: list[str]):
    """Validate a ``python -m tenc`` command line as written, through the same argument and settings checks a
    run makes, without running it: (subcommand, run folder or None, settings or None). A bad command raises
    (SystemExit from argparse, ConfigError from the settings)."""
    args = build_parser().parse_args(argv)
    if args.command in ("distill", "mutual"):
        if args.command == "mutual":
            mutual_sets(args)
        cfg, out = distill_config(args)
        return args.command, out, cfg.to_dict()
    if args.command == "prime":
        return args.command, Path(args.out), prime_config(args).__dict__
    return args.command, None, None


def _loop_args(parser) -> None:
    parser.add_argument("--preset", default="quick", choices=list(PRESETS))
    parser.add_argument("--config", help="YAML file of settings (may name a preset)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    parser.add_argument("--out", help="run folder (default: papermill_runs/distill/<preset>)")
    parser.add_argument("--results", help="write start/cycle rows (members and ensemble) into this results CSV")
    parser.add_argument("--name", help="model name for the results rows (default: the run folder's name)")
    parser.add_argument(
        "--seeds", help="comma-separated seeds, e.g. 0,1,2: one run each in OUT/seed-N, rows named 'NAME, seed N'"
    )
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--force",
        action="store_true",
        help="run in an --out that holds files a run writes though tenc did not write it",
    )


def _task_args(parser) -> None:
    parser.add_argument("--task", choices=["sts", "qqp", "qnli", "mrpc", "trecqa", "custom"], help="default: sts")
    parser.add_argument("--pairs", help="custom task: unlabelled pair file (.txt sent1||sent2, .tsv, .csv, .jsonl)")
    parser.add_argument("--dev", help="custom task: labelled dev file (selection); omitted = label-free selection")
    parser.add_argument("--test", nargs="+", help="custom task: labelled test file(s)")
    parser.add_argument("--task-data", dest="task_data", help="qqp/qnli/mrpc/trecqa: folder with train/dev/test files")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def cmd_run(args) -> int:
    from .runs import StepFailed, execute

    variables = dict(v.split("=", 1) for v in (args.var or []) if "=" in v)
    try:
        execute(args.plan, args.root, variables)
    except StepFailed as err:
        print(f"tenc: {err}", file=sys.stderr)
        return 1
    return 0


def cmd_export(args) -> int:
    from .export import export, export_onnx, push

    folders = export(args.run, args.dest, force=args.force)
    for folder in folders:
        print(folder)
        if args.onnx:
            print(export_onnx(folder))  # checked against the torch model on probe sentences
    if args.push:
        for url in push(folders, args.push, private=args.private):
            print(url)
    return 0


def cmd_mteb(args) -> int:
    from .mteb_format import write_summary_mteb

    for run in args.runs:
        for path in write_summary_mteb(run, args.out):
            print(path)
    return 0


def cmd_pool(args) -> int:
    from . import data

    pairs = data.load_sts(args.data)
    pool = data.build_pool(pairs, args.mode, args.max_pairs)
    print(
        f"{len(pool)} unique pairs, {len(pool.sentences)} unique sentences "
        f"({pool.mode}; {pool.n_before_dedup} before de-duplication)"
    )
    return 0


def prime_config(args):
    """The checked settings of a parsed ``prime`` command: its YAML, then ``--set`` on top."""
    from .config import PrimeConfig, load_yaml

    values = load_yaml(args.config) if args.config else {}
    values.update(parse_sets(args.set))
    return PrimeConfig.from_dict(values)


def cmd_prime(args) -> int:
    from . import prime

    cfg = prime_config(args)
    result = prime.run(cfg, args.out, progress=not args.quiet)
    print(result["table"])
    if args.results:
        origin = {
            "seed": cfg.seed,
            "pool": "transductive" if cfg.corpus == "pool" else "custom",
            "selected": "dev" if cfg.dev_select else "last",
        }
        record_result(args.results, args.name or Path(args.out).name, "bi", "primed", result["row"], "cosine", origin)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tenc", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("evaluate", help="7-task STS evaluation ('all' setting) of a model or an ensemble")
    e.add_argument("--model", nargs="+", required=True, help="alias, folder or hub id; several = ensemble (mean score)")
    e.add_argument("--kind", choices=["bi", "cross"], default="bi")
    e.add_argument("--pooling", choices=["cls", "mean"], help="override a bi-encoder's pooling")
    e.add_argument(
        "--layers", type=int, default=0, help="bi-encoder: keep only the first N transformer layers (0 = all)"
    )
    e.add_argument("--max-length", type=_positive, default=None, help="token limit (default: the model's own)")
    e.add_argument(
        "--cross-orders",
        choices=["one", "both"],
        default="one",
        help="cross-encoders: score (s1, s2) as stored (the paper) or the mean over both orders",
    )
    e.add_argument("--data", help="STS data folder (default: $TENC_DATA, ./data/sts, ../shared/data/sts, hub)")
    e.add_argument(
        "--task",
        choices=["sts", "trecqa", "qqp", "qnli", "mrpc", "custom"],
        default="sts",
        help="sts (the 7 sets, default), a binary task (ROC-AUC on its dev and test sets) or custom "
        "(your labelled --dev / --test files)",
    )
    e.add_argument("--task-data", dest="task_data", help="the binary task's folder (train/dev/test files)")
    e.add_argument("--dev", help="custom task: a labelled dev file (.txt, .tsv, .csv, .jsonl)")
    e.add_argument("--test", nargs="+", help="custom task: labelled test file(s)")
    e.add_argument("--out", help="write metrics.json here (STS)")
    e.add_argument("--results", help="insert/replace this row in a results CSV (e.g. results/sts.csv)")
    e.add_argument("--name", help="model name in the table / results row")
    e.add_argument("--stage", default="packaged", help="stage column of the results row")
    e.add_argument("--threads", type=_positive, default=2)
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("distill", help="the bi -> cross -> bi loop (resumable: rerun the same command)")
    _loop_args(d)
    _task_args(d)
    d.add_argument(
        "--reuse",
        action="store_true",
        help="a new --out takes what a finished run folder beside it shares with these settings: "
        "its cycles (other number of cycles), cycle 1 (other init modes) or cycle 1 up to the "
        "bi student (other bi_epochs/bi_batch_size/bi_lr/bi_warmup/bi_loss)",
    )
    d.set_defaults(func=cmd_distill)

    mu = sub.add_parser("mutual", help="mutual distillation of two or more members (resumable)")
    mu.add_argument("--members", required=True, help="comma-separated start models, e.g. minilm-l6,minilm-l3")
    mu.add_argument("--cross-init", help="comma-separated cross-encoder initialisations (default: the members)")
    mu.add_argument("--parallel", action="store_true", help="train members concurrently, one process each")
    _loop_args(mu)
    mu.set_defaults(func=cmd_mutual)

    r = sub.add_parser("prime", help="SimCSE / Mirror-BERT priming of a bi-encoder from a language model")
    r.add_argument("--config", help="YAML file of settings")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    r.add_argument("--out", required=True, help="folder for the primed model (sentence-transformers format)")
    r.add_argument("--results", help="write the primed model's row into this results CSV")
    r.add_argument("--name", help="model name for the results row")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(func=cmd_prime)

    b = sub.add_parser("run", help="execute a plan of notebooks with papermill (skips finished steps)")
    b.add_argument("plan", help="a plan YAML, e.g. params/plans/quick.yaml")
    b.add_argument("--root", default="papermill_runs", help="where run folders go")
    b.add_argument("--var", action="append", metavar="NAME=VALUE", help="fill ${NAME} in the plan")
    b.set_defaults(func=cmd_run)

    x = sub.add_parser("export", help="copy a run's selected models (RUN/best/*, with model cards) into a folder")
    x.add_argument("run", help="a finished run folder")
    x.add_argument("dest", help="where bi/ and cross/ (bi_0, … for mutual runs) go")
    x.add_argument("--onnx", action="store_true", help="also write onnx/model.onnx into each model folder")
    x.add_argument("--push", metavar="REPO", help="upload to the hub as REPO-bi, REPO-cross (needs `hf auth login`)")
    x.add_argument("--private", action="store_true", help="with --push: private repositories")
    x.add_argument(
        "--force", action="store_true", help="replace DEST/bi, DEST/cross even where tenc did not write them"
    )
    x.set_defaults(func=cmd_export)

    m = sub.add_parser("mteb", help="write a finished run's selected scores in MTEB's result format (RUN/mteb/)")
    m.add_argument("runs", nargs="+", help="finished run folders (with summary.json)")
    m.add_argument("--out", help="write under OUT/<run folder name>/ instead of RUN/mteb/")
    m.set_defaults(func=cmd_mteb)

    q = sub.add_parser("pool", help="print the size of the unlabelled pool")
    q.add_argument("--data")
    q.add_argument("--mode", default="transductive", choices=["transductive", "inductive", "disjoint"])
    q.add_argument("--max-pairs", type=int)
    q.set_defaults(func=cmd_pool)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # the command, for the model cards
    from safetensors import SafetensorError

    from .config import ConfigError
    from .data import DataError
    from .io import CorruptRun, RunLocked
    from .loop import TrainingDiverged
    from .models import ModelError

    try:
        return args.func(args)
    except (ConfigError, DataError, ModelError, RunLocked, CorruptRun, TrainingDiverged) as err:
        print(f"tenc: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a file or folder the user named: missing, a file for a folder, read-only, full disk
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"tenc: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except SafetensorError as err:  # not an OSError: a model save that failed, a full disk most often
        print(
            f"tenc: error: a model could not be saved ({_first(err)}); is the disk full? rerun the same command "
            "to resume once there is room",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("tenc: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


def _first(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:200] if lines else type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
