"""DVC-versioned data: which version is in use, and materialising it in a fresh clone with no network.

The dataset is the output of the DVC stage `generate` (dvc.yaml), whose md5 `dvc.lock` pins. A fresh clone
gets the exact bytes from the default remote (`local`, a directory in the state dir) when it has them, else by
reproducing the stage and checking the result against the pinned md5; the bytes are then pushed to the remote
so every version stays reachable by git revision (see docs/architecture.md, "Data").
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ml.data import file_md5
from ml.errors import DataError, first_line

log = logging.getLogger(__name__)

DATA_PATH = "data/prompts.jsonl"
STAGE = "generate"
# Rows added by `mlops data add` (git-tracked; the `generate` stage appends them, dvc.yaml) and the record of the
# data versions it made: one JSON line each (md5, parent_md5, source, rows, time, git revision).
FEEDBACK_PATH = "data/feedback.jsonl"
VERSIONS_PATH = "data/versions.jsonl"
# The default remote, committed in .dvc/config, and its directory inside the state directory.
LOCAL_REMOTE = "local"
STATE_REMOTE_DIR = "dvc-remote"


@dataclass(frozen=True)
class DataVersion:
    """The dataset version a checkout pins and what the workspace holds."""

    path: str
    pinned_md5: str | None
    workspace_md5: str | None
    git_revision: str | None
    default_remote: str | None
    # From data/versions.jsonl when `mlops data add` made the pinned version; None otherwise.
    parent_md5: str | None = None
    source: str | None = None

    @property
    def in_sync(self) -> bool:
        """True when the workspace file is exactly the pinned version."""
        return self.pinned_md5 is not None and self.pinned_md5 == self.workspace_md5

    def to_dict(self) -> dict:
        """Plain dict, including `in_sync`."""
        return {**asdict(self), "in_sync": self.in_sync}


def _dvc_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DVC_NO_ANALYTICS", "1")
    # Stage commands call `python`; make it the interpreter running us, not whatever is first on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_dvc(args: list[str], repo: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a DVC command in `repo` with the current interpreter; raise DataError with DVC's message on failure."""
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=repo, env=_dvc_env(), capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise DataError(f"`dvc {' '.join(args)}` failed: {detail[-1] if detail else 'no output'}")
    return proc


def pinned_md5(repo: Path, path: str = DATA_PATH) -> str | None:
    """The md5 that dvc.lock (or a .dvc pointer) pins for `path`, or None when nothing pins it."""
    import yaml

    lock = repo / "dvc.lock"
    if lock.exists():
        stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {})
        for stage in stages.values():
            for out in stage.get("outs", []):
                if out.get("path") == path:
                    return out.get("md5")
    pointer = repo / f"{path}.dvc"
    if pointer.exists():
        outs = (yaml.safe_load(pointer.read_text()) or {}).get("outs", [])
        return outs[0].get("md5") if outs else None
    return None


def git_revision(repo: Path) -> str | None:
    """The commit HEAD names in `repo`, or None outside a git repository (or before its first commit)."""
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _default_remote(repo: Path) -> str | None:
    proc = run_dvc(["remote", "default"], repo, check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def data_version(repo: Path, path: str = DATA_PATH) -> DataVersion:
    """Describe the pinned and the present version of the dataset in `repo`."""
    repo = Path(repo)
    if not (repo / ".dvc").is_dir():
        raise DataError(f"{repo} is not a DVC repository", hint="run commands from the project root")
    file = repo / path
    pinned = pinned_md5(repo, path)
    record = version_record(repo, pinned) if path == DATA_PATH else {}
    return DataVersion(
        path=path,
        pinned_md5=pinned,
        workspace_md5=file_md5(file) if file.is_file() else None,
        git_revision=git_revision(repo),
        default_remote=_default_remote(repo),
        parent_md5=record.get("parent_md5"),
        source=record.get("source"),
    )


def version_records(repo: Path) -> dict[str, dict[str, Any]]:
    """The records of data/versions.jsonl by md5 (a later line wins); empty when the file does not exist."""
    path = Path(repo) / VERSIONS_PATH
    if not path.is_file():
        return {}
    records: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{number}: not valid JSON ({exc.msg})", hint=f"restore it from git: `git checkout {path}`"
            ) from exc
        if not isinstance(record, dict) or not isinstance(record.get("md5"), str):
            raise DataError(f"{path}:{number}: expected an object with an md5", hint=f"`git checkout {path}`")
        records[record["md5"]] = record
    return records


def version_record(repo: Path, md5: str | None) -> dict[str, Any]:
    """The data/versions.jsonl record of a data version (md5, parent_md5, source, ...), or {} when it has none."""
    return version_records(repo).get(md5 or "", {})


def lineage(repo: Path, md5: str) -> list[dict[str, Any]]:
    """The chain of data versions from `md5` back through its parents, newest first, as data/versions.jsonl records
    them; it ends at the first version with no record (a generated one), so it is empty when `md5` has none."""
    records = version_records(repo)
    chain: list[dict[str, Any]] = []
    current: str | None = md5
    while current in records and all(r["md5"] != current for r in chain):  # a cycle would be a hand edit
        chain.append(records[current])
        current = records[current].get("parent_md5")
    return chain


