"""The local runner: the spec's step entry points run in order on this machine, no Docker, no AWS.

Each step runs as its own process (as in a container) with its declared inputs and outputs mapped into a run
directory; condition steps are evaluated here, exactly as the SageMaker ConditionStep would. A failed run can
be resumed with `from_step`, which reuses the outputs of the steps before it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from ml.data import file_md5
from ml.errors import MlopsError
from ml.progress import Progress, ProgressCallback, report
from ml.settings import git_commit
from ml.state import LATEST_FILE, RUN_FILE, RUNS_DIR
from pipelines.spec import EXTERNAL_INPUTS, SPEC, Gate, PipelineSpec, Step, cli_flag, coerce_parameters
from pipelines.steps.contract import env_var

log = logging.getLogger(__name__)


class PipelineError(MlopsError):
    """A pipeline run could not start, a step failed, or a gate stopped it."""


class GateFailed(PipelineError):
    """The model did not pass a quality gate; nothing was registered."""


@dataclass
class StepRecord:
    """Status of one step in a run."""

    status: str = "pending"  # pending | running | succeeded | failed | skipped
    seconds: float | None = None
    message: str = ""


@dataclass
class RunState:
    """Everything recorded about a run, persisted as run.json in the run directory."""

    run_id: str
    pipeline: str
    spec_version: int
    spec_fingerprint: str
    parameters: dict[str, Any]
    steps: dict[str, StepRecord] = field(default_factory=dict)
    status: str = "running"

    def save(self, run_dir: Path) -> None:
        """Write run.json atomically."""
        tmp = run_dir / f".{RUN_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        tmp.replace(run_dir / RUN_FILE)

    @classmethod
    def load(cls, run_dir: Path) -> RunState:
        """Read run.json from a run directory."""
        path = run_dir / RUN_FILE
        if not path.exists():
            raise PipelineError(f"{run_dir} is not a pipeline run directory (no {RUN_FILE})")
        data = json.loads(path.read_text())
        data["steps"] = {k: StepRecord(**v) for k, v in data.get("steps", {}).items()}
        return cls(**data)


def runs_dir(state: Path) -> Path:
    """Directory holding all local run directories."""
    return state / RUNS_DIR


def latest_run(state: Path) -> Path:
    """The most recently started run directory."""
    pointer = runs_dir(state) / LATEST_FILE
    if not pointer.exists():
        raise PipelineError("there is no previous run to resume", hint="start one with `mlops pipeline run`")
    # A run's directory name, relative to runs/ so that the state directory can move (an absolute path before).
    return runs_dir(state) / pointer.read_text().strip()


def artifact_dir(run_dir: Path, step: str, artifact: str) -> Path:
    """Where the local runner keeps a step's output artifact."""
    return run_dir / step / artifact


def _resolve_source(run_dir: Path, source: str) -> Path:
    step, artifact = source.split(".", 1)
    return artifact_dir(run_dir, step, artifact)


def step_environment(step: Step, run_dir: Path) -> dict[str, str]:
    """Environment mapping a step's declared inputs and outputs into the run directory (an external input: its copy
    under `inputs/<name>/`)."""
    env: dict[str, str] = {}
    for artifact in step.inputs:
        path = _resolve_source(run_dir, artifact.source) if artifact.source else run_dir / "inputs" / artifact.name
        env[env_var(artifact.name)] = str(path)
        if step.kind == "training":
            env[f"SM_CHANNEL_{artifact.name.upper()}"] = str(path)
    for artifact in step.outputs:
        path = artifact_dir(run_dir, step.name, artifact.name)
        env[env_var(artifact.name)] = str(path)
    if step.kind == "training":
        env["SM_MODEL_DIR"] = env[env_var("model")]
        env["SM_OUTPUT_DATA_DIR"] = env[env_var("metrics")]
    return env


def step_arguments(step: Step, parameters: dict[str, Any]) -> list[str]:
    """Command-line arguments for a step's parameters."""
    args: list[str] = []
    for name in step.arguments:
        args += [cli_flag(name), str(parameters[name])]
    return args


def evaluate_gate(gate: Gate, run_dir: Path, parameters: dict[str, Any]) -> tuple[bool, str]:
    """Read the gate's metric from its report and compare it with the threshold parameter."""
    report_path = artifact_dir(run_dir, gate.after, gate.report_output) / gate.report_file
    return gate.judge(json.loads(report_path.read_text()), float(parameters[gate.threshold_parameter]))


