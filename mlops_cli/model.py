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
    load_selected,
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
    "--out", type=click.Path(path_type=Path), default=None, help="Directory for evaluation.json and evaluation.txt."
)
@json_option
@user_errors
def evaluate(model: str, data_path: Path | None, split: str, split_seed: int, out: Path | None, as_json: bool) -> None:
    """Evaluate a model: accuracy, macro-F1, per-intent P/R/F1 and the confusion matrix."""
    from ml.evaluation import evaluate_model, format_report, write_report
    from ml.model import check_model_dir
    from model_registry.artifacts import materialized

    with materialized(model) as model_dir:
        check_model_dir(model_dir)
        path, examples = load_selected(data_path, split, split_seed)
        report = evaluate_model(model_dir, examples, dataset=f"{path.name}:{split}")
    if out:
        write_report(report, out)
    emit(report, as_json=as_json, text=format_report(report))
