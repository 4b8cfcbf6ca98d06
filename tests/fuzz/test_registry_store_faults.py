"""The registry store failing under promote and rollback: locked by another writer (a real SQLite lock), and the
process killed (SIGKILL) between moving the champion alias and writing its audit record."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from model_registry.promotion import audit_log, champion_history, promote, rollback
from tests.model_registry.standins import (
    CLI_WITH_SHORT_BUSY_WAIT,
    audit_tags,
    champion,
    locked_store,
    register_standin,
    short_busy_wait,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# promote or rollback (argv[1]) in a process that SIGKILLs itself right after the champion alias moved.
KILLED_AFTER_THE_ALIAS_MOVED = """
import os, signal, sys
from mlflow.tracking import MlflowClient
from model_registry import promotion

move = MlflowClient.set_registered_model_alias
def move_then_die(self, name, alias, version):
    move(self, name, alias, version)
    if alias == promotion.CHAMPION:
        os.kill(os.getpid(), signal.SIGKILL)
MlflowClient.set_registered_model_alias = move_then_die
action, uri = sys.argv[1], sys.argv[2]
promotion.promote("2", tracking_uri=uri) if action == "promote" else promotion.rollback(tracking_uri=uri)
"""


def _killed(action: str, uri: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_THE_ALIAS_MOVED, action, uri], check=False)
    assert proc.returncode == -signal.SIGKILL


def _store(root: Path, versions: int = 2) -> str:
    uri = f"sqlite:///{root / 'mlflow.db'}"
    for key in range(versions):
        register_standin(root, str(key), tracking_uri=uri)
    assert promote("1", tracking_uri=uri).moved
    return uri


def test_a_kill_after_the_alias_moved_is_completed_by_a_rerun(tmp_path: Path) -> None:
    uri = _store(tmp_path)
    _killed("promote", uri)
    assert champion(uri) == "2" and audit_tags("2", uri) == {}  # moved, its audit record not written
    again = promote("2", tracking_uri=uri)
    assert again.noop and "wrote the audit record of its promote" in again.message, again.message
    (event,) = audit_tags("2", uri).values()
    assert (event["from_version"], event["to_version"]) == ("1", "2") and event in audit_tags("1", uri).values()
    assert promote("2", tracking_uri=uri).message.endswith("nothing to do")  # complete now: a true no-op

    _killed("rollback", uri)
    assert champion(uri) == "1" and not any(e["action"] == "rollback" for e in audit_tags("1", uri).values())
    done = rollback(tracking_uri=uri)
    # The rerun completes the rollback that was made; it does not roll back one step further.
    assert done.noop and champion(uri) == "1" and "wrote the audit record of its rollback" in done.message
    assert [e["action"] for e in audit_log(tracking_uri=uri)] == ["promote", "promote", "rollback"]
    assert {e["action"] for e in audit_tags("2", uri).values()} == {"promote", "rollback"}


def test_a_store_locked_while_writing_the_audit_says_so_and_a_rerun_completes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    uri = _store(tmp_path)
    held = contextlib.ExitStack()
    move = MlflowClient.set_registered_model_alias

    def move_then_lock(self: MlflowClient, name: str, alias: str, version: str) -> None:
        move(self, name, alias, version)
        held.enter_context(locked_store(uri))  # another writer takes the store right after the commit point

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", move_then_lock)
    with short_busy_wait(), held:
        result = promote("2", tracking_uri=uri)
    monkeypatch.undo()
    assert result.moved and champion(uri) == "2"
    warning, challenger = result.warnings  # neither the audit record nor the challenger alias's removal was written
    assert "the registry store is busy" in warning and "no longer exists" not in warning
    assert "could not remove challenger from v2" in challenger and "--candidate 2` does it" in challenger
    assert audit_tags("2", uri) == {}
    rerun = promote("2", tracking_uri=uri).message
    assert "wrote the audit record" in rerun and "challenger removed from v2" in rerun
    assert len(audit_tags("2", uri)) == 1


def test_a_locked_store_is_one_clear_error_for_promote_and_rollback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mlops_cli.main import cli

    uri = _store(tmp_path, versions=3)
    assert promote("2", tracking_uri=uri).moved
    env = {"MLFLOW_TRACKING_URI": uri}
    with locked_store(uri):
        # The user's path: a subprocess, exit status 1, one error line and its hint, no traceback.
        proc = subprocess.run(
            [sys.executable, "-c", CLI_WITH_SHORT_BUSY_WAIT, "registry", "promote", "--candidate", "3"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=False,
        )
        with short_busy_wait():
            back = CliRunner().invoke(cli, ["registry", "rollback"], env=env)
    assert proc.returncode == 1, proc.stderr
    assert "is busy (locked by another writer): promote did not finish and moved no alias" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 3, proc.stderr
    assert back.exit_code == 1 and "is busy (locked by another writer): rollback did not finish" in back.output
    assert champion_history(tracking_uri=uri) == {"name": "intent-classifier", "champion": "2", "previous": ["1"]}
    assert promote("3", tracking_uri=uri).moved  # once the lock is gone, a rerun goes through
