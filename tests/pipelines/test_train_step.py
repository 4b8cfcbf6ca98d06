"""The train step as SageMaker's Torchrun launcher starts it: several processes, one model, one report; and the
Hugging Face token read from Secrets Manager before anything trains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ml.data import SplitConfig, file_md5, load_examples, split_examples, write_splits
from pipelines.steps.contract import HF_TOKEN_SECRET_ENV, env_var
from pipelines.steps.train import TRAINING_REPORT


@pytest.fixture(scope="module")
def splits_dir(small_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prepare step's output for the small sample."""
    out = tmp_path_factory.mktemp("splits")
    write_splits(split_examples(load_examples(small_dataset), SplitConfig(seed=13)), out,
                 source_md5=file_md5(small_dataset))  # fmt: skip
    return out


def _step_env(splits_dir: Path, out: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", env_var("splits"): str(splits_dir)}
    env |= {env_var("model"): str(out / "model"), env_var("metrics"): str(out / "metrics"), **extra}
    return env


def test_torchrun_with_two_processes_trains_one_model_and_writes_it_once(splits_dir: Path, tmp_path: Path) -> None:
    from ml.model import load_model
    from ml.predict import predict_logits

    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "pipelines.steps.train", "--epochs", "2", "--max-length", "64"],
        env=_step_env(splits_dir, tmp_path), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    # Both processes trained together (gloo on the CPU), each on its share of the batches ...
    assert "process 1 of 2" in proc.stderr and "process 2 of 2" in proc.stderr
    # ... and one of them wrote the outputs: a report saying so, and a model the predictor loads.
    report = json.loads((tmp_path / "metrics" / TRAINING_REPORT).read_text())
    assert report["environment"]["processes"] == "2" and report["environment"]["device"] == "cpu"
    assert len(report["history"]) == 2 and report["history"][-1]["train_loss"] < report["history"][0]["train_loss"]
    model, tokenizer, info = load_model(tmp_path / "model")
    assert predict_logits(model, tokenizer, info, ["Translate this into French", "hi"]).shape == (2, len(info.labels))


def test_a_token_secret_that_cannot_be_read_fails_the_job_before_training(
    splits_dir: Path, tmp_path: Path, moto_server: str
) -> None:
    aws = {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", HF_TOKEN_SECRET_ENV: "hf/missing-token"}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.steps.train", "--epochs", "1"],
        env=_step_env(splits_dir, tmp_path, **aws),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "cannot read the secret 'hf/missing-token'" in proc.stderr and "GetSecretValue" in proc.stderr
    assert not (tmp_path / "model").exists() and not (tmp_path / "metrics").exists()
