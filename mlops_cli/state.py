"""`mlops state ...`: the local state directory (MLflow store, runs, models)."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_cli.errors import user_errors
from mlops_cli.output import emit, json_option


@click.group()
def state() -> None:
    """Inspect, repair and purge the local state directory ($MLOPS_STATE_DIR, default .mlops)."""


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


@state.command("purge-capture")
@click.option(
    "--dir",
    "capture_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The capture directory (what --capture-dir or --data-capture named) [default: <state dir>/capture].",
)
@click.option("--endpoint", default=None, help="Only this endpoint's captures (default: all).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@user_errors
def purge_capture(capture_dir: Path | None, endpoint: str | None, yes: bool, as_json: bool) -> None:
    """Delete captured requests and answers (data capture of `mlops serve` and the local endpoint).

    Captures hold the text users sent. Stop capturing first (restart `mlops serve` without --capture-*, or
    `mlops endpoint deploy ... --data-capture off`), or a running server goes on writing new files.
    """
    from inference.serving.capture import CAPTURE_DIR, purge_captures
    from ml.settings import state_dir

    root = capture_dir or state_dir() / CAPTURE_DIR
    what = f"{root / endpoint}" if endpoint else str(root)
    if not yes:
        click.confirm(f"Delete every capture file under {what}?", abort=True)
    result = purge_captures(root, endpoint=endpoint)
    emit(result, as_json=as_json, text=f"{what}: deleted {result['files']} capture file(s), {result['bytes']} bytes")
