"""Rebuild a registered version from its record and check that the same model comes out.

The record names everything a CPU run needs to give the same bytes again (`ml.runtime`): the data (its DVC md5),
the code (its git commit), the training parameters and seed (the run's parameters) and the torch thread count
(`env.torch_threads`). `reproduce` finds the data in the DVC cache or remote, else rebuilds it with the commit's DVC
stage and checks its md5; checks out the commit in a temporary git worktree unless the repository is at that commit
and clean; runs the pipeline's own prepare, train and evaluate steps there, in a temporary directory, with the
recorded parameters and threads; and compares the model digest and test scores with the registered ones. Nothing is
registered, and the worktree and every file it wrote are removed, whatever the outcome.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ml.data import file_md5
from ml.dvc_data import DATA_PATH, materialize, pinned_md5, stored_copy
from ml.errors import DataError, MlopsError
from ml.evaluation import REPORT_FILE
from ml.model import ModelInfo
from ml.settings import REGISTERED_MODEL_NAME, environment, git_commit, project_root
from model_registry import evidence
from model_registry.queries import get_version
from model_registry.registration import model_digest
from pipelines.local_runner import LocalRunner, artifact_dir
from pipelines.spec import TRAINING_PARAMETERS

log = logging.getLogger(__name__)

DIRTY = "-dirty"
# What a bitwise reproduction is checked on: the tags registration writes for the model and its test scores.
COMPARED_TAGS = (evidence.DIGEST_TAG, evidence.LABELS_TAG)
# The environment recorded with a version that decides its numbers (ml.settings.environment, ml.runtime).
COMPARED_ENVIRONMENT = ("python", "torch", "transformers", "tokenizers", "numpy", "lock_sha256")


class ReproduceError(MlopsError):
    """A version cannot be rebuilt from its record."""


@dataclass(frozen=True)
class Reproduction:
    """A rebuilt version compared with its record."""

    name: str
    version: str
    git_commit: str
    data_md5: str
    data_source: str
    code: str
    torch_threads: str
    reproducible: str
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    registered: dict[str, str] = field(default_factory=dict)
    reproduced: dict[str, str] = field(default_factory=dict)

    @property
    def match(self) -> bool:
        """Whether the rebuilt model and its scores are the registered ones."""
        return not self.differences

    @property
    def promised(self) -> bool:
        """Whether the version's record promises a bitwise rebuild."""
        return self.reproducible.startswith("bitwise")

    @property
    def caveat(self) -> str:
        """What a difference means when the record promises no bitwise rebuild (empty when it does)."""
        if self.promised:
            return ""
        if self.reproducible.startswith("not promised"):
            return "expected: the record does not promise a bitwise rebuild"
        return "the record states no reproducibility promise"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output, with `match`, `promised` and `caveat`."""
        return {**asdict(self), "match": self.match, "promised": self.promised, "caveat": self.caveat}


def reproduce(
    ref: str, *, name: str = REGISTERED_MODEL_NAME, repo: Path | None = None, tracking_uri: str | None = None
) -> Reproduction:
    """Retrain and evaluate version `ref` (number or alias) from its record in a temporary directory; compare.

    Raises RegistryError for an unknown version, ReproduceError for a record that names no data or commit, or a
    commit the repository lacks, and DataError for data that can be neither found nor rebuilt.
    """
    repo = project_root(repo)
    version = get_version(ref, name, tracking_uri)
    label = f"{name} v{version['version']}"
    data_md5, commit = _recorded_inputs(version, label)
    _require_commit(repo, commit, label)
    params = version.get("params", {})
    overrides = {TRAINING_PARAMETERS[k]: v for k, v in params.items() if k in TRAINING_PARAMETERS}
    environment_tags = version["environment"]
    threads = environment_tags.get("torch_threads", "")
    env = {"OMP_NUM_THREADS": threads} if threads else {}
    if environment_tags.get("device") == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # trained on the CPU: rebuilt there, even on a machine with a GPU
    notes = _unsettable_parameters(params) + _environment_changes(environment_tags)
    if not threads:
        notes.append("the record has no env.torch_threads: training uses this machine's default thread count")
    with tempfile.TemporaryDirectory(prefix="reproduce-") as scratch, _source_tree(repo, commit) as (tree, code):
        data, data_source = dataset_copy(repo, commit, data_md5, Path(scratch))
        log.info(
            "rebuilding %s: commit %s (%s), data %s (%s), threads %s",
            label,
            commit,
            code,
            data_md5,
            data_source,
            threads or "default",
        )
        runner = LocalRunner(Path(scratch) / "state", tree, echo=log.info, env=env)
        run_dir, state = runner.start(data, overrides, data_md5=data_md5)
        runner.execute(run_dir, state, to_step="evaluate")
        model_dir = artifact_dir(run_dir, "train", "model")
        scores = json.loads((artifact_dir(run_dir, "evaluate", "evaluation") / REPORT_FILE).read_text())["metrics"]
        record = evidence.build(
            model_digest=model_digest(model_dir),
            labels=ModelInfo.load(model_dir).labels,
            scores={k: v["value"] for k, v in scores.items()},
            parity_passed=False,
            benchmark=None,
        )
    registered, reproduced = _compared(version["tags"], evidence.version_tags(record))
    return Reproduction(
        name=name,
        version=str(version["version"]),
        git_commit=commit,
        data_md5=data_md5,
        data_source=data_source,
        code=code,
        torch_threads=threads or "default",
        reproducible=environment_tags.get("reproducible", "not recorded"),
        differences=[
            f"{key}: registered {registered.get(key, '(none)')}, reproduced {reproduced.get(key, '(none)')}"
            for key in sorted(registered.keys() | reproduced.keys())
            if registered.get(key) != reproduced.get(key)
        ],
        notes=notes,
        registered=registered,
        reproduced=reproduced,
    )


def format_reproduction(result: Reproduction) -> str:
    """The lines `mlops registry reproduce` prints: the inputs used, then "match" or each difference."""
    lines = [
        f"reproduce {result.name} v{result.version}",
        f"  commit   {result.git_commit} ({result.code})",
        f"  data     {result.data_md5} ({result.data_source})",
        f"  threads  {result.torch_threads}",
        f"  promise  {result.reproducible}",
    ]
    lines += [f"  note: {note}" for note in result.notes]
    if result.match:
        lines.append(f"match: {result.registered.get(evidence.DIGEST_TAG, '')} and every test score")
        return "\n".join(lines)
    lines.append(f"MISMATCH ({result.caveat})" if result.caveat else "MISMATCH")
    lines += [f"  {difference}" for difference in result.differences]
    return "\n".join(lines)


def _recorded_inputs(version: dict[str, Any], label: str) -> tuple[str, str]:
    """The version's data md5 and commit; ReproduceError when the record cannot name them."""
    data_md5, commit = version.get("data_md5") or "", version.get("git_commit") or ""
    if not data_md5:
        raise ReproduceError(
            f"{label} records no data md5, so its data cannot be found",
            hint="only versions registered by `mlops pipeline run` can be reproduced; register one that way",
        )
    if not commit or commit == "unknown":
        raise ReproduceError(
            f"{label} records no git commit, so its code cannot be found",
            hint="register from a git checkout (`mlops pipeline run` records the commit)",
        )
    if commit.endswith(DIRTY):
        raise ReproduceError(
            f"{label} was trained from uncommitted changes to {commit.removesuffix(DIRTY)}: its code is in no commit",
            hint="commit the code, then register a version trained from the clean checkout",
        )
    return data_md5, commit