def materialize(repo: Path, path: str = DATA_PATH, *, push_reproduced: bool = True) -> DataVersion:
    """Make the workspace hold the pinned dataset: pull from the default remote, else reproduce, verify and (unless
    `push_reproduced` is false) push it there for the next clone."""
    repo = Path(repo)
    version = data_version(repo, path)
    if version.in_sync:
        return version
    if version.pinned_md5 is None:
        raise DataError(f"no DVC pin for {path}", hint=f"run `dvc repro {STAGE}` and commit dvc.lock")
    try:
        _transfer(repo, "pull", targets=[str(repo / path)])  # in process, targets are relative to the cwd
        pulled = True
    except DataError as exc:
        log.info("%s", exc)
        pulled = False
    if pulled and data_version(repo, path).in_sync:
        log.info("pulled %s (%s) from remote %s", path, version.pinned_md5, version.default_remote)
        return data_version(repo, path)
    log.info("remote has no copy of %s; reproducing stage %r", version.pinned_md5, STAGE)
    lock = repo / "dvc.lock"
    saved_lock = lock.read_bytes() if lock.exists() else None
    run_dvc(["repro", STAGE], repo)
    after = data_version(repo, path)
    if after.workspace_md5 != version.pinned_md5:
        if saved_lock is not None:
            lock.write_bytes(saved_lock)
        raise DataError(
            f"reproduced {path} has md5 {after.workspace_md5}, but dvc.lock pins {version.pinned_md5}",
            hint=f"the generator or its parameters changed without `dvc repro {STAGE}` + commit of dvc.lock",
        )
    if push_reproduced:
        push(repo)
    return data_version(repo, path)


def push(repo: Path, remote: str | None = None) -> dict[str, Any]:
    """Push the cached data to the default (or given) DVC remote; return the remote, the number of files it did
    not have yet (0 when it was up to date) and the dataset version."""
    pushed = _transfer(repo, "push", remote=remote)
    version = data_version(repo)
    return {"remote": remote or version.default_remote, "pushed_files": int(pushed or 0), **version.to_dict()}


def state_remote_config(repo: Path) -> dict[str, Any] | None:
    """DVC config pointing the `local` remote at this state directory's dvc-remote, or None when it already does.

    `.dvc/config` commits the remote as `../.mlops/dvc-remote`, the project's own state directory; with another
    one (MLOPS_STATE_DIR) its data goes there instead. A URL set elsewhere (`dvc remote modify --local`) is kept.
    """
    from dvc.repo import Repo

    from ml.settings import state_dir

    wanted = state_dir() / STATE_REMOTE_DIR
    committed = (Path(repo) / ".mlops" / STATE_REMOTE_DIR).resolve()
    if wanted == committed:
        return None
    with Repo(str(repo)) as dvc_repo:
        url = dvc_repo.config["remote"].get(LOCAL_REMOTE, {}).get("url")
    if url is None or Path(url).resolve() != committed:
        return None
    return {"remote": {LOCAL_REMOTE: {"url": str(wanted)}}}


def stored_copy(repo: Path, md5: str) -> Path | None:
    """The file DVC keeps for `md5` in the repository's cache or its default remote (when a local directory), its md5
    checked; None when neither holds it."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    with Repo(str(repo), config=state_remote_config(repo)) as dvc_repo:
        candidates = [Path(dvc_repo.cache.local.oid_to_path(md5))]
        try:
            remote = dvc_repo.cloud.get_remote_odb()
        except DvcException as exc:
            log.info("no DVC remote to look in: %s", first_line(exc))
        else:
            if remote.fs.protocol == "local":
                candidates.append(Path(remote.oid_to_path(md5)))
    for path in candidates:
        if path.is_file() and file_md5(path) == md5:
            return path
        if path.is_file():
            log.warning("%s is stored under md5 %s but its bytes have another md5: ignoring it", path, md5)
    return None


def remote_url(repo: Path, md5: str, remote: str | None = None) -> str | None:
    """The URL of the file of `md5` in a DVC remote (default: the repository's default), when the remote holds it;
    None without a DVC repository, a remote, or the file there."""
    if not (Path(repo) / ".dvc").is_dir():
        return None  # e.g. a SageMaker job: its code bundle is no repository, and its image has no DVC
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(repo), config=state_remote_config(repo)) as dvc_repo:
            odb = dvc_repo.cloud.get_remote_odb(remote)
            if not odb.exists(md5):
                return None
            path = odb.oid_to_path(md5)
            return Path(path).as_uri() if odb.fs.protocol == "local" else str(odb.fs.unstrip_protocol(path))
    except DvcException as exc:
        log.info("no DVC remote URL for %s: %s", md5, first_line(exc))
        return None


def _transfer(repo: Path, action: str, *, remote: str | None = None, targets: list[str] | None = None) -> Any:
    """`dvc pull` / `dvc push` in this process, with the `local` remote in the state directory in force; return
    what DVC returns (push: the number of files transferred)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(repo), config=state_remote_config(repo)) as dvc_repo:
            return getattr(dvc_repo, action)(targets=targets, remote=remote)
    except DvcException as exc:
        raise DataError(f"`dvc {action}` failed: {first_line(exc)}") from exc
    except OSError as exc:  # a local remote DVC cannot write to (not a directory, no permission, disk full)
        raise DataError(
            f"`dvc {action}` failed: {exc.strerror or first_line(exc)}: {exc.filename or ''}",
            hint="check the remote's URL and permissions: `dvc remote list`",
        ) from exc
