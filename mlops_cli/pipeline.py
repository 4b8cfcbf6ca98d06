"""`mlops pipeline ...`: run the pipeline locally, or print / upsert / start it on SageMaker."""

from __future__ import annotations

import click

from mlops_cli import pipeline_sagemaker


@click.group()
def pipeline() -> None:
    """Run the training pipeline locally, or build and send it to SageMaker Pipelines."""


for _command in pipeline_sagemaker.COMMANDS:
    pipeline.add_command(_command)
