"""Where the project keeps its local state, and the environment variables that move it."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_ENV = "MLOPS_STATE_DIR"


def project_root(start: Path | None = None) -> Path:
    """Return the nearest directory at or above `start` (default: cwd) holding a `.dvc` folder, else `start`."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".dvc").is_dir():
            return candidate
    return here


def state_dir() -> Path:
    """Return the local state directory (MLflow store, runs, models): `$MLOPS_STATE_DIR` or `<project>/.mlops`."""
    configured = os.environ.get(STATE_DIR_ENV)
    path = Path(configured) if configured else project_root() / ".mlops"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def default_data_path() -> Path:
    """Return the DVC-tracked dataset file of the project."""
    return project_root() / "data" / "prompts.jsonl"
