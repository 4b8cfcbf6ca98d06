"""`mlops export`: ONNX export (fp32 + int8) with parity checks, and the SageMaker model package."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
