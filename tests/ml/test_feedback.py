"""`mlops data add`: feedback becomes a DVC data version, for real (git + DVC in a temporary repository, its local
remote in the test's state directory), all or nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ml.data import file_md5, load_examples, normalize_key
from ml.dvc_data import (
    DATA_PATH,
    FEEDBACK_PATH,
    STAGE,
    STATE_REMOTE_DIR,
    VERSIONS_PATH,
    lineage,
    materialize,
    pinned_md5,
    run_dvc,
    version_record,
)
from ml.errors import DataError
from ml.feedback import LOCK_PATH, TOUCHED, add_feedback
from ml.settings import natural_set_path
from tests.conftest import ROOT
from tests.ml.test_dvc_data import PROJECT_FILES, git

# New prompts, none of them in the generated dataset or the natural set (checked by `fresh_rows`).
NEW_ROWS = (
    {"text": "route my grocery run past the pharmacy and the post office before noon", "intent": "task_planning"},
    {"text": "my sourdough starter smells like nail polish, what went wrong", "intent": "problem_solving"},
    {
        "text": "jot a limerick about a cat who audits spreadsheets",
        "intent": "creative_writing",
        "complexity": "simple",
    },
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh git repository with the project's DVC stage, feedback file and natural set, its dataset materialised
    (reproduced and pushed to the empty remote in the test's state directory)."""
    repo = tmp_path / "repo"
    for rel in (*PROJECT_FILES, natural_set_path(ROOT).relative_to(ROOT).as_posix()):
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
    git(repo, "commit", "-qm", "project")
    assert materialize(repo).in_sync
    return repo


