"""`mlops pipeline ...`: run the pipeline locally, or print / upsert / start it on SageMaker."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_cli import pipeline_sagemaker
from mlops_cli.errors import user_errors
from mlops_cli.output import emit, json_option


param_option = click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
    help="Override a pipeline parameter (repeatable), e.g. -p Epochs=5 -p MinMacroF1=0.8.",
)


@click.group()
def pipeline() -> None:
    """Run the training pipeline locally, or build and send it to SageMaker Pipelines."""


@pipeline.command()
def steps() -> None:
    """List the pipeline's steps with their inputs and outputs."""
    from pipelines.spec import SPEC

    for step in SPEC.steps:
        ins = ", ".join(a.source or a.name for a in step.inputs) or "-"
        outs = ", ".join(f"{step.name}.{a.name}" for a in step.outputs) or "-"
        click.echo(f"{step.name:<9} {step.kind:<10} in: {ins:<55} out: {outs}")


@pipeline.command()
@param_option
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None,
              help="Dataset file (default: the DVC-tracked data/prompts.jsonl, pulled if needed).")
@click.option("--from", "from_step", default=None, metavar="STEP", help="Resume a run from this step (see `mlops pipeline steps`).")
@click.option("--run-dir", type=click.Path(path_type=Path), default=None, help="Run directory to resume (default with --from: the latest run).")
@json_option
@user_errors
def run(params: tuple[str, ...], data_path: Path | None, from_step: str | None, run_dir: Path | None, as_json: bool) -> None:
    """Run prepare → train → evaluate → gate → export → register locally, into a run directory."""
    from ml.dvc_data import materialize
    from ml.settings import project_root, state_dir
    from pipelines.local_runner import LocalRunner, latest_run

    from pipelines.spec import parse_parameter_overrides

    overrides = parse_parameter_overrides(params)
    runner = LocalRunner(state_dir(), project_root(), echo=lambda line: click.echo(line, err=as_json))
    if from_step:
        run_dir = run_dir or latest_run(state_dir())
        state = runner.resume(run_dir, from_step, overrides)
        click.echo(f"resuming {run_dir} from {from_step}", err=as_json)
    else:
        if run_dir:
            raise click.UsageError("--run-dir is only for resuming; use it with --from STEP")
        md5 = None
        if data_path is None:
            version = materialize(project_root())
            data_path, md5 = project_root() / version.path, version.pinned_md5
        run_dir, state = runner.start(data_path, overrides, data_md5=md5)
        click.echo(f"run {state.run_id} in {run_dir} (data md5 {state.parameters['DataMd5']})", err=as_json)
    state = runner.execute(run_dir, state, from_step)
    summary = _summary(run_dir, state)
    emit(summary, as_json=as_json, text=_summary_text(summary))


def _summary(run_dir: Path, state) -> dict:  # noqa: ANN001 - RunState is imported lazily
    import json

    summary = {
        "run_id": state.run_id,
        "run_dir": str(run_dir),
        "status": state.status,
        "data_md5": state.parameters["DataMd5"],
        "git_commit": state.parameters["GitCommit"],
        "steps": {name: {"status": r.status, "seconds": r.seconds} for name, r in state.steps.items()},
    }
    evaluation = run_dir / "evaluate" / "evaluation" / "evaluation.json"
    if evaluation.exists():
        summary["metrics"] = {k: v["value"] for k, v in json.loads(evaluation.read_text())["metrics"].items()}
    benchmark = run_dir / "benchmark" / "benchmark" / "benchmark.json"
    if benchmark.exists():
        summary["benchmark"] = json.loads(benchmark.read_text())
    registration = run_dir / "register" / "registration" / "registration.json"
    if registration.exists():
        summary["registration"] = json.loads(registration.read_text())
    return summary


def _summary_text(summary: dict) -> str:
    lines = [f"pipeline run {summary['run_id']}: {summary['status']}"]
    lines += [f"  {n:<9} {s['status']:<10} {s['seconds'] or 0:6.1f}s" for n, s in summary["steps"].items()]
    for name, value in summary.get("metrics", {}).items():
        lines.append(f"  test {name:<16} {value:.4f}")
    bench = summary.get("benchmark")
    if bench:
        b, gate = bench["summary"], bench["gate"]
        verdict = "passed" if gate["passed"] else "FAILED: " + "; ".join(gate["reasons"])
        lines.append(
            f"  benchmark ({bench['target']}): p50 {b['p50_ms']:.1f} ms, p95 {b['p95_ms']:.1f} ms, "
            f"p99 {b['p99_ms']:.1f} ms, {b['throughput_rps']:.1f} req/s"
        )
        lines.append(f"  latency gate (p95 <= {gate['budget_ms']:g} ms): {verdict}")
    reg = summary.get("registration")
    if reg:
        lines += [
            f"registered {reg['name']} version {reg['version']} as @{reg['alias']} (data md5 {summary['data_md5']})",
            f"  inspect:  mlops registry show {reg['version']}",
            f"  browse:   mlflow ui --backend-store-uri {reg['tracking_uri']}",
        ]
    return "\n".join(lines)


for _command in pipeline_sagemaker.COMMANDS:
    pipeline.add_command(_command)
