"""`mlops train` and `mlops evaluate`: the model steps, runnable one by one outside any pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml.train_config import TrainConfig
from mlops_cli.errors import user_errors
from mlops_cli.options import (
    MODEL_HELP,
    data_option,
    dataset_options,
    split_seed_option,
)
from mlops_cli.output import emit, json_option
from mlops_cli.progress import progress_display


@click.command()
@data_option
@click.option(
    "--model",
    default="tiny",
    show_default=True,
    help="Preset (tiny, xsmall, small, base), model directory or hub name.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Model directory to write (default: <state>/models/<model>).",
)
@click.option("--overwrite", is_flag=True, help="Replace --out if it already holds a model.")
@click.option("--seed", type=int, default=TrainConfig.seed, show_default=True)
@click.option("--learning-rate", type=float, default=TrainConfig.learning_rate, show_default=True)
@click.option(
    "--epochs",
    type=int,
    default=TrainConfig.epochs,
    show_default=True,
    help="Maximum epochs (early stopping may end sooner).",
)
@click.option("--batch-size", type=int, default=TrainConfig.batch_size, show_default=True)
@click.option(
    "--max-length", type=int, default=TrainConfig.max_length, show_default=True, help="Maximum tokens per prompt."
)
@click.option(
    "--patience",
    type=int,
    default=TrainConfig.patience,
    show_default=True,
    help="Epochs without validation macro-F1 gain before stopping.",
)
@split_seed_option
@json_option
@user_errors
def train(
    data_path: Path | None,
    model: str,
    out: Path | None,
    overwrite: bool,
    split_seed: int,
    as_json: bool,
    **hparams: Any,
) -> None:
    """Train a DeBERTa-v3 intent classifier on the train split, early-stopping on validation macro-F1."""
    from ml import training
    from ml.settings import default_data_path, state_dir

    out = out or state_dir() / "models" / Path(model).name
    with progress_display() as show:
        result = training.train_to_directory(
            TrainConfig(model=model, **hparams),
            data_path or default_data_path(),
            out,
            split_seed=split_seed,
            overwrite=overwrite,
            on_progress=show,
        )
    payload = {
        "model_dir": str(out),
        "best_epoch": result.best_epoch,
        "best_val_macro_f1": round(result.best_val_macro_f1, 4),
        "epochs_run": len(result.history),
        "parameters": result.parameters,
        "seconds": round(result.seconds, 1),
        "reproducible": result.runtime.reproducibility() if result.runtime else "unknown",
    }
    emit(payload, as_json=as_json)


@click.command()
@click.option("--model", "model", required=True, help=f"The model to evaluate: {MODEL_HELP}.")
@dataset_options("evaluate")
@click.option(
    "--natural",
    "natural_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Hand-written held-out set evaluated beside the split; refused if a prompt is also in --data "
    "[default: data/natural_prompts.jsonl, when present].",
)
@click.option("--no-natural", is_flag=True, help="Evaluate the split alone.")
@click.option(
    "--confusions",
    type=click.IntRange(min=1),
    is_flag=False,
    flag_value=5,
    default=None,
    help="List the N most confused intent pairs with example prompts (N defaults to 5).",
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Directory for evaluation.json and evaluation.txt."
)
@json_option
@user_errors
def evaluate(
    model: str,
    data_path: Path | None,
    split: str,
    split_seed: int,
    natural_path: Path | None,
    no_natural: bool,
    confusions: int | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Evaluate a model: accuracy, macro-F1, per-intent P/R/F1 and the confusion matrix, on a split of the data and
    on the hand-written held-out set beside it."""
    from ml.evaluation import evaluate_data, format_report, write_report
    from ml.model import check_model_dir
    from ml.settings import default_data_path, natural_set_path
    from model_registry.artifacts import materialized

    if natural_path is None and natural_set_path().is_file():
        natural_path = natural_set_path()
    with materialized(model) as model_dir:
        check_model_dir(model_dir)
        report = evaluate_data(
            model_dir,
            data_path or default_data_path(),
            split=split,
            split_seed=split_seed,
            held_out=None if no_natural else natural_path,
            confusions=confusions or 0,
        )
    if out:
        write_report(report, out)
    emit(report, as_json=as_json, text=format_report(report))
