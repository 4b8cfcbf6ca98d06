"""Registry test helpers: stand-in versions registered the real way (no training), a real SQLite lock, forgery.

A stand-in model directory holds placeholder bytes: registration only hashes and uploads them. With `parity`, a
stand-in ONNX export (placeholder graphs and an accepted export report) goes along, so the version gets its
parity evidence and a real SageMaker package, as the pipeline's register step gives it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ml.model import ModelInfo
from ml.taxonomy import INTENTS

NAME = "intent-classifier"
GOOD_METRICS = {"accuracy": 0.95, "macro_f1": 0.94, "macro_precision": 0.95, "macro_recall": 0.94}
# A benchmark step's report (pipelines/steps/benchmark.py): its summary and the latency gate's verdict.
GOOD_BENCH: dict[str, Any] = {
    "p50_ms": 40.0,
    "p95_ms": 120.0,
    "p99_ms": 180.0,
    "throughput_rps": 55.0,
    "errors": 0,
    "budget_ms": 500.0,
    "passed": True,
}


def standin_model(root: Path, key: str, labels: list[str] | None = None) -> Path:
    """A model directory whose digest differs by `key` (placeholder weights, config and tokenizer)."""
    model_dir = root / f"model-{key}"
    model_dir.mkdir(parents=True)
    for file_name in ("config.json", "model.safetensors", "tokenizer.json"):
        (model_dir / file_name).write_text("{}")
    ModelInfo(labels=labels or list(INTENTS), source=f"test-{key}").save(model_dir)
    return model_dir


def standin_export(root: Path, key: str) -> Path:
    """An accepted ONNX export of placeholder graphs: what registration reads from the export step."""
    onnx_dir = root / f"onnx-{key}"
    onnx_dir.mkdir(parents=True)
    files = {}
    for file_name in ("model.onnx", "model.int8.onnx"):
        data = f"onnx graph {key} {file_name}".encode()
        (onnx_dir / file_name).write_bytes(data)
        files[file_name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    report = {"passed": True, "files": files, "measured": {"fp32_max_abs_diff": 1e-6, "int8_argmax_agreement": 1.0}}
    (onnx_dir / "export_report.json").write_text(json.dumps(report))
    return onnx_dir


def benchmark_report(bench: dict[str, Any]) -> dict[str, Any]:
    """The benchmark step's report for flat figures (GOOD_BENCH's keys)."""
    summary = {k: bench[k] for k in ("p50_ms", "p95_ms", "p99_ms", "throughput_rps", "errors")}
    return {"summary": summary, "gate": {"budget_ms": bench["budget_ms"], "passed": bench["passed"]}}


def register_standin(
    root: Path,
    key: str,
    *,
    metrics: dict[str, float] | None = None,
    labels: list[str] | None = None,
    parity: bool = True,
    bench: dict[str, Any] | None = None,
    no_bench: bool = False,
    tracking_uri: str | None = None,
) -> str:
    """Register a distinct stand-in with its evidence (`bench` overrides GOOD_BENCH's figures); return the version."""
    from model_registry.registration import Lineage, register_model

    lineage = Lineage(
        data_md5="0" * 32,
        git_commit="c" * 40,
        params={"model": "tiny"},
        metrics=metrics or GOOD_METRICS,
        history=[],
        benchmark=None if no_bench else benchmark_report({**GOOD_BENCH, **(bench or {})}),
    )
    onnx_dir = standin_export(root, key) if parity else None
    model_dir = standin_model(root, key, labels)
    return register_model(model_dir, lineage, tracking_uri=tracking_uri, onnx_dir=onnx_dir).version


def client(tracking_uri: str | None = None) -> Any:
    """An MlflowClient on tracking_uri (default: the configured one)."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri, tracking_uri) if tracking_uri else MlflowClient()


def champion(tracking_uri: str | None = None) -> str | None:
    """The version the champion alias names, as a string."""
    version = client(tracking_uri).get_registered_model(NAME).aliases.get("champion")
    return None if version is None else str(version)  # MLflow returns alias targets as ints


def audit_tags(version: str, tracking_uri: str | None = None) -> dict[str, dict[str, Any]]:
    """The audit records tagged on a version."""
    tags = client(tracking_uri).get_model_version(NAME, version).tags
    return {k: json.loads(v) for k, v in tags.items() if k.startswith("audit.")}


def sqlite_path(tracking_uri: str) -> Path:
    """The database file of a sqlite:/// tracking URI."""
    return Path(tracking_uri.removeprefix("sqlite:///"))


@contextlib.contextmanager
def locked_store(tracking_uri: str) -> Iterator[None]:
    """Hold an exclusive lock on a SQLite registry, as another writer (a second promote, a backup) would."""
    connection = sqlite3.connect(sqlite_path(tracking_uri), isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        connection.close()


@contextlib.contextmanager
def short_busy_wait(ms: int = 50) -> Iterator[None]:
    """MLflow waits 20 s on a locked SQLite store (its PRAGMA busy_timeout); make that `ms` for a test.

    Only the wait changes: the lock, the store and MLflow's handling of it are the real ones.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def rewrite(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> Any:
        if statement.startswith("PRAGMA busy_timeout"):
            statement = f"PRAGMA busy_timeout = {ms};"
        return statement, parameters

    event.listen(Engine, "before_cursor_execute", rewrite, retval=True)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", rewrite)


# `python -c` prelude: the CLI exactly as a user runs it, with MLflow's lock wait shortened (short_busy_wait).
CLI_WITH_SHORT_BUSY_WAIT = (
    "import sys; from tests.model_registry.standins import short_busy_wait; from mlops_cli.main import cli\n"
    "with short_busy_wait(): cli(sys.argv[1:], prog_name='mlops')"
)