def _require_commit(repo: Path, commit: str, label: str) -> None:
    proc = _git(repo, "cat-file", "-e", f"{commit}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise ReproduceError(
            f"{label} was trained from commit {commit}, which the repository at {repo} does not have",
            hint="fetch it (`git fetch --all`) or run from a clone that has it",
        )


def _unsettable_parameters(params: dict[str, str]) -> list[str]:
    """Recorded training parameters the pipeline cannot set, where they are not its defaults."""
    from ml.train_config import TrainConfig

    defaults = TrainConfig().to_dict()
    return [
        f"parameter {key}={value} cannot be set in a pipeline run (it trains with {defaults[key]})"
        for key, value in sorted(params.items())
        if key in defaults and key not in TRAINING_PARAMETERS and value != str(defaults[key])
    ]


def _environment_changes(recorded: dict[str, str]) -> list[str]:
    """The recorded libraries and lock that differ from this environment's (a mismatch may come from them)."""
    here = environment()
    return [
        f"env.{key}: recorded {recorded[key]}, here {here[key]}"
        for key in COMPARED_ENVIRONMENT
        if key in recorded and recorded[key] != here.get(key)
    ]


def _compared(registered_tags: dict[str, str], reproduced_tags: dict[str, str]) -> tuple[dict, dict]:
    """The registered and reproduced values of the model digest, the labels and every registered test score."""
    keys = [*COMPARED_TAGS, *sorted(k for k in registered_tags if k.startswith("metric."))]
    return (
        {k: registered_tags[k] for k in keys if k in registered_tags},
        {k: reproduced_tags[k] for k in keys if k in reproduced_tags},
    )


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise ReproduceError(f"`git {' '.join(args)}` failed: {(proc.stderr or proc.stdout).strip()}")
    return proc