def run_cli(*args: str, cwd: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the `mlops` CLI in `cwd` as a user would. `-P`: the repository's partial copy of `ml` (what its DVC stage
    runs) must not shadow the project's code under test."""
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "mlops_cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"mlops {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def write_rows(path: Path, rows: list[dict] | tuple[dict, ...]) -> Path:
    """Write rows as JSON Lines; return the path."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def snapshot(repo: Path) -> dict[str, bytes | None]:
    """The bytes of every file `mlops data add` may touch (None: absent)."""
    return {rel: (repo / rel).read_bytes() if (repo / rel).is_file() else None for rel in TOUCHED}


def remote_holds(state: Path, md5: str) -> bool:
    """Whether the local DVC remote in the state directory holds the file of this md5 (DVC 3 layout)."""
    path = state / STATE_REMOTE_DIR / "files" / "md5" / md5[:2] / md5[2:]
    return path.is_file() and file_md5(path) == md5


def test_the_new_rows_are_unseen() -> None:
    """NEW_ROWS really are new: otherwise the tests below would test skipping, not adding."""
    known = {normalize_key(e.text) for e in load_examples(natural_set_path(ROOT))}
    known |= {normalize_key(r["text"]) for r in _generated_rows()}
    assert not [r for r in NEW_ROWS if normalize_key(r["text"]) in known]


def _generated_rows() -> list[dict]:
    from ml.datagen import generate

    return generate()


def test_a_feedback_file_becomes_a_pushed_data_version_with_lineage(
    repo: Path, tmp_path: Path, private_state: Path
) -> None:
    parent = pinned_md5(repo)
    assert parent and remote_holds(private_state, parent)
    old_bytes = (repo / DATA_PATH).read_bytes()
    old_rows = len(load_examples(repo / DATA_PATH))
    existing, other = load_examples(repo / DATA_PATH)[:2]
    # Duplicates of the dataset (other case, end punctuation; a ";" the generator's key ignores too, so the stage
    # would drop it), and one row repeated inside the file: skipped and counted.
    rows = [
        *NEW_ROWS,
        {"text": existing.text.upper() + "!", "intent": existing.intent},
        {"text": other.text.rstrip(".!?") + ";", "intent": other.intent},
        NEW_ROWS[0],
    ]
    feedback = write_rows(tmp_path / "reviewed.jsonl", rows)

    proc = run_cli("data", "add", str(feedback), "--source", "capture review 2026-12-03", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {"md5", "parent_md5", "rows_added", "skipped_duplicates", "source", "remote", "pushed"} <= set(result)
    assert result["parent_md5"] == parent and result["md5"] != parent
    assert (result["rows_added"], result["skipped_duplicates"]) == (3, 3)
    assert result["source"] == "capture review 2026-12-03" and result["pushed"] and result["remote"] == "local"

    # dvc.lock pins the new bytes, the remote has them, and the generated rows are untouched at the front.
    md5 = result["md5"]
    assert pinned_md5(repo) == md5 == file_md5(repo / DATA_PATH)
    assert remote_holds(private_state, md5)
    data = (repo / DATA_PATH).read_bytes()
    assert data.startswith(old_bytes) and len(load_examples(repo / DATA_PATH)) == result["rows"] == old_rows + 3
    added = load_examples(repo / DATA_PATH)[-3:]
    assert [(e.text, e.intent, e.source) for e in added] == [
        (r["text"], r["intent"], "capture review 2026-12-03") for r in NEW_ROWS
    ]
    assert added[2].complexity == "simple"
    assert not json.loads(run_dvc(["status", STAGE, "--json"], repo).stdout or "{}")

    # The version's record, and `mlops data status` names its parent and source.
    (record,) = [json.loads(line) for line in (repo / VERSIONS_PATH).read_text().splitlines()]
    assert record["md5"] == md5 and record["parent_md5"] == parent and record["rows_added"] == 3
    assert (record["skipped_duplicates"], record["rows"]) == (3, old_rows + 3)
    assert record["git_revision"] == git(repo, "rev-parse", "HEAD") and record["time"].endswith("Z")
    status = json.loads(run_cli("data", "status", "--json", cwd=repo, check=True).stdout)
    assert (status["parent_md5"], status["source"]) == (parent, "capture review 2026-12-03")

    # A second version stacks on the first: the lineage walks back to the generated one.
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data: capture review")
    more = write_rows(
        tmp_path / "more.jsonl", [{"text": "plan a two day hike with one water refill", "intent": "task_planning"}]
    )
    second = add_feedback(repo, more, source="second review")
    assert second.parent_md5 == md5 and second.rows_added == 1
    chain = lineage(repo, second.md5)
    assert [(v["md5"], v["parent_md5"], v["source"]) for v in chain] == [
        (second.md5, md5, "second review"),
        (md5, parent, "capture review 2026-12-03"),
    ]
    assert lineage(repo, parent) == []  # the generated version has no record
    # What the pipeline's register step tags a model trained on it with (data_parent_md5, data_source).
    assert (version_record(repo, md5)["parent_md5"], version_record(repo, md5)["source"]) == (parent, record["source"])
    assert version_record(repo, parent) == {}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"text": "book me a table for two", "intent": "restaurant_booking"}, "intent 'restaurant_booking'"),
        ({"text": "", "intent": "reasoning"}, "'text' must be a non-empty string"),
        ({"text": "rank these three offers", "intent": "reasoning", "complexity": "huge"}, "complexity 'huge'"),
    ],
)
def test_a_bad_row_is_refused_by_its_line_and_changes_nothing(
    repo: Path, tmp_path: Path, private_state: Path, row: dict, expected: str
) -> None:
    before = snapshot(repo)
    feedback = write_rows(tmp_path / "bad.jsonl", [*NEW_ROWS, row])
    proc = run_cli("data", "add", str(feedback), "--source", "review", cwd=repo)
    assert proc.returncode != 0
    assert f"{feedback}:4:" in proc.stderr and expected in proc.stderr and "nothing was changed" in proc.stderr
    assert snapshot(repo) == before
    assert not (repo / VERSIONS_PATH).exists()


def test_a_conflicting_label_is_refused(repo: Path, tmp_path: Path) -> None:
    existing = load_examples(repo / DATA_PATH)[5]
    other = "reasoning" if existing.intent != "reasoning" else "translation"
    before = snapshot(repo)
    in_file = [NEW_ROWS[1], {**NEW_ROWS[1], "intent": "reasoning"}]  # the same prompt twice, two labels
    feedback = write_rows(tmp_path / "conflict.jsonl", [{"text": existing.text, "intent": other}, *in_file])
    with pytest.raises(DataError) as caught:
        add_feedback(repo, feedback, source="review")
    message = str(caught.value)
    assert "2 of 3 row(s)" in message
    assert f"{feedback}:1: {existing.text!r} is labelled {existing.intent!r} in the dataset" in message
    assert f"{feedback}:3:" in message and "on line 2" in message
    assert snapshot(repo) == before


def test_a_prompt_of_the_held_out_natural_set_is_refused(repo: Path, tmp_path: Path) -> None:
    natural = load_examples(natural_set_path(repo))[0]
    before = snapshot(repo)
    feedback = write_rows(tmp_path / "natural.jsonl", [{"text": natural.text, "intent": natural.intent}])
    proc = run_cli("data", "add", str(feedback), "--source", "review", cwd=repo)
    assert proc.returncode != 0 and "held-out natural set" in proc.stderr
    assert snapshot(repo) == before


def test_an_empty_file_or_source_is_refused(repo: Path, tmp_path: Path) -> None:
    before = snapshot(repo)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    proc = run_cli("data", "add", str(empty), "--source", "review", cwd=repo)
    assert proc.returncode != 0 and "has no rows" in proc.stderr
    proc = run_cli("data", "add", str(write_rows(tmp_path / "ok.jsonl", NEW_ROWS)), "--source", "  ", cwd=repo)
    assert proc.returncode != 0 and "--source is empty" in proc.stderr
    proc = run_cli("data", "add", str(tmp_path / "missing.jsonl"), "--source", "review", cwd=repo)
    assert proc.returncode != 0 and "not found" in proc.stderr
    assert snapshot(repo) == before


def test_only_known_rows_make_no_new_version(repo: Path, tmp_path: Path) -> None:
    rows = [{"text": e.text, "intent": e.intent} for e in load_examples(repo / DATA_PATH)[:3]]
    before = snapshot(repo)
    result = add_feedback(repo, write_rows(tmp_path / "known.jsonl", rows), source="review")
    assert (result.rows_added, result.skipped_duplicates, result.pushed) == (0, 3, False)
    assert result.md5 == result.parent_md5 == pinned_md5(repo)
    assert snapshot(repo) == before


def test_a_rewording_of_a_held_out_prompt_is_skipped_and_counted(repo: Path, tmp_path: Path) -> None:
    """A held-out prompt with a few words changed is left out (the set must stay unseen); the other rows land."""
    held_out = load_examples(natural_set_path(repo))[0]
    reworded = {"text": held_out.text.rstrip("?.!") + ", thanks a lot", "intent": held_out.intent}
    result = add_feedback(repo, write_rows(tmp_path / "rows.jsonl", [NEW_ROWS[0], reworded]), source="review")
    assert (result.rows_added, result.skipped_near_held_out, result.skipped_duplicates) == (1, 1, 0)
    assert normalize_key(reworded["text"]) not in {normalize_key(e.text) for e in load_examples(repo / DATA_PATH)}
    (record,) = [json.loads(line) for line in (repo / VERSIONS_PATH).read_text().splitlines()]
    assert record["skipped_near_held_out"] == 1


def test_a_failed_push_rolls_every_file_back(repo: Path, tmp_path: Path, private_state: Path) -> None:
    """The failure comes after the new version was reproduced: dvc.lock, the data and the feedback file had all
    changed by then, and must be exactly as before."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the remote's directory should be\n")
    run_dvc(["remote", "modify", "--local", "local", "url", str(blocker / "remote")], repo)
    before = snapshot(repo)
    proc = run_cli("data", "add", str(write_rows(tmp_path / "ok.jsonl", NEW_ROWS)), "--source", "review", cwd=repo)
    assert proc.returncode != 0 and "dvc push" in proc.stderr
    assert snapshot(repo) == before
    assert not json.loads(run_dvc(["status", STAGE, "--json"], repo).stdout or "{}")


