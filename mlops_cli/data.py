"""`mlops data ...`: the DVC-versioned dataset: status, pull, push, validate."""

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
    """Show the data version in use: DVC md5 pinned by dvc.lock, md5 on disk, git revision, remote."""
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
