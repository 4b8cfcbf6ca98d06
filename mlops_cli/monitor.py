"""`mlops monitor ...`: watch a served model; `drift` compares captured traffic with its training data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ml.errors import MlopsError
from mlops_cli.output import emit, json_option

if TYPE_CHECKING:
    from inference.monitoring.drift import DriftReport

# Exit codes of `mlops monitor drift`, for CI and schedulers.
EXIT_NO_DRIFT = 0
EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2  # bad input, an unreadable or empty capture, or too few texts for a verdict


class _BadInput(click.ClickException):
    exit_code = EXIT_BAD_INPUT


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2026-12-03T05:00:00Z)") from None


@click.group()
def monitor() -> None:
    """Monitoring: drift of captured traffic against the serving model's training data."""


@monitor.command()
@click.option(
    "--capture",
    required=True,
    help="Captured traffic: a .jsonl file, a directory tree of them, file:///path or s3://bucket/prefix.",
)
@click.option(
    "--against",
    default=None,
    help="Reference: a registry model (models:/NAME@ALIAS, models:/NAME/VERSION, NAME/VERSION), a data version "
    "(DVC md5) or a JSONL data file [default: the champion and its training data].",
)
@click.option(
    "--model",
    default=None,
    help="Model for a data-version --against: a model directory or registry reference [default: the champion].",
)
@click.option("--endpoint", default=None, help="Only records of this endpoint (from the capture layout).")
@click.option("--variant", default=None, help="Only records of this production variant.")
@click.option("--since", callback=_since, default=None, help="Only records at or after this ISO 8601 time (UTC).")
@click.option(
    "--alpha",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True, max_open=True),
    default=0.01,
    show_default=True,
    help="False-alarm rate of the whole report (Bonferroni over the checks).",
)
@click.option(
    "--min-samples",
    type=click.IntRange(min=2),
    default=50,
    show_default=True,
    help="Fewer captured texts than this: verdict 'insufficient data' (exit 2).",
)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a PNG.")
@json_option
def drift(
    capture: str,
    against: str | None,
    model: str | None,
    endpoint: str | None,
    variant: str | None,
    since: datetime | None,
    alpha: float,
    min_samples: int,
    plot_path: Path | None,
    as_json: bool,
) -> None:
    """Test captured traffic for drift: intents, confidence, length, unknown tokens, embeddings.

    Exit 0: no drift; 1: drift; 2: bad input, an empty capture, or insufficient data.
    """
    from pipelines.monitor import drift_report

    try:
        report = drift_report(
            capture,
            against=against,
            model=model,
            endpoint=endpoint,
            variant=variant,
            since=since,
            alpha=alpha,
            min_samples=min_samples,
            out=plot_path,
        )
    except MlopsError as exc:
        raise _BadInput(str(exc)) from exc
    emit(report.to_dict(), as_json=as_json, text=_text(report))
    raise SystemExit(_exit_code(report))


def _exit_code(report: DriftReport) -> int:
    if report.verdict == "drift":
        return EXIT_DRIFT
    if report.verdict == "no drift":
        return EXIT_NO_DRIFT
    return EXIT_BAD_INPUT


def _text(report: DriftReport) -> str:
    capture: dict[str, Any] = report.capture
    lines = [
        f"verdict: {report.verdict}  ({report.current_size} captured texts vs {report.reference_size} reference; "
        f"alpha {report.alpha}, each check at {report.alpha / len(report.checks):.2g})",
        f"capture: {capture.get('records')} records in {capture.get('files')} file(s); "
        f"{capture.get('broken_lines')} broken line(s) and {capture.get('skipped_records')} unusable record(s) "
        "skipped",
        f"reference: {report.reference.get('model')} on data {report.reference.get('data_md5')}",
    ]
    if report.verdict == "insufficient data":
        lines.append(f"  fewer than {report.min_samples} texts: no verdict (the checks below are for information)")
    for check in report.checks:
        mark = "DRIFT" if check.drifted else "ok"
        lines.append(
            f"  {check.name:<15} {mark:<5}  {check.test}: statistic {check.statistic:.3g}, p {check.p_value:.2g}"
            f"  ({check.summary})"
        )
    if report.plot_path:
        lines.append(f"plot: {report.plot_path}")
    return "\n".join(lines)
