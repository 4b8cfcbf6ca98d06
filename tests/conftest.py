"""Fixtures shared by all tests: an offline environment, a private state directory, data, a tiny model, moto."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from benchmarks.servers import free_port

ROOT = Path(__file__).resolve().parents[1]

# Everything local: no AWS, no hub, no telemetry. Subprocesses (CLI, steps, servers) inherit this.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "SAGEMAKER_VALIDATE_ROLE": "false",
        "HF_HUB_OFFLINE": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "DVC_NO_ANALYTICS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "GIT_AUTHOR_NAME": "tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    }
)
os.environ.pop("MLFLOW_TRACKING_URI", None)

# Property-based fuzzing: bounded and reproducible in CI ("ci", the default: the same examples every run, so a
# failure reproduces); HYPOTHESIS_PROFILE=long for a search that keeps looking (minutes, random seeds).
settings.register_profile(
    "ci", max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# How this process handles Ctrl-C when the tests begin (Python's KeyboardInterrupt handler).
SIGINT_AT_START = signal.getsignal(signal.SIGINT)


@pytest.fixture(autouse=True)
def sigint_kept(request: pytest.FixtureRequest) -> Iterator[None]:
    """Put Ctrl-C handling back after a test that changed it, and say which one.

    An ignored SIGINT is inherited by every subprocess this worker starts later, so a CLI under test could no longer
    be stopped with Ctrl-C: the Ctrl-C case of tests/fuzz/test_endpoint_faults.py timed out in two full runs on
    2026-12-03 and passed alone. Libraries do this while they wait for a child (DVC's stage runner, for one, and it
    restores the old handler only when that handler is truthy: SIG_DFL is 0); the warning names the test.
    """
    yield
    now = signal.getsignal(signal.SIGINT)
    if now != SIGINT_AT_START and SIGINT_AT_START is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, SIGINT_AT_START)
        warnings.warn(f"{request.node.nodeid} left SIGINT handled by {now!r}: restored", stacklevel=1)


@pytest.fixture(autouse=True)
def private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own state directory, so nothing touches the project's .mlops."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("MLOPS_STATE_DIR", str(state))
    yield state
    # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI; it must not leak into the next test's CLI calls.
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def wait_http(url: str, timeout: float = 60.0) -> None:
    """Poll url until it answers with a non-5xx status, or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up within {timeout}s")


def run_cli(
    *args: str, cwd: Path = ROOT, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the `mlops` CLI as a user would, in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"mlops {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def added_rows() -> int:
    """The rows of data/feedback.jsonl, which the DVC stage appends after the generated ones."""
    lines = (ROOT / "data" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip())


@pytest.fixture(scope="session")
def dataset_rows() -> list[dict]:
    """The full generated dataset (the same generator and parameters the DVC stage uses)."""
    import yaml

    from ml.datagen import generate

    params = yaml.safe_load((ROOT / "params.yaml").read_text())["data"]
    return generate(seed=params["seed"], per_intent=params["per_intent"])


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory, dataset_rows: list[dict]) -> Path:
    """A stratified 40-per-intent sample of the dataset: enough for fast end-to-end runs."""
    rng = random.Random(0)
    by_intent: dict[str, list[dict]] = {}
    for row in dataset_rows:
        by_intent.setdefault(row["intent"], []).append(row)
    sample = [r for rows in by_intent.values() for r in rng.sample(rows, 40)]
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in sample))
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, small_dataset: Path) -> Path:
    """A tiny DeBERTa-v3 trained for a few epochs on the small sample."""
    from ml.data import SplitConfig, load_examples, split_examples
    from ml.train_config import TrainConfig
    from ml.training import train

    splits = split_examples(load_examples(small_dataset), SplitConfig(seed=13))
    out = tmp_path_factory.mktemp("models") / "tiny"
    train(TrainConfig(epochs=4, patience=4), splits["train"], splits["validation"], out)
    return out


@pytest.fixture(scope="session")
def onnx_model(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny model with model.onnx and model.int8.onnx next to its weights (read-only for tests)."""
    from ml.export import export_fp32, quantize_int8

    model_dir = tmp_path_factory.mktemp("served") / "intent-model"
    shutil.copytree(tiny_model, model_dir)
    quantize_int8(export_fp32(model_dir))
    return model_dir


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server on loopback standing in for AWS; yields its endpoint URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/", timeout=30)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
