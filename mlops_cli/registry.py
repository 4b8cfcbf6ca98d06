"""`mlops registry ...`: registered model versions, their aliases and lineage."""

from __future__ import annotations

import click

from mlops_cli.errors import user_errors
from mlops_cli.output import emit, json_option

name_option = click.option("--name", default="intent-classifier", show_default=True, help="Registered model name.")


@click.group()
def registry() -> None:
    """Inspect the MLflow model registry (MLFLOW_TRACKING_URI, default: the local SQLite store)."""


@registry.command("list")
@name_option
@json_option
@user_errors
def list_(name: str, as_json: bool) -> None:
    """List versions with aliases, data md5, git commit and headline metrics."""
    from model_registry.queries import list_versions

    versions = list_versions(name)
    lines = [f"{'version':>7}  {'aliases':<22} {'macro_f1':>8}  {'data_md5':<32}  git_commit"]
    for v in versions:
        f1 = v["metrics"].get("macro_f1")
        lines.append(
            f"{v['version']:>7}  {','.join(v['aliases']) or '-':<22} {f1 if f1 is None else format(f1, '.4f'):>8}  "
            f"{v['data_md5'] or '-':<32}  {(v['git_commit'] or '-')[:12]}"
        )
    emit({"name": name, "versions": versions}, as_json=as_json, text="\n".join(lines))


@registry.command()
@click.argument("ref")
@name_option
@json_option
@user_errors
def show(ref: str, name: str, as_json: bool) -> None:
    """Show one version (number or alias, e.g. 3 or champion) with its full lineage."""
    from model_registry.queries import get_version

    version = get_version(ref, name)
    lines = [f"{name} version {version['version']}  aliases: {', '.join(version['aliases']) or '-'}"]
    for key in ("data_md5", "git_commit", "run_id", "source"):
        lines.append(f"  {key:<11} {version[key]}")
    lines += [f"  metric {k:<16} {v:.4f}" for k, v in version["metrics"].items()]
    lines += [f"  param  {k:<16} {v}" for k, v in sorted(version.get("params", {}).items())]
    emit(version, as_json=as_json, text="\n".join(lines))
