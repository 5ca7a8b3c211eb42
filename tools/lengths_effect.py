"""What the token limit costs before any training: the start bi-encoder at the STS limit vs the fitted one.

Two corpora off STS, each scored by the start model twice: once at the paper's STS limit of 32 tokens a
sentence (what a run used before lengths followed the data) and once at the limit ``lengths=auto``
fits to the pool (`tenc.runfolder.fit_lengths`). The cut share is of the pool's unique sentences.

- ``trecqa``: the TrecQA task (../shared/data/binary/trecqa), ROC-AUC x 100 on dev and test.
- ``custom msrpar``: a user's own files through ``--task custom``, stood in for by STS12's MSRpar
  subset (750 news-wire paraphrase pairs, the longest sentences of the STS sets): the pairs unlabelled
  as the pool, the first 375 labelled as dev, the other 375 as test (Spearman x 100). The files are
  written to a temporary folder in the custom formats (.txt pool, .tsv dev/test), never into the repo.

    python tools/lengths_effect.py --out results/lengths.csv
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tenc import data as tdata  # noqa: E402
from tenc import evaluation, models, runfolder, tasks  # noqa: E402
from tenc.config import DistillConfig  # noqa: E402

STS_LIMIT = DistillConfig.bi_max_length  # the paper's 32 tokens a sentence


def msrpar_files(folder: Path, sts_root: Path) -> dict[str, Path]:
    """STS12 MSRpar written as a user's custom files: pool (.txt, unlabelled), dev and test (.tsv, graded)."""
    df = tdata._read_sts_subset(sts_root, "raw", "STS12", "MSRpar")
    if (df["sentence1"].str.contains("\\|\\|") | df["sentence2"].str.contains("\\|\\|")).any():
        raise SystemExit("MSRpar has a '||' inside a sentence: the .txt pool format cannot hold it")
    pool = folder / "msrpar_pairs.txt"
    pool.write_text("".join(f"{a}||{b}\n" for a, b in zip(df["sentence1"], df["sentence2"])))
    half = len(df) // 2
    out = {"pairs": pool}
    for split, part in (("dev", df.iloc[:half]), ("test", df.iloc[half:])):
        path = folder / f"msrpar_{split}.tsv"
        clean = part.assign(
            sentence1=part["sentence1"].str.replace("\t", " "), sentence2=part["sentence2"].str.replace("\t", " ")
        )
        clean[["sentence1", "sentence2", "score"]].to_csv(path, sep="\t", index=False, quoting=3)
        out[split] = path
    return out


def rows_for(task: tasks.Task, label: str, model: str) -> list[dict]:
    cfg = DistillConfig.from_preset("paper", start=model, task="custom", lengths="auto")
    fitted = runfolder.fit_lengths(cfg, task.pool, "custom", log=lambda line: print(f"  {label}: {line}"))
    sentences = list(dict.fromkeys(task.pool["sentence1"].tolist() + task.pool["sentence2"].tolist()))
    lengths = runfolder._token_lengths(models.tokenizer(model), sentences)  # once; both limits are read off it
    encoder = models.bi_encoder(model)
    out = []
    for source, limit in (("STS limit", STS_LIMIT), ("fitted (lengths=auto)", fitted.bi_max_length)):
        encoder.max_seq_length = limit
        results, _ = evaluation.score_sets([encoder], "bi", task.dev, task.tests, False, "one")
        res = results["model"]
        test = next(iter(res["test"].values()))
        out.append(
            {
                "corpus": label,
                "model": model,
                "metric": task.tests[0].metric,
                "limit": source,
                "bi_max_length": limit,
                "sentences_cut_pct": round(100 * float(np.mean(lengths > limit)), 1),
                "dev": round(res["dev"], 2),
                "test": round(test, 2),
            }
        )
        print(
            f"  {label}, {model}, {limit} tokens ({source}): dev {out[-1]['dev']:.2f}, test {out[-1]['test']:.2f}, "
            f"{out[-1]['sentences_cut_pct']}% of pool sentences cut"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm-l6"])
    parser.add_argument("--data", default="", help="STS data folder (default: ../shared/data/sts)")
    parser.add_argument("--out", default="", help="write the rows to this CSV")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    sts_root = Path(tdata.resolve_data_dir(args.data or None, allow_hub=False))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = msrpar_files(Path(tmp), sts_root)
        corpora = {
            "trecqa": tasks.trecqa_task(),
            "custom msrpar": tasks.custom_task(files["pairs"], files["dev"], [files["test"]], name="msrpar"),
        }
        for label, task in corpora.items():
            for model in args.models:
                rows += rows_for(task, label, model)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
