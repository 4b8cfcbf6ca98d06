"""Promotion gates, audit trail and rollback on a local SQLite registry (no training: stand-in model directories)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml.taxonomy import INTENTS
from model_registry.promotion import audit_log, champion_history, promote, rollback
from model_registry.tracking import RegistryError
from tests.conftest import run_cli
from tests.model_registry.standins import GOOD_METRICS, NAME
from tests.model_registry.standins import audit_tags as _audit_tags
from tests.model_registry.standins import champion as _champion
from tests.model_registry.standins import client as _client
from tests.model_registry.standins import register_standin as _register

# ---------------------------------------------------------------------------------- each gate refused alone

# One shared store for the refusals: a refused promotion changes nothing, so the cases cannot interfere.
CASES: dict[str, dict[str, Any]] = {
    "metrics_worse": {
        "register": {"metrics": {**GOOD_METRICS, "macro_f1": 0.90}},
        "gate": "metrics",
        "expect": ["macro_f1 0.9000 vs champion v1 0.9400 - tolerance 0.01 (minimum 0.9300)"],
    },
    "accuracy_worse": {
        "register": {"metrics": {**GOOD_METRICS, "accuracy": 0.91}},
        "gate": "metrics",
        "expect": ["accuracy 0.9100 vs champion v1 0.9500", "minimum 0.9400"],
    },
    "parity_missing": {
        "register": {"parity": False},
        "gate": "onnx_parity",
        "expect": ["no accepted ONNX export was registered with this version"],
    },
    "p95_over_budget": {
        "register": {"bench": {"p95_ms": 612.5}},
        "gate": "benchmark",
        "expect": ["p95 612.5 ms > budget 500.0 ms"],
    },
    "errors": {
        "register": {"bench": {"errors": 3}},
        "gate": "benchmark",
        "expect": ["bench.errors 3 > 0"],
    },
    "bench_not_passed": {
        "register": {"bench": {"passed": False}},
        "gate": "benchmark",
        "expect": ["bench.passed=false (benchmark's own budget 500 ms)"],
    },
    "bench_missing": {
        "register": {"no_bench": True},
        "gate": "benchmark",
        "expect": ["no benchmark evidence: the version was registered without a benchmark report"],
    },
    "labels_differ": {
        "register": {"labels": [*INTENTS, "weather"]},
        "gate": "labels",
        "expect": [f"candidate {len(INTENTS) + 1} labels vs champion {len(INTENTS)}: adds ['weather'], drops []"],
    },
    "labels_reordered": {
        "register": {"labels": list(reversed(INTENTS))},
        "gate": "labels",
        "expect": ["labels in a different id order"],
    },
}


@pytest.fixture(scope="module")
def gate_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A store with champion v1 and one candidate per refusal case; yields (tracking URI, case -> version)."""
    root = tmp_path_factory.mktemp("gates")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_STATE_DIR", str(root))  # artifacts too stay out of the project's .mlops
        assert _register(root, "champion", tracking_uri=uri) == "1"
        assert promote("1", tracking_uri=uri, actor="setup").moved
        versions = {case: _register(root, case, tracking_uri=uri, **spec["register"]) for case, spec in CASES.items()}
        yield uri, versions


@pytest.mark.parametrize("case", list(CASES))
def test_promotion_refused_for_each_failing_gate(case: str, gate_registry: tuple[str, dict[str, str]]) -> None:
    uri, versions = gate_registry
    result = promote(versions[case], tracking_uri=uri)
    assert not result.ok and not result.moved
    assert [g.name for g in result.failed_gates] == [CASES[case]["gate"]], result.message
    assert len(result.gates) == 5  # every gate evaluated, not only up to the first failure
    for text in CASES[case]["expect"]:
        assert text in result.message, result.message
    assert result.champion_after == "1" and _champion(uri) == "1"
    assert _audit_tags(versions[case], uri) == {}


