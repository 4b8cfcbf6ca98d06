"""`mlops registry reproduce`: a version rebuilt from its record (real git, DVC cache, pipeline steps and MLflow)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pytest

from ml.data import file_md5
from ml.dvc_data import DATA_PATH, pinned_md5
from ml.errors import DataError
from ml.evaluation import HEADLINE_METRICS, REPORT_FILE
from model_registry.registration import Lineage, register_model
from model_registry.tracking import RegistryError
from pipelines.local_runner import LocalRunner, artifact_dir
from pipelines.reproduce import ReproduceError, Reproduction, dataset_copy, format_reproduction, reproduce
from pipelines.steps.train import TRAINING_REPORT
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow


def git(repo: Path, *args: str) -> str:
    """Run git in repo and return stdout."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def cache_path(repo: Path, md5: str) -> Path:
    """Where DVC caches the file with this md5 (as `dvc add` or `dvc pull` leave it)."""
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        return Path(dvc_repo.cache.local.oid_to_path(md5))


def store_in_dvc_cache(repo: Path, data: Path, md5: str | None = None) -> str:
    """Put a dataset in the DVC cache under its md5 (or, to fake a corrupt cache, another); return the md5."""
    md5 = md5 or file_md5(data)
    path = cache_path(repo, md5)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(data, path)
    return md5


@dataclass(frozen=True)
class Trained:
    """A project repository, the commit a model was trained from by the pipeline's steps, the model and its lineage."""

    repo: Path
    model_dir: Path
    lineage: Lineage


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, small_dataset: Path) -> Trained:
    """The project committed to a fresh git repository, its data in the DVC cache only, a model trained there by the
    pipeline's prepare/train/evaluate steps; then one more commit, so HEAD is no longer the model's commit."""
    root = tmp_path_factory.mktemp("reproduce")
    repo = root / "repo"
    for rel in git(ROOT, "ls-files", "-co", "--exclude-standard").splitlines():
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the code a model is trained from")
    commit = git(repo, "rev-parse", "HEAD")
    md5 = store_in_dvc_cache(repo, small_dataset)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_STATE_DIR", str(root / "state"))
        runner = LocalRunner(root / "state", repo, echo=lambda _: None)
        run_dir, state = runner.start(small_dataset, {"Epochs": 1}, data_md5=md5)
        runner.execute(run_dir, state, to_step="evaluate")
    training = json.loads((artifact_dir(run_dir, "train", "metrics") / TRAINING_REPORT).read_text())
    evaluation = json.loads((artifact_dir(run_dir, "evaluate", "evaluation") / REPORT_FILE).read_text())
    lineage = Lineage(
        data_md5=md5,
        git_commit=commit,
        params=training["params"],
        metrics={name: evaluation["metrics"][name]["value"] for name in HEADLINE_METRICS},
        history=training["history"],
        environment=training["environment"],
    )
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nA later change.\n")
    git(repo, "commit", "-qam", "a later commit")
    return Trained(repo, artifact_dir(run_dir, "train", "model"), lineage)


def as_reproduction(result: dict) -> Reproduction:
    """The Reproduction that `--json` printed."""
    return Reproduction(**{f.name: result[f.name] for f in fields(Reproduction)})


def register_variant(trained: Trained, tmp_path: Path, **changes: object) -> str:
    """Register a distinct copy of the trained model (its record says `changes`); return the version."""
    model_dir = tmp_path / f"variant-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(trained.model_dir, model_dir)
    info = json.loads((model_dir / "intent_model.json").read_text())
    info["extra"]["variant"] = model_dir.name
    (model_dir / "intent_model.json").write_text(json.dumps(info))
    return register_model(model_dir, replace(trained.lineage, **changes)).version  # type: ignore[arg-type]


def test_a_fresh_version_rebuilds_byte_for_byte(trained: Trained) -> None:
    version = register_model(trained.model_dir, trained.lineage).version
    assert trained.lineage.environment["reproducible"].startswith("bitwise")

    proc = run_cli("registry", "reproduce", version, "--json", cwd=trained.repo)

    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["match"] and result["differences"] == []
    assert result["reproduced"] == result["registered"]
    assert set(result["registered"]) >= {"model_digest", "labels", "metric.macro_f1", "metric.accuracy"}
    assert result["code"] == "a temporary worktree" and result["data_source"].startswith("DVC's store")
    assert result["torch_threads"] == trained.lineage.environment["torch_threads"]
    assert git(trained.repo, "worktree", "list").count("\n") == 0  # the worktree is gone
    assert "\nmatch: " + result["registered"]["model_digest"] in format_reproduction(as_reproduction(result))


