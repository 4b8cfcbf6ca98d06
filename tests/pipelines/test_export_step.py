"""The export step entry point under the script contract: SageMaker's model.tar.gz input, and a refused export."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from pipelines.steps.contract import env_var


@pytest.fixture(scope="module")
def splits_dir(small_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The prepare step's output for the small dataset (the split the tiny model was trained on)."""
    from ml.data import SplitConfig, load_examples, split_examples, write_splits

    out = tmp_path_factory.mktemp("splits")
    write_splits(split_examples(load_examples(small_dataset), SplitConfig(seed=13)), out, source_md5="0" * 32)
    return out


def _as_training_output(model_dir: Path, channel: Path) -> Path:
    """The model as SageMaker hands a training job's output to a processing job: one model.tar.gz."""
    channel.mkdir(parents=True)
    with tarfile.open(channel / "model.tar.gz", "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return channel


def test_export_step_reads_a_model_tarball_and_writes_the_onnx_output(
    tiny_model: Path, splits_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.steps import export

    out = tmp_path / "output" / "onnx"
    monkeypatch.setenv(env_var("model"), str(_as_training_output(tiny_model, tmp_path / "input" / "model")))
    monkeypatch.setenv(env_var("splits"), str(splits_dir))
    monkeypatch.setenv(env_var("onnx"), str(out))
    assert export.main([]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["export_report.json", "model.int8.onnx", "model.onnx"]
    report = json.loads((out / "export_report.json").read_text())
    assert (
        report["passed"]
        and report["inputs"]["labelled"]
        == json.loads((splits_dir / "manifest.json").read_text())["splits"]["test"]["rows"]
    )
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == ["onnx"]  # no staging directory left


def test_a_refused_export_fails_the_step_and_writes_nothing(
    tiny_model: Path,
    splits_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import ml.export
    from pipelines.steps import export

    out = tmp_path / "onnx"
    out.mkdir()  # as SageMaker and the local runner create it
    monkeypatch.setenv(env_var("model"), str(tiny_model))
    monkeypatch.setenv(env_var("splits"), str(splits_dir))
    monkeypatch.setenv(env_var("onnx"), str(out))
    impossible = ml.export.ParityThresholds(fp32_max_abs_diff=-1.0)
    monkeypatch.setattr(ml.export, "ParityThresholds", lambda: impossible)  # the defaults the step uses
    assert export.main([]) == 1
    assert list(out.iterdir()) == []
    assert "fp32_max_abs_diff" in caplog.text and "FAILED" in caplog.text
