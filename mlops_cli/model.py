"""`mlops train` and `mlops evaluate`: the model steps, runnable one by one outside any pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml.train_config import PRESET_DISTILL_WEIGHT, PRESET_EMA_DECAY, TrainConfig
from mlops_cli.errors import user_errors
from mlops_cli.options import (
    MODEL_HELP,
    data_option,
    dataset_options,
    resolved_split_seed,
    split_seed_option,
)
from mlops_cli.output import emit, json_option
from mlops_cli.progress import progress_display


def _from_params(key: str) -> dict[str, Any]:
    """Keyword arguments of an option whose default is params.yaml's `key`, resolved by TrainConfig when left out."""
    return {"default": None, "show_default": f"{key} in params.yaml"}


def _preset_share(flag: str, preset_value: float, help_text: str) -> Any:
    """An option taking a share in [0, 1) whose default, when left out, TrainConfig resolves: `preset_value` for a
    preset, 0 for a checkpoint."""
    return click.option(
        flag,
        type=click.FloatRange(0, 1, max_open=True),
        default=None,
        show_default=f"{preset_value:g} for a preset, 0 for a checkpoint",
        help=help_text,
    )


@click.command()
@data_option
@click.option(
    "--model", help="Preset (tiny, xsmall, small, base), model directory or hub name.", **_from_params("train.model")
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Model directory to write (default: <state>/models/<model>).",
)
@click.option("--overwrite", is_flag=True, help="Replace --out if it already holds a model.")
@click.option("--seed", type=int, **_from_params("train.seed"))
@click.option("--learning-rate", type=float, **_from_params("train.learning_rate"))
@click.option(
    "--epochs", type=int, help="Maximum epochs (early stopping may end sooner).", **_from_params("train.epochs")
)
@click.option("--batch-size", type=int, **_from_params("train.batch_size"))
@click.option("--max-length", type=int, help="Maximum tokens per prompt.", **_from_params("train.max_length"))
@click.option(
    "--patience",
    type=int,
    default=TrainConfig.patience,
    show_default=True,
    help="Epochs without validation macro-F1 gain before stopping.",
)
@_preset_share(
    "--distill-weight",
    PRESET_DISTILL_WEIGHT,
    "Weight of the linear teacher's probabilities beside the labels (0: labels only; ml/distillation.py).",
)
@_preset_share(
    "--ema-decay",
    PRESET_EMA_DECAY,
    "Decay of the weights' moving average that is validated and saved (0: the trained weights themselves).",
)
@split_seed_option
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write result.json (best epoch, its validation macro-F1, epochs run) and history.csv (one row per "
    "epoch) here.",
)
@json_option
@user_errors
def train(
    data_path: Path | None,
    out: Path | None,
    overwrite: bool,
    split_seed: int | None,
    report_dir: Path | None,
    as_json: bool,
    **hparams: Any,
) -> None:
    """Train a DeBERTa-v3 intent classifier on the train split, early-stopping on validation macro-F1."""
    from ml import training
    from ml.settings import default_data_path, state_dir

    config = TrainConfig(**{name: value for name, value in hparams.items() if value is not None})
    out = out or state_dir() / "models" / Path(config.model).name
    with progress_display() as show:
        result = training.train_to_directory(
            config,
            data_path or default_data_path(),
            out,
            split_seed=split_seed,
            overwrite=overwrite,
            on_progress=show,
        )
    if report_dir:
        training.write_training_report(result, report_dir)
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
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory for evaluation.json and evaluation.txt, scores.json (the headline scores, flat) and "
    "confusion.csv (an actual,predicted row per example of the split).",
)
@click.option(
    "--min-macro-f1",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Also judge the pipeline's quality gate on the split at this threshold (evaluate.min_macro_f1 in "
    "params.yaml); the verdict is reported, the exit status stays 0.",
)
@json_option
@user_errors
def evaluate(
    model: str,
    data_path: Path | None,
    split: str,
    split_seed: int | None,
    natural_path: Path | None,
    no_natural: bool,
    confusions: int | None,
    out: Path | None,
    min_macro_f1: float | None,
    as_json: bool,
) -> None:
    """Evaluate a model: accuracy, macro-F1, per-intent P/R/F1 and the confusion matrix, on a split of the data and
    on the hand-written held-out set beside it."""
    from ml.evaluation import evaluate_data, format_report, write_report, write_scores
    from ml.model import check_model_dir
    from ml.settings import default_data_path, natural_set_path
    from model_registry.artifacts import materialized
    from pipelines.spec import MIN_MACRO_F1_GATE

    if natural_path is None and natural_set_path().is_file():
        natural_path = natural_set_path()
    with materialized(model) as model_dir:
        check_model_dir(model_dir)
        report = evaluate_data(
            model_dir,
            data_path or default_data_path(),
            split=split,
            split_seed=resolved_split_seed(split_seed),
            held_out=None if no_natural else natural_path,
            confusions=confusions or 0,
        )
    if min_macro_f1 is not None:
        passed, detail = MIN_MACRO_F1_GATE.judge(report, min_macro_f1)
        report["gate"] = {"passed": passed, "detail": detail}
    if out:
        write_report(report, out)
        write_scores(report, out)
    emit(report, as_json=as_json, text=format_report(report))