def test_a_record_pointing_at_changed_data_is_a_mismatch(trained: Trained, tmp_path: Path) -> None:
    changed = tmp_path / "changed.jsonl"
    rows = cache_path(trained.repo, trained.lineage.data_md5).read_text().splitlines(keepends=True)
    changed.write_text("".join(rows[:-20]))  # 20 prompts fewer: another dataset
    changed_md5 = store_in_dvc_cache(trained.repo, changed)
    promise = "not promised: GPU kernels (cuBLAS, atomics) may differ between runs, and do between GPU models"
    version = register_variant(
        trained,
        tmp_path,
        data_md5=changed_md5,
        environment={**trained.lineage.environment, "reproducible": promise},
    )

    proc = run_cli("registry", "reproduce", version, "--json", cwd=trained.repo)

    assert proc.returncode == 1, proc.stderr
    assert "rebuilt differently" in proc.stderr and "(expected: the record does not promise" in proc.stderr
    result = json.loads(proc.stdout)
    assert not result["match"] and not result["promised"] and result["data_md5"] == changed_md5
    assert any(d.startswith("model_digest: registered ") for d in result["differences"])
    text = format_reproduction(as_reproduction(result))
    assert result["registered"]["model_digest"] in text and result["reproduced"]["model_digest"] in text
    assert "MISMATCH (expected: the record does not promise a bitwise rebuild)" in text


def test_clear_errors_for_records_that_cannot_be_rebuilt(trained: Trained, tmp_path: Path) -> None:
    no_data = register_variant(trained, tmp_path, data_md5="")
    with pytest.raises(RegistryError, match="no version or alias '99'"):
        reproduce("99", repo=trained.repo)
    with pytest.raises(ReproduceError, match="records no data md5"):
        reproduce(no_data, repo=trained.repo)
    foreign = register_variant(trained, tmp_path, git_commit="f" * 40)
    with pytest.raises(ReproduceError, match=f"commit {'f' * 40}, which the repository .* does not have"):
        reproduce(foreign, repo=trained.repo)
    dirty = register_variant(trained, tmp_path, git_commit=trained.lineage.git_commit + "-dirty")
    with pytest.raises(ReproduceError, match="uncommitted changes"):
        reproduce(dirty, repo=trained.repo)

    # An md5 that DVC holds no copy of (the cached file under it has other bytes) and the commit does not pin.
    missing = store_in_dvc_cache(trained.repo, cache_path(trained.repo, trained.lineage.data_md5), "0" * 32)
    lost = register_variant(trained, tmp_path, data_md5=missing)
    with pytest.raises(DataError, match=f"data md5 {missing} is neither in the DVC cache nor in the remote"):
        reproduce(lost, repo=trained.repo)
    assert git(trained.repo, "worktree", "list").count("\n") == 0

    proc = run_cli("registry", "reproduce", foreign, cwd=trained.repo)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("Error: ") and "hint: fetch it" in proc.stderr
    assert not (trained.repo / DATA_PATH).exists()  # nothing was materialised in the checkout


def test_data_in_no_store_is_rebuilt_by_the_commits_dvc_stage(trained: Trained, tmp_path: Path) -> None:
    pinned = pinned_md5(trained.repo)  # the project's dataset: in no cache or remote of this repository yet
    assert pinned and not cache_path(trained.repo, pinned).exists()

    data, source = dataset_copy(trained.repo, trained.lineage.git_commit, pinned, tmp_path / "first")

    assert file_md5(data) == pinned and source.startswith("rebuilt by the DVC stage of commit ")
    assert git(trained.repo, "worktree", "list").count("\n") == 0 and not (trained.repo / DATA_PATH).exists()
    again, source = dataset_copy(trained.repo, trained.lineage.git_commit, pinned, tmp_path / "again")
    assert source.startswith("DVC's store") and file_md5(again) == pinned  # the rebuild was pushed to the remote