@contextlib.contextmanager
def _source_tree(repo: Path, commit: str) -> Iterator[tuple[Path, str]]:
    """The repository itself when it is at `commit` and clean, else a temporary worktree of `commit` (removed after);
    with a word on which."""
    if git_commit(repo) == commit:
        yield repo, "this checkout"
        return
    with _worktree(repo, commit) as tree:
        yield tree, "a temporary worktree"


@contextlib.contextmanager
def _worktree(repo: Path, commit: str) -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="reproduce-code-"))
    tree = parent / "tree"
    try:
        _git(repo, "worktree", "add", "--detach", str(tree), commit)
        yield tree
    finally:
        _git(repo, "worktree", "remove", "--force", str(tree), check=False)
        shutil.rmtree(parent, ignore_errors=True)
        _git(repo, "worktree", "prune", check=False)


def dataset_copy(repo: Path, commit: str, md5: str, scratch: Path) -> tuple[Path, str]:
    """A copy under scratch of the dataset with this md5 (from the workspace, DVC's cache or remote, else rebuilt by
    the DVC stage of `commit`), and where it came from; DataError when there is none."""
    dest = scratch / "data" / Path(DATA_PATH).name
    dest.parent.mkdir(parents=True)
    workspace = repo / DATA_PATH
    if workspace.is_file() and file_md5(workspace) == md5:
        shutil.copy2(workspace, dest)
        return dest, f"the workspace's {DATA_PATH}"
    stored = stored_copy(repo, md5)
    if stored is not None:
        shutil.copy2(stored, dest)
        return dest, f"DVC's store ({stored})"
    with _worktree(repo, commit) as tree:
        pinned = pinned_md5(tree)
        if pinned != md5:
            raise DataError(
                f"data md5 {md5} is neither in the DVC cache nor in the remote, and commit {commit[:12]} pins "
                f"{pinned or 'no dataset'}, so its DVC stage cannot rebuild it",
                hint="push the dataset from a checkout that has it (`mlops data push`), then rerun",
            )
        materialize(tree)  # from the remote, else `dvc repro` with the md5 checked
        shutil.copy2(tree / DATA_PATH, dest)
    return dest, f"rebuilt by the DVC stage of commit {commit[:12]}"
