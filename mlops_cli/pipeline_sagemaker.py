"""`mlops pipeline definition | upsert | start`: the SageMaker side of the pipeline."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
