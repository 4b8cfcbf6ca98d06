"""Feedback becomes a data version: `mlops data add FILE --source TEXT`.

Labelled rows (for example prompts reviewed from the endpoint's data capture) are validated against the taxonomy,
de-duplicated against the dataset, appended to the git-tracked data/feedback.jsonl, and the DVC stage `generate`
(which appends that file after the generated rows, dvc.yaml) produces the new dataset: a new md5 in dvc.lock, pushed
to the DVC remote and recorded with its parent and source in data/versions.jsonl. All or nothing: on any failure every
file it touched is restored byte for byte. Design and the split rule: docs/architecture.md, "Feedback and data
versions".
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.data import Example, NearDuplicates, file_md5, load_examples, parse_row, utf8_lines
from ml.datagen.generator import dedup_key
from ml.dvc_data import (
    DATA_PATH,
    FEEDBACK_PATH,
    STAGE,
    VERSIONS_PATH,
    data_version,
    git_revision,
    materialize,
    pinned_md5,
    remote_url,
    run_dvc,
)
from ml.dvc_data import push as dvc_push
from ml.errors import DataError
from ml.settings import natural_set_path

log = logging.getLogger(__name__)

# Files `add_feedback` may change; each is restored byte for byte (or removed again) when a step fails.
TOUCHED = (FEEDBACK_PATH, "dvc.lock", DATA_PATH, VERSIONS_PATH)
# Held while an add runs: two at once would stack two versions on the same parent.
LOCK_PATH = ".dvc/tmp/mlops-data-add.lock"
MAX_SOURCE_CHARS = 200
# How many bad rows an error lists before it says "and N more".
SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class AddResult:
    """The data version `add_feedback` made (md5 == parent_md5 and rows_added == 0 when every row was known)."""

    md5: str
    parent_md5: str | None
    rows_added: int
    skipped_duplicates: int
    source: str
    remote: str | None
    pushed: bool
    rows: int = 0  # rows in the new dataset
    data_url: str | None = None  # where the remote keeps the new version, when it was pushed
    # Rows left out because they reword a prompt of the held-out natural set (ml.data.NearDuplicates).
    skipped_near_held_out: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


def add_feedback(repo: Path, file: Path, *, source: str, push: bool = True) -> AddResult:
    """Validate FILE's labelled rows, append the new ones as a new DVC data version, push it, record its lineage."""
    repo, file = Path(repo), Path(file)
    source = _check_source(source)
    rows = _read_feedback(file)  # before touching anything: bad input changes nothing
    with _exclusive(repo):
        before = data_version(repo)
        if not before.in_sync:
            log.info("workspace data is not the pinned version %s: materialising it first", before.pinned_md5)
            before = materialize(repo, push_reproduced=push)  # --no-push touches no remote, not even for this
        _check_stage_current(repo)
        existing = load_examples(repo / DATA_PATH)
        # The hand-written held-out set must stay unseen by training: its prompts are never added (docs/labeling.md).
        natural_path = natural_set_path(repo)
        natural = load_examples(natural_path) if natural_path.is_file() else []
        new, skipped = _new_rows(file, rows, existing, natural)
        new, near = _without_near_held_out(new, natural)
        parent = before.pinned_md5
        if parent is None:  # materialize refuses a repository that pins nothing; this keeps the type honest
            raise DataError(f"no DVC pin for {DATA_PATH}", hint=f"run `dvc repro {STAGE}` and commit dvc.lock")
        if not new:
            log.info("all %d row(s) of %s are already in the dataset: no new version", len(rows), file)
            return AddResult(
                parent, parent, 0, skipped, source, before.default_remote, False, len(existing), None, near
            )
        saved = {rel: _read_or_none(repo / rel) for rel in TOUCHED}
        try:
            result = _make_version(repo, new, skipped, near, source=source, parent=parent, push_data=push)
        except BaseException:
            _restore(repo, saved)
            raise
    return result


