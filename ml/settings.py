"""Project-wide settings: the registered model's name, the latency budget, and where local state lives."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# The MLflow registered model every command defaults to (DESIGN: "intent-classifier", configurable per command).
REGISTERED_MODEL_NAME = "intent-classifier"
# The latency budget: the benchmark gate, promotion, shift guards and guardrail alarms all default to it.
P95_BUDGET_MS = 500.0
# The requests each variant with traffic must serve in a step of a stepwise shift before the step is judged: fewer
# extend the bake, and a step still short of them at its longest bake reverts ("insufficient evidence").
MIN_STEP_INVOCATIONS = 30
STATE_DIR_ENV = "MLOPS_STATE_DIR"
# The lock of the environment code runs in: the project's own, or the one an image was built from (its path in
# MLOPS_ENV_LOCK). Its digest is recorded on every model trained there.
LOCK_FILE = "requirements.lock"
LOCK_ENV = "MLOPS_ENV_LOCK"
# The image a SageMaker job runs in (set by the pipeline definition), recorded with what it trains.
IMAGE_ENV = "MLOPS_TRAINING_IMAGE"
# Libraries whose versions decide what a trained model is, recorded with it.
RECORDED_LIBRARIES = ("torch", "transformers", "tokenizers", "numpy", "onnx", "onnxruntime")


def project_root(start: Path | None = None) -> Path:
    """Return the nearest directory at or above `start` (default: cwd) holding a `.dvc` folder, else `start`."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".dvc").is_dir():
            return candidate
    return here


def state_dir(*, relocate: bool = True) -> Path:
    """Return the local state directory (MLflow store, runs, models): `$MLOPS_STATE_DIR` or `<project>/.mlops`.

    A state directory that was moved or copied is relocated on first use (`ml.state.relocate`): its MLflow store
    and run pointers held the absolute paths of where it was, and would keep writing there.
    """
    configured = os.environ.get(STATE_DIR_ENV)
    path = Path(configured) if configured else project_root() / ".mlops"
    path.mkdir(parents=True, exist_ok=True)
    path = path.resolve()
    if relocate:
        from ml.state import ensure_home

        ensure_home(path)
    return path


def default_data_path() -> Path:
    """Return the DVC-tracked dataset file of the project."""
    return project_root() / "data" / "prompts.jsonl"


def natural_set_path(root: Path | None = None) -> Path:
    """Return the hand-written evaluation set (docs/labeling.md) of `root` (default: this project): never generated,
    never trained on."""
    return (root or project_root()) / "data" / "natural_prompts.jsonl"


def environment_lock() -> Path | None:
    """The lock file this environment was installed from, if it can be found."""
    configured = os.environ.get(LOCK_ENV)
    path = Path(configured) if configured else project_root() / LOCK_FILE
    return path if path.is_file() else None


def environment() -> dict[str, str]:
    """Python, the recorded libraries' versions, the image (or "local"), and the lock's name and sha256 (or "none")."""
    import hashlib
    import platform
    from importlib.metadata import PackageNotFoundError, version

    record = {"python": platform.python_version()}
    for name in RECORDED_LIBRARIES:
        try:
            record[name] = version(name)
        except PackageNotFoundError:
            record[name] = "not installed"
    lock = environment_lock()
    record["lock"] = lock.name if lock else "none"
    record["lock_sha256"] = hashlib.sha256(lock.read_bytes()).hexdigest() if lock else "none"
    record["image"] = os.environ.get(IMAGE_ENV) or "local"
    return record


def git_commit(repo: Path) -> str:
    """HEAD's commit in repo, suffixed '-dirty' when tracked files have changes; 'unknown' outside git."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True, check=False
    )
    # A model trained from uncommitted changes cannot be reproduced from the commit alone: say so.
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
