"""How well a trained model reads real prompts: test split vs the hand-written natural set, per training variant.

Run: .venv/bin/python -m benchmarks.generalization [--variant NAME ...] [--per-intent 400] [--no-added] [--out FILE]
     [--keep-models DIR]

Each variant trains the `make run` model (the tiny preset, TrainConfig's defaults) with a few settings changed, on
the data the DVC stage `generate` produces at this commit (generated rows, then the added ones of
data/feedback.jsonl; `--no-added`: generated rows only), then evaluates it on the generated test split and on
data/natural_prompts.jsonl (written by hand, never trained on; docs/labeling.md). Generator changes are compared
across commits: run this before and after, and the table in docs/benchmarks.md keeps both rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Settings each variant changes from TrainConfig's defaults (the model `make run` trains).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no-label-smoothing": {"label_smoothing": 0.0},
    "no-char-noise": {"noise_prob": 0.0},
    "more-char-noise": {"noise_prob": 0.1},
    "weight-decay-0.1": {"weight_decay": 0.1},
    "vocab-4000": {"tokenizer_vocab_size": 4000},
    "word-dropout-0.15": {"word_dropout": 0.15},
    "label-smoothing-0.1": {"label_smoothing": 0.1},
    "label-smoothing-0.2": {"label_smoothing": 0.2},
    "label-smoothing-0.2+epochs-20": {"label_smoothing": 0.2, "epochs": 20},
    "word-dropout-0.15+label-smoothing-0.1": {"word_dropout": 0.15, "label_smoothing": 0.1},
    "epochs-20": {"epochs": 20},
    "vocab-4000+epochs-20": {"tokenizer_vocab_size": 4000, "epochs": 20},
    "vocab-8000": {"tokenizer_vocab_size": 8000},
    "vocab-16000": {"tokenizer_vocab_size": 16000},
    "vocab-16000+epochs-20": {"tokenizer_vocab_size": 16000, "epochs": 20},
    "vocab-16000+lr-0.002": {"tokenizer_vocab_size": 16000, "learning_rate": 0.002},
    "vocab-16000+word-dropout-0.1": {"tokenizer_vocab_size": 16000, "word_dropout": 0.1},
    "vocab-16000+no-label-smoothing": {"tokenizer_vocab_size": 16000, "label_smoothing": 0.0},
    "vocab-16000+lr-0.0005": {"tokenizer_vocab_size": 16000, "learning_rate": 0.0005},
    "vocab-16000+batch-16": {"tokenizer_vocab_size": 16000, "batch_size": 16},
    "no-distillation": {"distill_weight": 0.0},
    "distill-0.3": {"distill_weight": 0.3},
    "distill-0.7": {"distill_weight": 0.7},
    "word-dropout-0.1": {"word_dropout": 0.1},
    "epochs-16": {"epochs": 16},
    "ema-0.998": {"ema_decay": 0.998},
    "ema-0.995": {"ema_decay": 0.995},
}


def run_variant(name: str, data: Path, workdir: Path, *, seed: int | None = None) -> dict[str, Any]:
    """Train one variant on `data` (initialisation and order from `seed`, default the training seed; the split
    always the pipeline's) and evaluate it on the test split and the natural set."""
    from ml.data import load_examples, select_split
    from ml.evaluation import evaluate_data, evaluate_model
    from ml.settings import natural_set_path
    from ml.train_config import TrainConfig
    from ml.training import train_to_directory

    config = replace(TrainConfig(), **VARIANTS[name])
    config = replace(config, seed=config.seed if seed is None else seed)
    split_seed = TrainConfig().seed
    began = time.perf_counter()
    result = train_to_directory(config, data, workdir / f"{name}-{config.seed}", split_seed=split_seed)
    report = evaluate_data(result.model_dir, data, split="test", split_seed=split_seed, held_out=natural_set_path())
    natural = report["natural"]
    test = select_split(load_examples(data), "test", split_seed)
    by_kind = {  # the test split's generated rows and its added (hand-written, feedback) rows, apart
        kind: round(evaluate_model(result.model_dir, rows, dataset=kind)["metrics"]["macro_f1"]["value"], 4)
        for kind, rows in (
            ("generated", [e for e in test if e.source is None]),
            ("added", [e for e in test if e.source]),
        )
        if rows
    }
    return {
        "variant": name,
        "settings": VARIANTS[name],
        "train_seed": config.seed,
        "best_epoch": result.best_epoch,
        "train_seconds": round(time.perf_counter() - began, 1),
        "test_macro_f1": round(report["metrics"]["macro_f1"]["value"], 4),
        "test_macro_f1_by_kind": by_kind,
        "natural_macro_f1": round(natural["metrics"]["macro_f1"]["value"], 4),
        "natural_accuracy": round(natural["metrics"]["accuracy"]["value"], 4),
        "natural_min_f1": min((row["f1"], label) for label, row in natural["per_class"].items()),
        "natural_per_intent_f1": {label: round(row["f1"], 3) for label, row in natural["per_class"].items()},
    }


def generate(per_intent: int, seed: int, out: Path, *, added: bool = True) -> Path:
    """The dataset at this commit (the DVC stage's command), with the added rows of data/feedback.jsonl or not."""
    cmd = [sys.executable, "-m", "ml.datagen", "--out", str(out), "--seed", str(seed), "--per-intent", str(per_intent)]
    if added:
        cmd += ["--feedback", str(ROOT / "data" / "feedback.jsonl")]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def render(rows: list[dict[str, Any]], commit: str) -> str:
    """Markdown table rows, one per variant."""
    lines = [
        "| commit | variant | seed | test macro-F1 | natural macro-F1 | natural accuracy | weakest intent (F1) "
        "| epochs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        low, label = row["natural_min_f1"]
        lines.append(
            f"| {commit} | {row['variant']} | {row['train_seed']} | {row['test_macro_f1']:.3f} | "
            f"{row['natural_macro_f1']:.3f} | "
            f"{row['natural_accuracy']:.3f} | {label} ({low:.2f}) | {row['best_epoch']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen variants and print (and optionally write) the table and the JSON rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="repeatable; default: all")
    parser.add_argument("--per-intent", type=int, default=400, help="generated prompts per intent (default 400)")
    parser.add_argument("--seed", type=int, default=13, help="generator seed (default 13)")
    parser.add_argument(
        "--train-seed", type=int, action="append", help="training seed (repeatable; default: params.yaml's)"
    )
    parser.add_argument(
        "--no-added", action="store_true", help="leave out data/feedback.jsonl's rows (the generated rows only)"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON rows here")
    parser.add_argument(
        "--keep-models",
        type=Path,
        default=None,
        help="keep each trained model here (VARIANT-SEED), e.g. for served_models",
    )
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory(prefix="generalization-") as scratch:
        data = generate(args.per_intent, args.seed, Path(scratch) / "prompts.jsonl", added=not args.no_added)
        for name in args.variant or list(VARIANTS):
            for train_seed in args.train_seed or [None]:
                workdir = args.keep_models or Path(scratch)
                rows.append({**run_variant(name, data, workdir, seed=train_seed), "added": not args.no_added})
                print(json.dumps(rows[-1]), flush=True)
    print(render(rows, commit or "?"))
    if args.out:
        args.out.write_text(json.dumps({"commit": commit, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