def _make_version(
    repo: Path, new: list[Example], skipped: int, near: int, *, source: str, parent: str, push_data: bool
) -> AddResult:
    """Append, reproduce, push and record; the caller restores the touched files if this raises."""
    before = len(load_examples(repo / DATA_PATH))
    stamped = [Example(e.text, e.intent, e.complexity, source) for e in new]
    feedback = repo / FEEDBACK_PATH
    # A file last saved by an editor without its final newline must not glue its last row to our first.
    separator = "\n" if feedback.is_file() and feedback.read_bytes()[-1:] not in (b"", b"\n") else ""
    with feedback.open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(separator + "".join(e.to_json() + "\n" for e in stamped))
    run_dvc(["repro", STAGE], repo)
    md5 = pinned_md5(repo)
    if md5 is None or md5 == parent or file_md5(repo / DATA_PATH) != md5:
        raise DataError(
            f"`dvc repro {STAGE}` did not produce a new pinned version of {DATA_PATH} (dvc.lock pins {md5})",
            hint="check dvc.yaml: the stage must depend on data/feedback.jsonl; nothing was changed",
        )
    rows = len(load_examples(repo / DATA_PATH))  # the new dataset passes the same checks as any (no duplicates)
    if rows != before + len(stamped):
        raise DataError(
            f"the new {DATA_PATH} has {rows} rows, expected {before} + {len(stamped)} added",
            hint=f"the stage dropped or changed rows; see the log of `dvc repro {STAGE}`. Nothing was changed",
        )
    remote = data_version(repo).default_remote
    if push_data:
        remote = dvc_push(repo)["remote"]
    record = {
        "md5": md5,
        "parent_md5": parent,
        "source": source,
        "rows_added": len(stamped),
        "skipped_duplicates": skipped,
        "skipped_near_held_out": near,
        "rows": rows,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # The commit the version was made on top of: the new one exists once the user commits the three files.
        "git_revision": git_revision(repo),
    }
    with (repo / VERSIONS_PATH).open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
    url = remote_url(repo, md5) if push_data else None
    log.info("data version %s (parent %s): %d row(s) added from %r", md5, parent, len(stamped), source)
    return AddResult(md5, parent, len(stamped), skipped, source, remote, push_data, rows, url, near)


def _check_source(source: str) -> str:
    cleaned = " ".join(str(source).split())
    if not cleaned:
        raise DataError("--source is empty", hint='say where the rows come from, e.g. --source "capture review 12-03"')
    if len(cleaned) > MAX_SOURCE_CHARS:
        raise DataError(f"--source is {len(cleaned)} characters; at most {MAX_SOURCE_CHARS}", hint="shorten it")
    return cleaned


