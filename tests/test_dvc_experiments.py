"""DVC experiments on the embedded default, for real: `dvc repro` trains and evaluates with params.yaml, `dvc exp run
-S` changes one value, and `dvc exp show` / `dvc metrics diff` / `dvc params diff` / `dvc plots diff` compare them.

The README's block runs as written in a copy of the project in a fresh git repository, whose committed params.yaml
is small (40 prompts per intent, one epoch, short prompts): two trainings of seconds each. Nothing of the train and
evaluate stages is committed (docs/architecture.md, "Parameters and experiments"), so experiments are compared by name.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ml.data import file_md5
from ml.dvc_data import DATA_PATH, pinned_md5
from tests.conftest import ROOT

# What `python -m mlops_cli` and the stages need: the packages, the DVC files and the ignore rules.
PROJECT_FILES = ("dvc.yaml", "dvc.lock", "params.yaml", ".dvcignore", ".gitignore", ".dvc/config", ".dvc/.gitignore")
PACKAGES = ("ml", "pipelines", "inference", "model_registry", "benchmarks", "mlops_cli")
# Small enough for CI's two cores; still every intent in every split.
SMALL = {"data": {"per_intent": 40}, "train": {"epochs": 1, "max_length": 32}}
# data/feedback.jsonl's hand-written rows thinned the same way (every 10th: about 470, every intent among them).
FEEDBACK_EVERY = 10
STEP_TIMEOUT = 300  # seconds per DVC command; the whole test takes about two minutes on two busy cores


def git(repo: Path, *args: str) -> str:
    """Run git in repo and return stdout."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def dvc(repo: Path, *args: str) -> str:
    """Run a DVC command in repo, its stages with this interpreter, bounded in time; return its stdout."""
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture
def experiment_repo(tmp_path: Path) -> Path:
    """A git repository holding the project's code and DVC files, its params.yaml and feedback rows made small and
    committed."""
    repo = tmp_path / "project"
    for rel in PROJECT_FILES:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, repo / rel)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (repo / "data").mkdir()
    for name in (".gitignore", "natural_prompts.jsonl"):
        shutil.copy2(ROOT / "data" / name, repo / "data" / name)
    feedback = (ROOT / "data" / "feedback.jsonl").read_text().splitlines(keepends=True)
    (repo / "data" / "feedback.jsonl").write_text("".join(feedback[::FEEDBACK_EVERY]))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for section, values in SMALL.items():
        params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "tests")
    git(repo, "config", "user.email", "tests@example.invalid")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "small experiment")
    return repo


def flat_metrics(exp_show_row: dict[str, Any]) -> dict[str, Any]:
    """`dvc exp show --json` metrics of one row, as {file: {name: value}}."""
    return {path: entry["data"] for path, entry in (exp_show_row["data"]["metrics"] or {}).items()}


def readme_commands() -> list[list[str]]:
    """The commands of the README's DVC block, comments dropped."""
    section = (ROOT / "README.md").read_text().split("### Experiments with DVC", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.split("#", 1)[0].strip()]


@pytest.mark.slow
def test_the_readme_experiments_run_as_written(experiment_repo: Path) -> None:
    """The README's DVC block, command by command, then what each comparison shows."""
    repo = experiment_repo
    # Nothing of train's and evaluate's is committed: on a fresh clone DVC lists them as never run.
    assert "train:" in dvc(repo, "status")
    commands = readme_commands()
    assert [c[:2] for c in commands[:3]] == [["dvc", "repro"], ["dvc", "exp"], ["dvc", "exp"]]
    dvc(repo, *commands[0][1:])  # dvc repro
    scores = json.loads((repo / "reports" / "evaluate" / "scores.json").read_text())
    headline = {"accuracy", "macro_f1", "macro_precision", "macro_recall"}
    assert set(scores) == {*headline, "natural", "gate_passed"} and set(scores["natural"]) == headline
    assert json.loads((repo / "reports" / "train" / "result.json").read_text())["epochs_run"] == 1
    assert (repo / "models" / "intent-classifier" / "model.safetensors").is_file()
    assert "up to date" in dvc(repo, "status")
    # The lock now has the experiment's stages too; the dataset's pin is still found.
    assert pinned_md5(repo) == file_md5(repo / DATA_PATH)

    for command in commands[1:]:
        assert command[0] in ("dvc", "git"), command
        (dvc if command[0] == "dvc" else git)(repo, *command[1:])

    (head,) = [row for row in json.loads(dvc(repo, "exp", "show", "--json")) if row["rev"] != "workspace"]
    runs = {exp["name"]: exp["revs"][0] for exp in head["experiments"]}
    assert set(runs) == {"baseline", "epochs-8"}
    for name, epochs in (("baseline", 1), ("epochs-8", 8)):
        assert runs[name]["data"]["params"]["params.yaml"]["data"]["train"]["epochs"] == epochs
        assert set(flat_metrics(runs[name])["reports/evaluate/scores.json"]) == set(scores)
    assert flat_metrics(runs["baseline"])["reports/evaluate/scores.json"] == scores
    # Early stopping may end sooner than 8 epochs, never before the patience's 1 + 3.
    assert 4 <= flat_metrics(runs["epochs-8"])["reports/train/result.json"]["epochs_run"] <= 8

    metrics_diff = json.loads(dvc(repo, "metrics", "diff", "baseline", "epochs-8", "--json"))
    assert metrics_diff["reports/train/result.json"]["epochs_run"]["old"] == 1
    params_diff = json.loads(dvc(repo, "params", "diff", "baseline", "epochs-8", "--json"))
    assert params_diff["params.yaml"] == {"train.epochs": {"old": 1, "new": 8, "diff": 7}}
    page = (repo / "dvc_plots" / "index.html").read_text()
    for title in ("Training curves", "Training loss", "Test confusion matrix"):
        assert title in page

    # Back at the committed parameters, with the last run's scores in reports/; the weights never reach git, in the
    # workspace or in an experiment's commit.
    assert git(repo, "status", "--porcelain") == "?? reports/"
    for name in runs:
        assert "models/" not in git(repo, "ls-tree", "-r", "--name-only", runs[name]["rev"])
