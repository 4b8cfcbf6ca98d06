"""`mlops data ...`: the DVC-versioned dataset: status, pull, push, validate, add."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from mlops_cli.errors import user_errors
from mlops_cli.output import emit, json_option


@click.group()
def data() -> None:
    """Inspect and materialise the DVC-versioned dataset."""


@data.command()
@json_option
@user_errors
def status(as_json: bool) -> None:
    """Show the data version in use: DVC md5 pinned by dvc.lock, md5 on disk, git revision, remote, and the parent
    version and source of rows when `mlops data add` made it."""
    from ml.dvc_data import data_version
    from ml.settings import project_root

    version = data_version(project_root())
    emit(version.to_dict(), as_json=as_json)


@data.command()
@json_option
@user_errors
def pull(as_json: bool) -> None:
    """Materialise the pinned dataset (from the DVC remote, else by reproducing the DVC stage)."""
    from ml.dvc_data import materialize
    from ml.settings import project_root

    version = materialize(project_root())
    emit(version.to_dict(), as_json=as_json)


@data.command()
@click.option("-r", "--remote", default=None, help="DVC remote name (default: the default remote).")
@json_option
@user_errors
def push(remote: str | None, as_json: bool) -> None:
    """Push the dataset in the DVC cache to a remote (e.g. the S3 remote of docs/operations.md)."""
    from ml.dvc_data import push as dvc_push
    from ml.settings import project_root

    result = dvc_push(project_root(), remote)
    text = f"pushed {result['pushed_files']} file(s) to {result['remote'] or 'the default remote'}"
    emit(result, as_json=as_json, text=text)


@data.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@json_option
@user_errors
def validate(path: Path | None, as_json: bool) -> None:
    """Validate a JSONL dataset (text, known intent, complexity, no duplicates) and show per-intent counts."""
    from ml.data import load_examples
    from ml.settings import default_data_path

    path = path or default_data_path()
    examples = load_examples(path)
    counts = dict(sorted(Counter(e.intent for e in examples).items()))
    payload = {"path": str(path), "rows": len(examples), "per_intent": counts}
    text = "\n".join([f"{path}: {len(examples)} valid rows"] + [f"  {k:<20} {v}" for k, v in counts.items()])
    emit(payload, as_json=as_json, text=text)


@data.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--source",
    required=True,
    help="Where the rows come from, recorded with the new version (e.g. 'capture review 2026-12-03').",
)
@click.option("--push/--no-push", "push_data", default=True, show_default=True, help="Push the new version.")
@json_option
@user_errors
def add(file: Path, source: str, push_data: bool, as_json: bool) -> None:
    """Add FILE's labelled rows (JSON Lines: text, intent[, complexity]) as a new DVC data version.

    Rows are validated against the taxonomy; exact duplicates of the dataset and rewordings of held-out prompts
    (half their words or more shared) are skipped, conflicting labels and prompts of the held-out natural set
    refused. The new rows go to data/feedback.jsonl, `dvc repro generate`
    makes the new dataset (new md5 in dvc.lock), which is pushed to the DVC remote and recorded with its parent
    and source in data/versions.jsonl. Nothing changes when any step fails. Commit the three files afterwards.
    """
    from ml.dvc_data import FEEDBACK_PATH, VERSIONS_PATH
    from ml.feedback import add_feedback
    from ml.settings import project_root

    result = add_feedback(project_root(), file, source=source, push=push_data)
    if result.rows_added == 0:
        text = (
            f"no new rows ({result.skipped_duplicates} already in the dataset, {result.skipped_near_held_out} "
            f"rewording held-out prompts): data version {result.md5} unchanged"
        )
    else:
        pushed = f"pushed to {result.remote}" if result.pushed else "not pushed (`mlops data push` later)"
        text = (
            f"data version {result.md5} (parent {result.parent_md5}): {result.rows_added} row(s) added, "
            f"{result.skipped_duplicates} duplicate(s) and {result.skipped_near_held_out} rewording(s) of held-out "
            f"prompts skipped, {result.rows} rows in all; {pushed}\n"
            f"commit it: git add dvc.lock {FEEDBACK_PATH} {VERSIONS_PATH} && git commit -m 'data: {result.source}'"
        )
    emit(result.to_dict(), as_json=as_json, text=text)
