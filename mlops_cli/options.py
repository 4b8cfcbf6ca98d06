"""Options shared by commands: a labelled dataset split (and the one function that applies them), and a model given
as a directory or a registry reference."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ml.data import Example

SPLIT_CHOICES = ("train", "validation", "test", "all")

data_option = click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Labelled JSONL dataset (default: the DVC-tracked data/prompts.jsonl).",
)
split_seed_option = click.option(
    "--split-seed",
    type=int,
    default=None,
    help="Seed of the stratified split [default: the training seed, train.seed in params.yaml].",
)


def dataset_options(purpose: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--data, --split and --split-seed, documented for `purpose` (e.g. 'evaluate')."""
    options = [
        data_option,
        click.option(
            "--split",
            type=click.Choice(SPLIT_CHOICES),
            default="test",
            show_default=True,
            help=f"Which split of --data to {purpose}; 'all' uses every row (e.g. a held-out file).",
        ),
        split_seed_option,
    ]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def resolved_split_seed(split_seed: int | None) -> int:
    """--split-seed as given, else the training seed (train.seed in params.yaml), as a pipeline run splits."""
    from ml.params import load_params

    return load_params().train.seed if split_seed is None else split_seed


def load_selected(data_path: Path | None, split: str, split_seed: int | None) -> tuple[Path, list[Example]]:
    """Load --data (default: the DVC-tracked dataset) and keep the chosen split."""
    from ml.data import load_examples, select_split
    from ml.settings import default_data_path

    path = data_path or default_data_path()
    return path, select_split(load_examples(path), split, resolved_split_seed(split_seed))


# How every command that takes a model names it (`mlops serve MODEL`, `--model`, `--model-dir`).
MODEL_HELP = "a model directory, or a registry version: models:/NAME@ALIAS or models:/NAME/VERSION"


@contextlib.contextmanager
def model_directory(model: str | Path | None, download_dir: Path | None = None) -> Iterator[Path | None]:
    """MODEL as a local directory for the block: a path as given, a `models:/` reference downloaded (None: None)."""
    if model is None:
        yield None
        return
    from model_registry.artifacts import materialized

    with materialized(model, download_dir) as path:
        yield path


def region_option(what: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--region, from the AWS environment variables as boto3 reads them, default us-east-1; `what` says of what."""
    from ml.aws import DEFAULT_REGION

    return click.option(
        "--region",
        envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
        default=DEFAULT_REGION,
        show_default=True,
        help=f"AWS region{' ' + what if what else ''} [env AWS_REGION / AWS_DEFAULT_REGION].",
    )