class LocalRunner:
    """Runs the pipeline spec's steps as local processes inside one run directory."""

    def __init__(
        self,
        state: Path,
        repo: Path,
        *,
        spec: PipelineSpec = SPEC,
        echo: Callable[[str], None] = print,
        env: Mapping[str, str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.state, self.repo, self.spec, self.echo = state, repo, spec, echo
        self.env = dict(env or {})  # set for every step, over this process's environment
        self.on_progress = on_progress  # hears each step start, and the run end

    def start(
        self, data_path: Path, overrides: dict[str, Any], *, data_md5: str | None = None
    ) -> tuple[Path, RunState]:
        """Create a new run directory with resolved parameters; return it and its state."""
        if not data_path.is_file():
            raise PipelineError(f"dataset not found: {data_path}", hint="run `mlops data pull` first")
        parameters: dict[str, Any] = self.spec.defaults()
        parameters.update(coerce_parameters(overrides))
        parameters["DataMd5"] = parameters["DataMd5"] or data_md5 or file_md5(data_path)
        parameters["InputDataUri"] = str(data_path)
        natural = Path(str(parameters["NaturalDataUri"]))
        natural = natural if natural.is_absolute() else self.repo / natural
        if not natural.is_file():
            raise PipelineError(
                f"hand-written held-out set not found: {natural}",
                hint="it is in git (data/natural_prompts.jsonl); or pass -p NaturalDataUri=FILE",
            )
        parameters["NaturalDataUri"] = str(natural)
        parameters["GitCommit"] = parameters["GitCommit"] or git_commit(self.repo)
        run_id = dt.datetime.now(dt.UTC).strftime("run-%Y%m%d-%H%M%S-%f")
        run_dir = runs_dir(self.state) / run_id
        for name, parameter in EXTERNAL_INPUTS.items():  # each external input, copied in from its parameter's path
            source = Path(str(parameters[parameter]))
            (run_dir / "inputs" / name).mkdir(parents=True)
            shutil.copy2(source, run_dir / "inputs" / name / source.name)
        state = RunState(
            run_id=run_id,
            pipeline=self.spec.name,
            spec_version=self.spec.version,
            spec_fingerprint=self.spec.fingerprint(),
            parameters=parameters,
            steps={s.name: StepRecord() for s in self.spec.steps},
        )
        state.save(run_dir)
        (runs_dir(self.state) / LATEST_FILE).write_text(run_dir.name + "\n")
        return run_dir, state

    def resume(self, run_dir: Path, from_step: str, overrides: dict[str, Any]) -> RunState:
        """Load a run for resuming at from_step, checking it is one of ours and its earlier steps succeeded."""
        names = self.spec.step_names()
        if from_step not in names:
            raise PipelineError(f"unknown step {from_step!r}", hint=f"steps are: {', '.join(names)}")
        state = RunState.load(run_dir)
        if state.pipeline != self.spec.name or state.spec_fingerprint != self.spec.fingerprint():
            raise PipelineError(
                f"{run_dir} was made by another pipeline version "
                f"({state.pipeline} v{state.spec_version}, {state.spec_fingerprint}; this is "
                f"{self.spec.name} v{self.spec.version}, {self.spec.fingerprint()})",
                hint="start a new run instead of resuming this one",
            )
        for name in names[: names.index(from_step)]:
            if state.steps[name].status != "succeeded":
                raise PipelineError(
                    f"cannot resume from {from_step!r}: step {name!r} is {state.steps[name].status} in {run_dir}",
                    hint=f"resume from {name!r}",
                )
        state.parameters.update(coerce_parameters(overrides))
        return state

    def execute(
        self, run_dir: Path, state: RunState, from_step: str | None = None, *, to_step: str | None = None
    ) -> RunState:
        """Run the steps from from_step (default: the first) to to_step (default: the last); raise on failure or a
        failed gate."""
        names = self.spec.step_names()
        start = names.index(from_step) if from_step else 0
        stop = names.index(to_step) if to_step else len(names) - 1
        gates = {g.name: g for g in self.spec.gates}
        state.status = "running"
        for index, step in enumerate(self.spec.steps):
            if index < start or index > stop:
                continue
            record = state.steps[step.name]
            record.status, record.message = "running", ""
            state.save(run_dir)
            self.echo(f"[{index + 1}/{len(names)}] {step.name}: {step.description}")
            report(self.on_progress, Progress("pipeline", f"[{index + 1}/{len(names)}] {step.name}", index, len(names)))
            began = time.perf_counter()
            try:
                if step.kind == "condition":
                    passed, detail = evaluate_gate(gates[step.name], run_dir, state.parameters)
                    record.message = detail
                    if not passed:
                        raise GateFailed(f"gate {step.name!r} failed: {detail}; {gates[step.name].fail_message}")
                else:
                    self._run_step(step, run_dir, state)
            except PipelineError as exc:
                record.status, record.seconds = "failed", time.perf_counter() - began
                record.message = record.message or str(exc)
                state.status = "failed"
                for later in self.spec.steps[index + 1 :]:
                    state.steps[later.name].status = "skipped"
                state.save(run_dir)
                raise
            record.status, record.seconds = "succeeded", time.perf_counter() - began
            state.save(run_dir)
            self.echo(f"      {step.name} done in {record.seconds:.1f}s {record.message}".rstrip())
        state.status = "succeeded"
        state.save(run_dir)
        report(self.on_progress, Progress("pipeline", state.status, len(names), len(names), done=True))
        return state

    def _run_step(self, step: Step, run_dir: Path, state: RunState) -> None:
        for artifact in step.outputs:
            out = artifact_dir(run_dir, step.name, artifact.name)
            shutil.rmtree(out, ignore_errors=True)  # a rerun starts from clean outputs
            out.mkdir(parents=True)
        env = dict(os.environ)
        env.update(step_environment(step, run_dir))
        env.update({"MLOPS_STATE_DIR": str(self.state), "MLOPS_PIPELINE_RUN": state.run_id})
        env.update(self.env)
        cmd = [sys.executable, "-m", step.entry_point, *step_arguments(step, state.parameters)]
        log_path = run_dir / step.name / "step.log"
        log.debug("running %s", " ".join(cmd))
        # Echoed as text through sys.stderr, not its buffer, so that a live progress display can keep it apart.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(cmd, cwd=self.repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            stdout = cast(IO[bytes], proc.stdout)  # stdout=PIPE: always a stream
            for chunk in iter(lambda: stdout.read1(4096), b""):  # type: ignore[attr-defined]
                log_file.write(chunk)
                sys.stderr.write(decoder.decode(chunk))
                sys.stderr.flush()
            code = proc.wait()
        if code != 0:
            raise PipelineError(f"step {step.name!r} failed (exit {code})", hint=f"see {log_path}")


def run_pipeline(
    overrides: dict[str, Any],
    *,
    data_path: Path | None = None,
    from_step: str | None = None,
    run_dir: Path | None = None,
    echo: Callable[[str], None] = print,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Run the pipeline in the project's state directory (or resume `run_dir`, default the latest, at `from_step`).

    Without `data_path`, the DVC-pinned dataset is materialised first. Returns the run's summary (`run_summary`).
    """
    from ml.dvc_data import materialize
    from ml.settings import project_root, state_dir

    runner = LocalRunner(state_dir(), project_root(), echo=echo, on_progress=on_progress)
    if from_step:
        run_dir = run_dir or latest_run(state_dir())
        state = runner.resume(run_dir, from_step, overrides)
        echo(f"resuming {run_dir} from {from_step}")
    else:
        if run_dir:
            raise PipelineError("--run-dir is only for resuming", hint="use it with --from STEP")
        md5 = None
        if data_path is None:
            version = materialize(project_root())
            data_path, md5 = project_root() / version.path, version.pinned_md5
        run_dir, state = runner.start(data_path, overrides, data_md5=md5)
        echo(f"run {state.run_id} in {run_dir} (data md5 {state.parameters['DataMd5']})")
    state = runner.execute(run_dir, state, from_step)
    return run_summary(run_dir, state)


# The step outputs a run's summary reads: (key, step, output, file).
SUMMARY_OUTPUTS = (
    ("evaluation", "evaluate", "evaluation", "evaluation.json"),
    ("benchmark", "benchmark", "benchmark", "benchmark.json"),
    ("registration", "register", "registration", "registration.json"),
)


def run_summary(run_dir: Path, state: RunState) -> dict[str, Any]:
    """Status, data md5, commit, per-step times and, where the steps got that far: scores, benchmark, registration."""
    summary: dict[str, Any] = {
        "run_id": state.run_id,
        "run_dir": str(run_dir),
        "status": state.status,
        "data_md5": state.parameters["DataMd5"],
        "git_commit": state.parameters["GitCommit"],
        "steps": {name: {"status": r.status, "seconds": r.seconds} for name, r in state.steps.items()},
    }
    for key, step, output, file in SUMMARY_OUTPUTS:
        path = artifact_dir(run_dir, step, output) / file
        if path.exists():
            summary[key] = json.loads(path.read_text())
    if "evaluation" in summary:
        summary["metrics"] = {k: v["value"] for k, v in summary.pop("evaluation")["metrics"].items()}
    return summary


def format_run_summary(summary: dict[str, Any]) -> str:
    """The summary as the lines `mlops pipeline run` prints."""
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