def test_all_failing_gates_are_listed_together(gate_registry: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    uri, _ = gate_registry
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_STATE_DIR", str(tmp_path))
        bad = _register(
            tmp_path,
            "all-bad",
            tracking_uri=uri,
            metrics={**GOOD_METRICS, "macro_f1": 0.5},
            parity=False,
            bench={"p95_ms": 900.0},
            labels=INTENTS[:3],
        )
    result = promote(bad, tracking_uri=uri)
    assert {g.name for g in result.failed_gates} == {"metrics", "onnx_parity", "benchmark", "labels"}
    assert "4 of 5 gates failed; champion stays v1" in result.message and _champion(uri) == "1"


# ------------------------------------------------------------------------------------- accepted promotions


def test_first_promotion_without_a_champion(tmp_path: Path) -> None:
    version = _register(tmp_path, "a")
    assert _client().get_model_version(NAME, version).tags["labels"] == ",".join(INTENTS)
    result = promote(actor="alice", reason="first model")
    assert result.ok and result.moved and result.champion_before is None and _champion() == version
    assert "no champion yet" in result.gates[1].detail and "no champion yet" in result.gates[4].detail
    (event,) = _audit_tags(version).values()
    assert (event["action"], event["actor"], event["from_version"], event["to_version"]) == (
        "promote",
        "alice",
        None,
        "1",
    )
    assert event["reason"] == "first model" and event["at"].endswith("Z")
    assert champion_history() == {"name": NAME, "champion": "1", "previous": []}


def test_accepted_promotion_records_audit_on_both_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _register(tmp_path, "old")
    promote(old, actor="alice")
    # Within tolerance: 0.935 >= 0.94 - 0.01.
    new = _register(tmp_path, "new", metrics={**GOOD_METRICS, "macro_f1": 0.935})
    monkeypatch.setenv("MLOPS_ACTOR", "ci-bot")
    result = promote("challenger", reason="weekly retrain")
    assert result.ok and result.moved, result.message
    assert (result.champion_before, result.champion_after, _champion()) == (old, new, new)
    assert f"same {len(INTENTS)} labels" in result.gates[4].detail
    on_new, on_old = _audit_tags(new), _audit_tags(old)
    (key,) = on_new
    assert key in on_old and on_old[key] == on_new[key]  # the same record on the winner and the loser
    event = on_new[key]
    assert event["actor"] == "ci-bot" and event["reason"] == "weekly retrain"
    assert (event["from_version"], event["to_version"]) == (old, new)
    assert "metrics: passed" in event["gates"] and "benchmark: passed" in event["gates"]
    assert [(e["action"], e["from_version"], e["to_version"]) for e in audit_log()] == [
        ("promote", None, old),
        ("promote", old, new),
    ]
    assert champion_history()["previous"] == [old]


def _aliases() -> dict[str, str]:
    return {alias: str(version) for alias, version in _client().get_registered_model(NAME).aliases.items()}


def test_champion_and_challenger_are_never_the_same_version(tmp_path: Path) -> None:
    old = _register(tmp_path, "old")
    promote(old)
    new = _register(tmp_path, "new")  # registered as the challenger
    result = promote("challenger")
    assert result.moved and f"challenger removed from v{new} (now champion)" in result.message
    assert _aliases() == {"champion": new}
    (event,) = _audit_tags(new).values()
    assert event["challenger_removed"] is True  # the audit trail says so
    # Undoing that promotion gives the challenger alias back to the version it took it from.
    back = rollback()
    assert back.moved and f"challenger back on v{new}" in back.message
    assert _aliases() == {"champion": old, "challenger": new}
    # A challenger set since is left where it is.
    promote(new)
    newer = _register(tmp_path, "newer")
    rollback()
    assert _aliases() == {"champion": old, "challenger": newer}


def test_promoting_the_champion_again_is_a_noop(tmp_path: Path) -> None:
    version = _register(tmp_path, "a")
    promote(version)
    result = promote(version)
    assert result.ok and result.noop and not result.moved and "already is champion" in result.message
    assert len(audit_log()) == 1


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    first = _register(tmp_path, "a")
    promote(first)
    second = _register(tmp_path, "b")
    result = promote(dry_run=True)
    assert result.ok and not result.moved and result.dry_run and "would move champion v1 -> v2" in result.message
    refused = promote(_register(tmp_path, "c", parity=False), dry_run=True)
    assert not refused.ok and refused.failed_gates[0].name == "onnx_parity"
    promote(second)
    back = rollback(dry_run=True)
    assert back.dry_run and back.candidate == first and not back.moved
    assert _champion() == second and len(audit_log()) == 2 and champion_history()["previous"] == [first]


# ----------------------------------------------------------------------------------------------- rollback


def test_rollback_restores_the_previous_champion_and_can_be_undone(tmp_path: Path) -> None:
    v1, v2, v3 = (_register(tmp_path, k) for k in "abc")
    for version in (v1, v2, v3):
        promote(version)
    result = rollback(actor="oncall", reason="p99 regression in prod")
    assert result.moved and (result.champion_before, result.champion_after, _champion()) == (v3, v2, v2)
    (key,) = {k for k, e in _audit_tags(v2).items() if e["action"] == "rollback"}
    event = _audit_tags(v2)[key]
    assert _audit_tags(v3)[key] == event
    assert (event["action"], event["actor"], event["from_version"], event["to_version"]) == (
        "rollback",
        "oncall",
        v3,
        v2,
    )
    assert event["reason"] == "p99 regression in prod"
    assert champion_history()["previous"] == [v1]
    assert rollback().champion_after == v1 and champion_history()["previous"] == []
    # Undo the rollbacks by promoting again.
    assert promote(v3).moved and _champion() == v3 and champion_history()["previous"] == [v1]
    actions = [(e["action"], e["from_version"], e["to_version"]) for e in audit_log()]
    assert actions[-3:] == [("rollback", v3, v2), ("rollback", v2, v1), ("promote", v1, v3)]


def test_rollback_without_history_is_a_clear_error(tmp_path: Path) -> None:
    version = _register(tmp_path, "a")
    with pytest.raises(RegistryError, match="has no champion: nothing to roll back"):
        rollback()
    promote(version)
    with pytest.raises(
        RegistryError, match=r"no previous champion of intent-classifier to roll back to: v1 is the first"
    ):
        rollback()
    assert _champion() == version


# ---------------------------------------------------------------------------------------- partial failures


def test_failure_before_the_alias_moves_leaves_the_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    v1 = _register(tmp_path, "a")
    promote(v1)
    v2 = _register(tmp_path, "b")

    def fail(*args: object, **kwargs: object) -> None:
        raise MlflowException("connection reset")

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", fail)
    with pytest.raises(RegistryError, match="could not move champion of intent-classifier to v2"):
        promote(v2)
    monkeypatch.undo()
    # champion_history was already written, but the alias decides: the old state, no record of a move.
    assert _champion() == v1 and champion_history()["previous"] == []
    assert len(audit_log()) == 1 and _audit_tags(v2) == {}
    assert promote(v2).moved and champion_history()["previous"] == [v1]  # a rerun completes it


def test_failure_after_the_alias_moved_keeps_the_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    v1 = _register(tmp_path, "a")
    promote(v1)
    v2 = _register(tmp_path, "b")
    original = MlflowClient.set_model_version_tag

    def fail_audit(self: Any, name: str, version: str, key: str, value: str) -> None:
        if key.startswith("audit."):
            raise MlflowException("connection reset")
        original(self, name, version, key, value)

    monkeypatch.setattr(MlflowClient, "set_model_version_tag", fail_audit)
    result = promote(v2, reason="audit write fails")
    monkeypatch.undo()
    assert result.moved and _champion() == v2 and "audit tags not written" in result.warnings[0]
    assert _audit_tags(v2) == {} and audit_log()[-1]["reason"] == "audit write fails"  # held by champion_history
    rollback()  # the next write repairs the missing tags first
    assert {e["reason"] for e in _audit_tags(v2).values()} >= {"audit write fails"}
    assert [e["action"] for e in audit_log()] == ["promote", "promote", "rollback"]


def test_an_alias_moved_by_hand_keeps_the_champion_it_replaced(tmp_path: Path) -> None:
    v1, v2, v3 = (_register(tmp_path, k) for k in "abc")
    promote(v1)
    promote(v2)
    _client().set_registered_model_alias(NAME, "champion", v3)  # e.g. in the MLflow UI, bypassing the gates
    assert champion_history()["previous"] == [v1, v2]
    assert rollback(reason="undo the manual move").champion_after == v2 and champion_history()["previous"] == [v1]


def test_actor_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    from model_registry.promotion import resolve_actor

    monkeypatch.delenv("MLOPS_ACTOR", raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    assert resolve_actor() == "octocat"
    monkeypatch.setenv("MLOPS_ACTOR", "release-bot")
    assert resolve_actor() == "release-bot" and resolve_actor("alice") == "alice"


# ---------------------------------------------------------------------------------------------------- CLI


def test_cli_promote_rollback_and_audit(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mlops_cli.main import cli

    v1 = _register(tmp_path, "a")
    runner = CliRunner()
    ok = runner.invoke(cli, ["registry", "promote", "--reason", "first", "--actor", "alice"])
    assert ok.exit_code == 0, ok.output
    assert "PASS metrics" in ok.output and "champion of intent-classifier: (none) -> v1" in ok.output
    bad = _register(tmp_path, "b", bench={"p95_ms": 700.0, "errors": 2}, parity=False)

    # The user's path: a subprocess, exit status 1, every failed gate with its numbers.
    proc = run_cli("registry", "promote", "--candidate", "challenger")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL onnx_parity  no accepted ONNX export was registered" in proc.stdout
    assert "FAIL benchmark    p95 700.0 ms > budget 500.0 ms; bench.errors 2 > 0" in proc.stdout
    assert (
        "error: promotion of v2 refused (2 of 5 gates failed: onnx_parity, benchmark); champion unchanged (v1)"
        in proc.stderr
    )
    assert "Traceback" not in proc.stderr

    as_json = runner.invoke(cli, ["registry", "promote", "--candidate", bad, "--p95-budget-ms", "800", "--json"])
    assert as_json.exit_code == 1
    payload = json.loads(as_json.stdout)
    assert payload["failed_gates"] == ["onnx_parity", "benchmark"] and payload["champion_after"] == v1
    assert payload["gates"][3]["values"]["p95_ms"] == 700.0 and payload["gates"][3]["detail"] == "bench.errors 2 > 0"

    v3 = _register(tmp_path, "c")
    assert runner.invoke(cli, ["registry", "promote", "--dry-run", "--json"]).exit_code == 0
    assert _champion() == v1
    assert runner.invoke(cli, ["registry", "promote", "--actor", "bob"]).exit_code == 0 and _champion() == v3

    back = runner.invoke(cli, ["registry", "rollback", "--reason", "bad canary", "--json"])
    assert back.exit_code == 0, back.output
    assert json.loads(back.stdout)["champion_after"] == v1 and _champion() == v1
    none_left = runner.invoke(cli, ["registry", "rollback"])
    assert none_left.exit_code == 1 and "no previous champion" in none_left.output

    text = runner.invoke(cli, ["registry", "audit"])
    assert text.exit_code == 0 and "bad canary" in text.output and "alice" in text.output
    events = json.loads(runner.invoke(cli, ["registry", "audit", "--json"]).stdout)
    assert [(e["action"], e["to_version"]) for e in events["events"]] == [
        ("promote", v1),
        ("promote", v3),
        ("rollback", v1),
    ]
    assert events["champion"] == v1 and events["previous"] == []


def test_unknown_model_and_unreachable_registry_are_clear_errors() -> None:
    with pytest.raises(RegistryError, match="no registered model 'intent-classifier'"):
        promote()
    with pytest.raises(RegistryError, match="could not read 'intent-classifier' from the registry") as info:
        audit_log(tracking_uri="http://127.0.0.1:9")  # discard port: nothing listens
    assert "nothing was changed" in str(info.value)
