"""The local state directory can be moved or copied: it records where it lives, and is relocated when it moves.

The MLflow SQLite store (`mlflow.db`) holds absolute artifact locations (`file:///<state>/mlartifacts/...`), and
run directories may hold absolute paths: a copy used as is would read and write the original's artifacts. So the
directory records its own absolute path in HOME_FILE; when it is found elsewhere (moved, copied, mounted at
another path), every stored path under the old location is rewritten to the new one before anything else runs
(`mlops state relocate` does the same on demand, from any old location).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ml.errors import MlopsError

log = logging.getLogger(__name__)

HOME_FILE = ".state-home"
MLFLOW_DB = "mlflow.db"
# The local runner's run directories (pipelines.local_runner): <state>/runs/<run id>/run.json, and runs/LATEST
# naming the latest run (its directory name; an absolute path in state directories from before).
RUNS_DIR = "runs"
RUN_FILE = "run.json"
LATEST_FILE = "LATEST"


@dataclass(frozen=True)
class Relocation:
    """What a relocation rewrote."""

    state_dir: str
    old: str
    database_values: int
    run_files: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


def ensure_home(state: Path) -> Relocation | None:
    """Record where `state` lives; relocate it when it records another place (None when it had not moved)."""
    home = state / HOME_FILE
    recorded = home.read_text(encoding="utf-8").strip() if home.is_file() else ""
    if recorded == str(state):
        return None
    if not recorded:
        try:
            _write_home(state)
        except OSError as exc:  # a read-only state directory can still be read; it cannot be relocated later
            log.warning("cannot record where the state directory %s lives: %s", state, exc)
        return None
    relocation = relocate(state, Path(recorded))
    log.warning(
        "state directory %s was moved or copied from %s: relocated %d stored path(s) and %d run file(s)",
        state,
        recorded,
        relocation.database_values,
        relocation.run_files,
    )
    return relocation


def relocate(state: Path, old: Path | None = None) -> Relocation:
    """Rewrite every path stored under `old` (default: where `state` last recorded itself) to `state`."""
    state = Path(state).resolve()
    if old is None:
        home = state / HOME_FILE
        if not home.is_file():
            raise MlopsError(
                f"{state} does not record where it was", hint="give the old location: mlops state relocate --from DIR"
            )
        old = Path(home.read_text(encoding="utf-8").strip())
    pairs = _replacements(Path(old), state)
    try:
        values = _relocate_database(state / MLFLOW_DB, pairs) if old != state else 0
        run_files = _relocate_runs(state / RUNS_DIR, pairs) if old != state else 0
        _write_home(state)
    except (OSError, sqlite3.Error, ValueError) as exc:
        raise MlopsError(
            f"the state directory {state} was moved or copied from {old}, and its stored paths could not be "
            f"rewritten: {exc}",
            hint="make it writable and run the command again (or `mlops state relocate`)",
        ) from exc
    return Relocation(str(state), str(old), values, run_files)


def _write_home(state: Path) -> None:
    tmp = state / f".{HOME_FILE}.tmp"
    tmp.write_text(f"{state}\n", encoding="utf-8")
    tmp.replace(state / HOME_FILE)


def _replacements(old: Path, new: Path) -> list[tuple[str, str]]:
    """(old prefix, new prefix) pairs: the URI form (percent-encoded) first, then the plain path."""
    return [(old.as_uri() + "/", new.as_uri() + "/"), (f"{old}/", f"{new}/")]


def _rewrite(value: str, pairs: list[tuple[str, str]]) -> str:
    for before, after in pairs:
        value = value.replace(before, after)
    return value


def _relocate_database(db: Path, pairs: list[tuple[str, str]]) -> int:
    """Rewrite the text columns of every table of the SQLite store; the number of values changed."""
    if not db.is_file():
        return 0
    changed = 0
    with closing(sqlite3.connect(db, timeout=30)) as connection, connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [
                row[1]
                for row in connection.execute(f'PRAGMA table_info("{table}")')
                if any(kind in str(row[2]).upper() for kind in ("CHAR", "TEXT", "CLOB"))
            ]
            for column in columns:
                for before, after in pairs:
                    cursor = connection.execute(
                        # The names come from the store's own schema, quoted; the values are parameters.
                        f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) WHERE instr("{column}", ?) > 0',  # noqa: S608
                        (before, after, before),
                    )
                    changed += cursor.rowcount
    return changed


def _relocate_runs(runs: Path, pairs: list[tuple[str, str]]) -> int:
    """Rewrite the paths in runs/LATEST and every run.json; the number of files changed."""
    changed = 0
    candidates = [runs / LATEST_FILE, *runs.glob(f"*/{RUN_FILE}")] if runs.is_dir() else []
    for path in candidates:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if path.name == RUN_FILE:
            new_text = json.dumps(_rewrite_json(json.loads(text), pairs), indent=2, sort_keys=True) + "\n"
        else:
            new_text = _rewrite(text, pairs)
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
            changed += 1
    return changed


def _rewrite_json(value: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        return _rewrite(value, pairs)
    if isinstance(value, list):
        return [_rewrite_json(v, pairs) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite_json(v, pairs) for k, v in value.items()}
    return value
