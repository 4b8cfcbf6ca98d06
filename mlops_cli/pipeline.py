"""`mlops pipeline ...`: run the pipeline locally, or print / upsert / start it on SageMaker."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_cli import pipeline_sagemaker
from mlops_cli.errors import user_errors
from mlops_cli.output import emit, json_option
from mlops_cli.progress import progress_display

param_option = click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a pipeline parameter (repeatable), e.g. -p Epochs=5 -p MinMacroF1=0.8.",
)


@click.group()
def pipeline() -> None:
    """Run the training pipeline locally, or build and send it to SageMaker Pipelines."""


@pipeline.command()
@json_option
def steps(as_json: bool) -> None:
    """List the pipeline's steps with their inputs and outputs."""
    from pipelines.spec import SPEC

    described = SPEC.describe_steps()
    lines = [
        f"{s['name']:<9} {s['kind']:<10} in: {', '.join(s['inputs']) or '-':<55} out: {', '.join(s['outputs']) or '-'}"
        for s in described
    ]
    emit(
        {"pipeline": SPEC.name, "spec_version": SPEC.version, "steps": described},
        as_json=as_json,
        text="\n".join(lines),
    )


@pipeline.command()
@param_option
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Dataset file (default: the DVC-tracked data/prompts.jsonl, pulled if needed).",
)
@click.option(
    "--from",
    "from_step",
    default=None,
    metavar="STEP",
    help="Resume a run from this step (see `mlops pipeline steps`).",
)
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Run directory to resume (default with --from: the latest run).",
)
@json_option
@user_errors
def run(
    params: tuple[str, ...], data_path: Path | None, from_step: str | None, run_dir: Path | None, as_json: bool
) -> None:
    """Run prepare → train → evaluate → gate → export → benchmark → register locally, into a run directory."""
    from pipelines.local_runner import format_run_summary, run_pipeline
    from pipelines.spec import parse_parameter_overrides

    with progress_display(plain=False) as show:  # off a terminal, the runner's own lines say where it is
        summary = run_pipeline(
            parse_parameter_overrides(params),
            data_path=data_path,
            from_step=from_step,
            run_dir=run_dir,
            echo=lambda line: click.echo(line, err=as_json),
            on_progress=show,
        )
    emit(summary, as_json=as_json, text=format_run_summary(summary))


for _command in pipeline_sagemaker.COMMANDS:
    pipeline.add_command(_command)
