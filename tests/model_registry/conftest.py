"""A real `mlflow server` process for registry tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_http


@dataclass
class MlflowServer:
    """A running tracking server; `stop()` kills its whole process group (it forks workers)."""

    url: str
    store: Path
    proc: subprocess.Popen

    def stop(self) -> None:
        """Kill the server and its workers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def start_mlflow_server(root: Path, port: int | None = None) -> MlflowServer:
    """Start `mlflow server` on a SQLite store under root and wait for /health."""
    port = port or free_port()
    root.mkdir(parents=True, exist_ok=True)
    log = (root / "server.log").open("ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = MlflowServer(f"http://127.0.0.1:{port}", root, proc)
    try:
        wait_http(f"{server.url}/health", timeout=90)
    except TimeoutError:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A tracking server shared by a test module."""
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def onnx_export(tiny_model: Path, small_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An accepted ONNX export of the tiny model in its own directory (as the pipeline's export step writes it)."""
    from ml.data import SplitConfig, load_examples, split_examples
    from ml.export import export_model

    out = tmp_path_factory.mktemp("export") / "onnx"
    export_model(tiny_model, split_examples(load_examples(small_dataset), SplitConfig(seed=13))["test"], out_dir=out)
    return out
