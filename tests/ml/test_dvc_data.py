"""DVC versioning for real: a fresh clone materialises the pinned bytes; local and S3 (moto) remotes round-trip."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ml.data import file_md5
from ml.dvc_data import DATA_PATH, STAGE, data_version, materialize, pinned_md5, remote_url, run_dvc
from tests.conftest import ROOT, added_rows, run_cli

# What the DVC stage needs: its definition, lock, params and the generator code (ml/datagen/ is a package).
PROJECT_FILES = (
    "dvc.yaml",
    "dvc.lock",
    "params.yaml",
    ".dvcignore",
    ".dvc/config",
    "ml/__init__.py",
    "ml/datagen",
    "ml/taxonomy.py",
    "data/feedback.jsonl",
)


def git(repo: Path, *args: str) -> str:
    """Run git in repo and return stdout."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def project_clone(tmp_path: Path) -> Path:
    """A fresh git repository holding the project's DVC files as committed: no data, empty remote."""
    repo = tmp_path / "clone"
    for rel in PROJECT_FILES:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / rel).is_dir():
            shutil.copytree(ROOT / rel, repo / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / rel, repo / rel)
    (repo / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    (repo / ".gitignore").write_text(".mlops/\n__pycache__/\n")
    (repo / "data" / ".gitignore").write_text("/prompts.jsonl\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "clone")
    return repo


def test_the_project_pins_its_dataset() -> None:
    lock_md5 = pinned_md5(ROOT)
    assert lock_md5 and len(lock_md5) == 32
    proc = run_cli("data", "status", "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["pinned_md5"] == lock_md5 and status["path"] == DATA_PATH
    assert status["default_remote"] == "local"


def test_the_committed_lock_pins_the_dataset_alone() -> None:
    """Train and evaluate results are regenerated, never committed (docs/architecture.md#parameters-and-experiments)."""
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    assert set(stages) == {STAGE}, "commit the generate entry only: `git checkout dvc.lock && dvc repro generate`"


def test_fresh_clone_gets_the_exact_bytes_offline(project_clone: Path, private_state: Path) -> None:
    pinned = pinned_md5(project_clone)
    assert not (project_clone / DATA_PATH).exists()
    proc = run_cli("data", "pull", "--json", cwd=project_clone)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["in_sync"] and status["workspace_md5"] == pinned == file_md5(project_clone / DATA_PATH)
    # The bytes were pushed to the embedded default remote, content-addressed by their md5: in the state directory
    # in force (MLOPS_STATE_DIR), not the clone's .mlops that .dvc/config names.
    remote_object = private_state / "dvc-remote" / "files" / "md5" / pinned[:2] / pinned[2:]
    assert file_md5(remote_object) == pinned
    assert not (project_clone / ".mlops" / "dvc-remote").exists()
    # Registration names those bytes by their remote URL (the dataset source of a model version).
    assert remote_url(project_clone, pinned) == remote_object.as_uri()
    assert remote_url(project_clone, "0" * 32) is None and remote_url(project_clone.parent, pinned) is None
    assert git(project_clone, "status", "--porcelain") == ""  # nothing in git changed
    again = run_cli("data", "pull", "--json", cwd=project_clone)  # idempotent
    assert again.returncode == 0 and json.loads(again.stdout)["in_sync"]


def test_second_clone_pulls_from_the_remote_without_regenerating(project_clone: Path, tmp_path: Path) -> None:
    materialize(project_clone)
    second = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(project_clone), str(second))
    shutil.rmtree(second / "ml" / "datagen")  # regenerating is impossible now: the bytes must come from the remote
    version = materialize(second)  # from the remote in the state directory both clones share
    assert version.in_sync and version.workspace_md5 == pinned_md5(project_clone)


def test_a_local_remote_url_set_by_the_user_is_kept(project_clone: Path, tmp_path: Path, private_state: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    run_dvc(["remote", "modify", "--local", "local", "url", str(elsewhere)], project_clone)
    materialize(project_clone)
    assert (elsewhere / "files" / "md5").is_dir() and not (private_state / "dvc-remote").exists()


def test_regenerated_bytes_that_differ_from_the_pin_are_refused(project_clone: Path) -> None:
    from ml.errors import DataError

    pinned = pinned_md5(project_clone)
    lock_before = (project_clone / "dvc.lock").read_text()
    # A parameter edited without `dvc repro` + commit: regeneration cannot give the pinned bytes.
    params = project_clone / "params.yaml"
    params.write_text(params.read_text().replace("per_intent: 400", "per_intent: 399"))
    with pytest.raises(DataError, match=f"but dvc.lock pins {pinned}"):
        materialize(project_clone)
    assert (project_clone / "dvc.lock").read_text() == lock_before  # the pin is left as it was


def test_changed_dataset_gets_a_new_md5_and_the_old_one_stays_reachable(project_clone: Path) -> None:
    import dvc.api

    old = materialize(project_clone)
    old_rev = git(project_clone, "rev-parse", "HEAD")
    params = project_clone / "params.yaml"
    params.write_text(params.read_text().replace("per_intent: 400", "per_intent: 250"))
    run_dvc(["repro", STAGE], project_clone)  # the dataset's stage alone: the clone holds no training code
    run_dvc(["push"], project_clone)
    git(project_clone, "commit", "-qam", "smaller dataset")
    new = data_version(project_clone)
    assert new.in_sync and new.pinned_md5 != old.pinned_md5
    old_bytes = dvc.api.read(DATA_PATH, repo=str(project_clone), rev=old_rev, mode="rb")
    (project_clone / "old.jsonl").write_bytes(old_bytes)
    assert file_md5(project_clone / "old.jsonl") == old.pinned_md5
    assert len(old_bytes.splitlines()) == 4000 + added_rows()


def test_s3_remote_round_trip_on_moto(project_clone: Path, moto_server: str) -> None:
    import boto3

    from pipelines.sagemaker_pipeline import resolve_data_uri

    version = materialize(project_clone)
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket="intent-data")
    # The documented one-time configuration (docs/operations.md); credentials stay in config.local.
    run_dvc(["remote", "add", "s3", "s3://intent-data/dvc"], project_clone)
    run_dvc(["remote", "modify", "s3", "endpointurl", moto_server], project_clone)
    run_dvc(["remote", "modify", "--local", "s3", "access_key_id", "testing"], project_clone)
    run_dvc(["remote", "modify", "--local", "s3", "secret_access_key", "testing"], project_clone)
    pushed = json.loads(run_cli("data", "push", "-r", "s3", "--json", cwd=project_clone, check=True).stdout)
    assert pushed["remote"] == "s3" and pushed["pushed_files"] >= 1 and pushed["pinned_md5"] == version.pinned_md5
    again = run_cli("data", "push", "-r", "s3", cwd=project_clone, check=True).stdout
    assert again.strip() == "pushed 0 file(s) to s3"  # the remote has it already

    shutil.rmtree(project_clone / ".dvc" / "cache")
    (project_clone / DATA_PATH).unlink()
    run_dvc(["pull", "-r", "s3"], project_clone)
    assert file_md5(project_clone / DATA_PATH) == version.pinned_md5

    uri = resolve_data_uri(project_clone, "s3")  # what a SageMaker run trains on
    md5 = version.pinned_md5
    assert uri == f"s3://intent-data/dvc/files/md5/{md5[:2]}/{md5[2:]}"
    body = s3.get_object(Bucket="intent-data", Key=uri.removeprefix("s3://intent-data/"))["Body"].read()
    assert body == (project_clone / DATA_PATH).read_bytes()
