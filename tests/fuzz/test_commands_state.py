"""A moved or copied state directory works on its own: a real SQLite MLflow store and a local run are made in one
directory, the directory is copied (the original moved away) and the copy is used; nothing is written where the
original was, and the copy reads its own artifacts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ml.model import MODEL_INFO_FILE, REQUIRED_FILES, ModelInfo
from ml.settings import state_dir
from tests.conftest import ROOT, run_cli

DATA = ROOT / "data" / "natural_prompts.jsonl"


def _model_dir(root: Path, seed: str) -> Path:
    """The files of a model directory (registration copies them; nothing here loads them)."""
    root.mkdir(parents=True)
    for name in REQUIRED_FILES:
        (root / name).write_text(json.dumps({"seed": seed}))
    ModelInfo().save(root)
    assert (root / MODEL_INFO_FILE).is_file()
    return root


def _register(model_dir: Path) -> str:
    from model_registry.registration import Lineage, register_model

    lineage = Lineage(data_md5="0" * 32, git_commit="test", params={}, metrics={"macro_f1": 0.9}, history=[])
    return register_model(model_dir, lineage).version


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def _use(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this process at `state`, as a new process would be (mlflow exports the URI it was last given)."""
    monkeypatch.setenv("MLOPS_STATE_DIR", str(state))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_commands_a_copied_state_directory_works_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from model_registry.artifacts import download_model
    from pipelines.local_runner import LocalRunner, latest_run

    original = tmp_path / "original" / ".mlops"
    _use(original, monkeypatch)
    first = _register(_model_dir(tmp_path / "m1", "one"))
    run_dir, _ = LocalRunner(state_dir(), ROOT, echo=lambda _: None).start(DATA, {}, data_md5="0" * 32)

    copy = tmp_path / "copy" / ".mlops"
    shutil.copytree(original, copy)
    moved_away = tmp_path / "original-moved"
    shutil.move(tmp_path / "original", moved_away)  # anything the copy still pointed at would reappear here
    _use(copy, monkeypatch)

    assert latest_run(state_dir()) == copy / "runs" / run_dir.name
    second = _register(_model_dir(tmp_path / "m2", "two"))
    downloaded = download_model(f"models:/intent-classifier/{first}", tmp_path / "download")
    assert json.loads((downloaded / "config.json").read_text()) == {"seed": "one"}
    shown = run_cli("registry", "show", second, "--json", check=True)
    assert str(tmp_path / "original") not in shown.stdout
    # The version's MLflow Model is stored in the copy, not where the state was copied from.
    from mlflow.tracking import MlflowClient

    logged = MlflowClient(tracking_uri=f"sqlite:///{copy / 'mlflow.db'}").get_logged_model(
        json.loads(shown.stdout)["model_id"]
    )
    assert str(copy) in logged.artifact_location and str(tmp_path / "original") not in logged.artifact_location
    assert not (tmp_path / "original").exists(), _files(tmp_path / "original")
    # The original, moved, was relocated on its first use too, and still holds only its own version.
    _use(moved_away / ".mlops", monkeypatch)
    assert download_model(f"models:/intent-classifier/{first}", tmp_path / "again").is_dir()
    assert not (tmp_path / "original").exists()


def test_commands_state_relocate_from_a_location_it_did_not_record(tmp_path: Path) -> None:
    old = tmp_path / "old"
    (old / "runs").mkdir(parents=True)
    (old / "runs" / "LATEST").write_text(f"{old}/runs/run-1\n")
    new = tmp_path / "new"
    shutil.copytree(old, new)
    proc = run_cli("state", "relocate", "--from", str(old), "--json", env={"MLOPS_STATE_DIR": str(new)}, check=True)
    assert json.loads(proc.stdout)["run_files"] == 1
    assert (new / "runs" / "LATEST").read_text() == f"{new}/runs/run-1\n"


def test_commands_a_state_directory_that_cannot_be_relocated_fails_in_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / ".state-home").write_text(f"{tmp_path / 'elsewhere'}\n")
    (state / "mlflow.db").write_text("not a database")
    proc = run_cli("registry", "list", env={"MLOPS_STATE_DIR": str(state)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "was moved or copied from" in proc.stderr and "could not be rewritten" in proc.stderr
