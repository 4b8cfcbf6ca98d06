"""Shared output helpers: JSON for machines, aligned key/value text for people."""

from __future__ import annotations

import json
from typing import Any

import click


def emit(payload: dict[str, Any], *, as_json: bool, text: str | None = None) -> None:
    """Print payload as JSON (stable keys) when as_json, else `text` or an aligned key/value listing."""
    if as_json:
        click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))
        return
    if text is not None:
        click.echo(text)
        return
    width = max((len(k) for k in payload), default=0)
    for key, value in payload.items():
        click.echo(f"{key:<{width}}  {value}")


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