def _read_feedback(file: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, JSON object) of each non-blank line; DataError for a missing, unreadable or empty file."""
    if file.is_dir():
        raise DataError(f"{file} is a directory, expected a .jsonl file of labelled rows")
    if not file.is_file():
        raise DataError(f"feedback file not found: {file}", hint="pass a JSON Lines file: one {text, intent} a line")
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, raw in utf8_lines(file):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{file}:{number}: not valid JSON ({exc.msg})", hint="each line must be one JSON object"
            ) from exc
        if not isinstance(row, dict):
            raise DataError(f"{file}:{number}: expected a JSON object, got {type(row).__name__}")
        rows.append((number, row))
    if not rows:
        raise DataError(
            f"{file} has no rows", hint='one JSON object a line: {"text": "...", "intent": "...", "complexity"?: ...}'
        )
    return rows


def _new_rows(
    file: Path, rows: list[tuple[int, dict[str, Any]]], existing: list[Example], natural: list[Example]
) -> tuple[list[Example], int]:
    """The rows to append and the number of exact duplicates skipped; DataError listing every bad row."""
    # The generator's key (case, whitespace, end punctuation .,;:!?…) is a little coarser than the dataset's
    # (ml.data.normalize_key): whatever the stage would drop as a duplicate is caught here first.
    known = {dedup_key(e.text): e.intent for e in existing}
    held_out = {dedup_key(e.text) for e in natural}
    problems: list[str] = []
    new: list[Example] = []
    first_seen: dict[str, tuple[int, str]] = {}
    skipped = 0
    for number, row in rows:
        where = f"{file}:{number}"
        try:
            # The dataset's own row check (text, intent in the taxonomy, complexity); the row's own "source", if
            # any, gives way to --source.
            example = parse_row(json.dumps({k: v for k, v in row.items() if k != "source"}), where)
        except DataError as exc:
            problems.append(exc.message)
            continue
        key = dedup_key(example.text)
        if key in held_out:
            problems.append(f"{where}: {example.text!r} is in the held-out natural set, which must stay unseen")
        elif key in known and known[key] != example.intent:
            problems.append(
                f"{where}: {example.text!r} is labelled {known[key]!r} in the dataset, not {example.intent!r}"
            )
        elif key in first_seen and first_seen[key][1] != example.intent:
            problems.append(
                f"{where}: {example.text!r} is labelled {first_seen[key][1]!r} on line {first_seen[key][0]}, "
                f"not {example.intent!r}"
            )
        elif key in known or key in first_seen:
            skipped += 1
        else:
            first_seen[key] = (number, example.intent)
            new.append(example)
    if problems:
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        raise DataError(
            f"{len(problems)} of {len(rows)} row(s) in {file} cannot be added{more}; nothing was changed:\n  "
            + "\n  ".join(problems[:SHOWN_PROBLEMS]),
            hint="fix or remove those rows (intents: ml/taxonomy.py; a conflicting label needs one answer), then rerun",
        )
    return new, skipped


def _without_near_held_out(new: list[Example], natural: list[Example]) -> tuple[list[Example], int]:
    """The rows that reword no held-out prompt, and how many did (each logged with its match).

    Skipped rather than refused: chit-chat such as "hey, how's it going?" is common in real captures, and one such
    row must not block a review's other rows; an exact held-out prompt is still refused (`_new_rows`).
    """
    index = NearDuplicates([e.text for e in natural])
    kept: list[Example] = []
    for example in new:
        match = index.match(example.text)
        if match is None:
            kept.append(example)
        else:
            log.warning("skipped %r: it rewords the held-out prompt %r (%.2f of words shared)", example.text, *match)
    return kept, len(new) - len(kept)


def _check_stage_current(repo: Path) -> None:
    """Refuse to stack a version on a stage whose inputs changed since dvc.lock (e.g. a hand-edited feedback file):
    the new version would carry rows its record does not name."""
    proc = run_dvc(["status", STAGE, "--json"], repo)
    try:
        changes = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        changes = {"?": proc.stdout.strip()}
    if changes:
        raise DataError(
            f"the `{STAGE}` stage is not up to date with dvc.lock: {json.dumps(changes, sort_keys=True)}",
            hint=f"commit or revert those changes first (`dvc repro {STAGE}` + commit dvc.lock, or `git checkout`)",
        )


@contextlib.contextmanager
def _exclusive(repo: Path) -> Iterator[None]:
    """Hold a lock on the repository's data for the whole add: two adds at once would stack on the same parent."""
    lock = repo / LOCK_PATH
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataError(
                "another `mlops data add` is running in this repository", hint="wait for it to finish, then rerun"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_or_none(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _restore(repo: Path, saved: dict[str, bytes | None]) -> None:
    """Put every touched file back as it was (removing one that did not exist); unlink first, so a file DVC links
    into its cache is replaced rather than written through."""
    for rel, content in saved.items():
        path = repo / rel
        path.unlink(missing_ok=True)
        if content is not None:
            path.write_bytes(content)
    log.info("rolled back %s", ", ".join(saved))
