"""`mlops serve`: the SageMaker-contract inference server on onnxruntime."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