def test_no_push_leaves_the_remote_alone(repo: Path, tmp_path: Path, private_state: Path) -> None:
    proc = run_cli(
        "data",
        "add",
        str(write_rows(tmp_path / "ok.jsonl", NEW_ROWS)),
        "--source",
        "review",
        "--no-push",
        "--json",
        cwd=repo,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert not result["pushed"] and pinned_md5(repo) == result["md5"]
    assert not remote_holds(private_state, result["md5"])


def test_no_push_leaves_the_remote_alone_when_the_parent_version_is_reproduced_first(
    repo: Path, tmp_path: Path, private_state: Path
) -> None:
    parent = pinned_md5(repo)
    shutil.rmtree(private_state / STATE_REMOTE_DIR)  # neither the remote nor the workspace holds the dataset
    shutil.rmtree(repo / ".dvc" / "cache")
    (repo / DATA_PATH).unlink()
    result = add_feedback(repo, write_rows(tmp_path / "ok.jsonl", NEW_ROWS), source="review", push=False)
    assert result.parent_md5 == parent and not result.pushed
    assert not remote_holds(private_state, parent) and not remote_holds(private_state, result.md5)


def test_a_hand_edited_feedback_file_is_refused_until_reproduced(repo: Path, tmp_path: Path) -> None:
    """Rows nobody recorded would otherwise ride along in the next version under another source."""
    with (repo / FEEDBACK_PATH).open("a") as handle:
        handle.write(json.dumps({**NEW_ROWS[0], "source": "by hand"}) + "\n")
    before = snapshot(repo)
    with pytest.raises(DataError, match=r"not up to date with dvc\.lock"):
        add_feedback(repo, write_rows(tmp_path / "ok.jsonl", NEW_ROWS[1:]), source="review")
    assert snapshot(repo) == before


def test_the_committed_feedback_reproduces_the_committed_pin_exactly(repo: Path) -> None:
    """The stage run on the committed data/feedback.jsonl is byte for byte the dataset dvc.lock pins, and the
    committed dvc.lock is exactly what the stage records."""
    run_dvc(["repro", "--force", STAGE], repo)
    assert file_md5(repo / DATA_PATH) == pinned_md5(ROOT)
    assert subprocess.run(["git", "diff", "--exit-code", "dvc.lock"], cwd=repo, check=False).returncode == 0


def test_a_second_add_while_one_runs_is_refused(repo: Path, tmp_path: Path) -> None:
    import fcntl

    lock = repo / LOCK_PATH
    lock.parent.mkdir(parents=True, exist_ok=True)
    before = snapshot(repo)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a running add holds
        with pytest.raises(DataError, match="another `mlops data add` is running"):
            add_feedback(repo, write_rows(tmp_path / "ok.jsonl", NEW_ROWS), source="review")
    assert snapshot(repo) == before
