"""`mlops state ...`: the local state directory (MLflow store, runs, models)."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_cli.errors import user_errors
from mlops_cli.output import emit, json_option


@click.group()
def state() -> None:
    """Inspect and repair the local state directory ($MLOPS_STATE_DIR, default .mlops)."""


@state.command()
@click.option(
    "--from",
    "old",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the directory was (default: the location it recorded).",
)
@json_option
@user_errors
def relocate(old: Path | None, as_json: bool) -> None:
    """Rewrite the paths a moved or copied state directory stores (MLflow store, runs) to where it is now.

    Done on first use after a move; run it to do it now, or to relocate from a location it did not record.
    """
    from ml.settings import state_dir
    from ml.state import relocate as relocate_state

    result = relocate_state(state_dir(relocate=False), old.resolve() if old else None)
    text = (
        f"{result.state_dir}: relocated from {result.old} ({result.database_values} stored path(s), "
        f"{result.run_files} run file(s))"
    )
    emit(result.to_dict(), as_json=as_json, text=text)
