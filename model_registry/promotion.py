"""Move the `champion` alias to a candidate version only on recorded evidence (the gates of `model_registry.gates`);
roll back; keep an audit trail.

Storage. Each event (promotion or rollback) is a JSON record `{id, action, at, actor, from_version, to_version,
reason, gates, ...}` kept as one version tag `audit.<UTC timestamp>.<id>` on the version that became champion and
on the one that lost it: one small tag per event, so no tag ever grows towards MLflow's value-size limit (5000
characters on older servers). The registered-model tag `champion_history` is one JSON object:
`{"champion": V, "previous": [older champions, oldest first, at most 50], "event": <the last event>, "prior":
{"champion": ..., "previous": [...]}}`. Rollback pops `previous`; undoing a rollback is another promotion.

Write order. MLflow has no transactions, so the alias is the commit point and is written between the others:

1. `champion_history` gets the new state *and* the state it replaces (`prior`) plus the event;
2. the `champion` alias moves (the commit);
3. the `audit.*` tags are written on both versions.

A failure before 2 leaves the alias where it was; readers compare the alias with the history tag and, when the
alias still points at `prior.champion`, use `prior`: the old state, with no audit record of a move that never
happened. A failure during 3 leaves a consistent new state whose event is still held by `champion_history`:
`audit_log` reports it from there and the next promotion or rollback writes the missing tags. An alias moved by
hand (MLflow UI) is detected the same way and its predecessor is kept in the history. Concurrent promotions of the
same model are not serialised here (MLflow offers no compare-and-swap): run them one at a time (the CI workflow
uses a concurrency group).

Champion and challenger are never the same version: a promotion of the version `challenger` points at removes that
alias once `champion` has moved (the event records `challenger_removed`, so the audit trail says so), and the
rollback of that promotion gives `challenger` back to the demoted version when nobody has set it since. A failure
there is a warning: the champion move is committed either way.
"""

from __future__ import annotations

import json
import logging
import math
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ml.actor import resolve_actor  # also re-exported: callers name the actor through this module
from ml.settings import P95_BUDGET_MS, REGISTERED_MODEL_NAME
from model_registry.gates import Gate, evaluate_gates, summary
from model_registry.registration import CHALLENGER
from model_registry.store import guarded, is_busy
from model_registry.tracking import RegistryError, client, first_line, require_registered_model
from model_registry.tracking import tracking_uri as resolved_uri

log = logging.getLogger(__name__)

CHAMPION = "champion"
HISTORY_TAG = "champion_history"
AUDIT_PREFIX = "audit."
HISTORY_LIMIT = 50
# Keeps every tag value well under 5000 characters, the limit of older MLflow servers.
_TEXT_LIMIT = 1000


@dataclass
class PromotionResult:
    """What a promote or rollback did (or, refused or dry-run, would have done)."""

    name: str
    action: str  # "promote" or "rollback"
    candidate: str  # the version the alias moves (or would move) to
    champion_before: str | None
    champion_after: str | None
    ok: bool  # all gates passed (always true for a rollback or a no-op)
    moved: bool  # the champion alias was moved by this call
    dry_run: bool = False
    noop: bool = False
    message: str = ""
    gates: list[Gate] = field(default_factory=list)
    event: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def failed_gates(self) -> list[Gate]:
        """The gates that did not pass."""
        return [g for g in self.gates if not g.passed]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        out = asdict(self)
        out["failed_gates"] = [g.name for g in self.failed_gates]
        return out


@dataclass(frozen=True)
class _State:
    """The champion as the registry has it now, and the earlier champions a rollback can return to."""

    champion: str | None
    previous: list[str]
    last_event: dict[str, Any] | None  # the committed event held by champion_history, if any


def _result(
    action: str, name: str, target: str, before: str | None, after: str | None, *, ok: bool = True, **kwargs: Any
) -> PromotionResult:
    return PromotionResult(
        name=name,
        action=action,
        candidate=target,
        champion_before=before,
        champion_after=after,
        ok=ok,
        moved=kwargs.pop("moved", False),
        **kwargs,
    )


# ---------------------------------------------------------------------------------------------- public API


def promote(
    candidate: str = CHALLENGER,
    *,
    name: str = REGISTERED_MODEL_NAME,
    tolerance: float = 0.01,
    p95_budget_ms: float = P95_BUDGET_MS,
    dry_run: bool = False,
    actor: str | None = None,
    reason: str | None = None,
    tracking_uri: str | None = None,
) -> PromotionResult:
    """Move `champion` to `candidate` (alias or version) if every gate passes; otherwise change nothing."""
    # Written as "valid only if": a NaN threshold fails every comparison, so `tolerance < 0` alone would let it in.
    if not (0 <= tolerance <= 1 and math.isfinite(p95_budget_ms) and p95_budget_ms > 0):
        raise RegistryError(
            f"invalid thresholds: tolerance {tolerance} (0 to 1), p95 budget {p95_budget_ms} ms (a number > 0)",
            hint="e.g. --tolerance 0.01 --p95-budget-ms 500",
        )
    with _guard("promote", tracking_uri):
        return _promote(candidate, name, tolerance, p95_budget_ms, dry_run, actor, reason, tracking_uri)


def _promote(
    candidate: str,
    name: str,
    tolerance: float,
    p95_budget_ms: float,
    dry_run: bool,
    actor: str | None,
    reason: str | None,
    uri: str | None,
) -> PromotionResult:
    mlflow_client = client(uri)
    state = _read_state(mlflow_client, name)
    version = _resolve(mlflow_client, name, candidate)
    target = str(version.version)
    if state.champion == target:
        message = f"{name} v{target} already is {CHAMPION}: nothing to do"
        # A rerun after a promotion stopped between moving the alias and writing its audit record completes it.
        if state.last_event and _audit_pending(mlflow_client, name, state.last_event):
            message = _complete_audit(mlflow_client, name, state.last_event, dry_run, message.split(":")[0])
        warnings: list[str] = []
        if _aliases(mlflow_client, name).get(CHALLENGER) == target:  # ... and so does it take challenger off it
            message = message.removesuffix(": nothing to do") + (
                f"; dry run: would remove {CHALLENGER} from v{target}"
                if dry_run
                else _move_challenger(mlflow_client, name, target, warnings, restore=False)
            )
        log.info(message)
        return _result(
            "promote", name, target, target, target, dry_run=dry_run, noop=True, message=message, warnings=warnings
        )
    champion = _get_version(mlflow_client, name, state.champion) if state.champion else None
    gates = evaluate_gates(mlflow_client, version, champion, tolerance=tolerance, p95_budget_ms=p95_budget_ms)
    failed = [g for g in gates if not g.passed]
    before = state.champion
    if failed:
        message = (
            f"promotion of {name} v{target} refused: {len(failed)} of {len(gates)} gates failed; "
            f"{CHAMPION} stays {_v(before)}\n" + "\n".join(f"  {g.name}: {g.detail}" for g in failed)
        )
        log.info(message)  # a verdict for the caller to report, not a fault of this module
        return _result("promote", name, target, before, before, ok=False, dry_run=dry_run, message=message, gates=gates)
    event = _event("promote", name, before, target, actor, reason, _clip(summary(gates)))
    if dry_run:
        message = f"dry run: all {len(gates)} gates passed; would move {CHAMPION} {_v(before)} -> v{target}"
        return _result("promote", name, target, before, before, dry_run=True, message=message, gates=gates, event=event)
    previous = ([*state.previous, before])[-HISTORY_LIMIT:] if before else state.previous
    if _aliases(mlflow_client, name).get(CHALLENGER) == target:
        event["challenger_removed"] = True
    warnings = _commit(mlflow_client, name, state, target, previous, event)
    message = f"{CHAMPION} of {name}: {_v(before)} -> v{target} (all {len(gates)} gates passed)"
    if event.get("challenger_removed"):
        message += _move_challenger(mlflow_client, name, target, warnings, restore=False)
    log.info(message)
    return _result(
        "promote",
        name,
        target,
        before,
        target,
        moved=True,
        message=message,
        gates=gates,
        event=event,
        warnings=warnings,
    )


def rollback(
    *,
    name: str = REGISTERED_MODEL_NAME,
    actor: str | None = None,
    reason: str | None = None,
    dry_run: bool = False,
    tracking_uri: str | None = None,
) -> PromotionResult:
    """Give `champion` back to the previous champion recorded in champion_history; undo with a new promote."""
    with _guard("rollback", tracking_uri):
        return _rollback(name, actor, reason, dry_run, tracking_uri)


def _rollback(name: str, actor: str | None, reason: str | None, dry_run: bool, uri: str | None) -> PromotionResult:
    mlflow_client = client(uri)
    state = _read_state(mlflow_client, name)
    last = state.last_event
    if last and last.get("action") == "rollback" and _audit_pending(mlflow_client, name, last):
        # The last rollback moved the alias but stopped before its audit record: a rerun completes that rollback
        # rather than rolling back one step further (run again for that).
        done = f"the rollback v{last.get('from_version')} -> v{last.get('to_version')} had already moved {CHAMPION}"
        message = _complete_audit(mlflow_client, name, last, dry_run, done)
        message += "; run `mlops registry rollback` again to go one step further back"
        log.info(message)
        current = str(state.champion)
        return _result("rollback", name, current, current, current, dry_run=dry_run, noop=True, message=message)
    if state.champion is None:
        raise RegistryError(
            f"{name} has no {CHAMPION}: nothing to roll back",
            hint="promote a version first: `mlops registry promote --candidate VERSION`",
        )
    if not state.previous:
        raise RegistryError(
            f"no previous {CHAMPION} of {name} to roll back to: v{state.champion} is the first one recorded",
            hint="promote a specific version instead: `mlops registry promote --candidate VERSION`",
        )
    target = state.previous[-1]
    _get_version(mlflow_client, name, target, purpose="previous champion")  # it may have been deleted since
    note = f"rollback of v{state.champion} to the previous {CHAMPION} v{target}"
    event = _event("rollback", name, state.champion, target, actor, reason or note, note)
    before = state.champion
    if dry_run:
        message = f"dry run: would move {CHAMPION} v{before} -> v{target} ({note})"
        return _result("rollback", name, target, before, before, dry_run=True, message=message, event=event)
    # Undoing the promotion that took `challenger` off the demoted version gives it back, unless it was set since.
    undone = state.last_event or {}
    if (
        undone.get("action") == "promote"
        and undone.get("challenger_removed")
        and str(undone.get("to_version")) == before
        and CHALLENGER not in _aliases(mlflow_client, name)
    ):
        event["challenger_restored"] = True
    warnings = _commit(mlflow_client, name, state, target, state.previous[:-1], event)
    message = f"{CHAMPION} of {name} rolled back: v{before} -> v{target}"
    if event.get("challenger_restored"):
        message += _move_challenger(mlflow_client, name, str(before), warnings, restore=True)
    log.info(message)
    return _result(
        "rollback", name, target, before, target, moved=True, message=message, event=event, warnings=warnings
    )


def audit_log(name: str = REGISTERED_MODEL_NAME, tracking_uri: str | None = None) -> list[dict[str, Any]]:
    """Every promotion and rollback of `name`, oldest first (each event once, though it is on two versions)."""
    with _guard("reading the audit trail", tracking_uri):
        return _audit_log(name, tracking_uri)


def _audit_log(name: str, tracking_uri: str | None) -> list[dict[str, Any]]:
    mlflow_client = client(tracking_uri)
    state = _read_state(mlflow_client, name)
    events: dict[str, dict[str, Any]] = {}
    for version in _all_versions(mlflow_client, name):
        for key, value in (version.tags or {}).items():
            if key.startswith(AUDIT_PREFIX):
                event = _loads(value, f"{name} v{version.version} tag {key}")
                if event and "id" in event:
                    events.setdefault(str(event["id"]), event)
    if state.last_event and str(state.last_event.get("id")) not in events:
        # Committed, but its audit tags were not written (failure after the alias moved): it is still an event.
        events[str(state.last_event["id"])] = state.last_event
    return sorted(events.values(), key=lambda e: (str(e.get("at", "")), str(e.get("id", ""))))


def champion_history(name: str = REGISTERED_MODEL_NAME, tracking_uri: str | None = None) -> dict[str, Any]:
    """The current champion and the earlier champions a rollback returns to (most recent last)."""
    with _guard("reading the champion history", tracking_uri):
        state = _read_state(client(tracking_uri), name)
    return {"name": name, "champion": state.champion, "previous": list(state.previous)}


# ---------------------------------------------------------------------------------------- state and writes


def _read_state(mlflow_client: Any, name: str) -> _State:
    """The champion alias and the history tag, reconciled (see the module docstring)."""
    model = require_registered_model(mlflow_client, name)
    actual = (model.aliases or {}).get(CHAMPION)
    actual = str(actual) if actual is not None else None
    record = _loads((model.tags or {}).get(HISTORY_TAG), f"{name} tag {HISTORY_TAG}") or {}
    recorded = record.get("champion")
    previous = [str(v) for v in record.get("previous", [])]
    prior = record.get("prior") or {}
    if not record or recorded == actual:
        return _State(actual, previous, record.get("event"))
    if prior.get("champion") == actual:
        # The last write stopped before the alias moved: that transition never happened.
        log.warning(
            "%s: %s names v%s but %s is %s; using the state before that change",
            name,
            HISTORY_TAG,
            recorded,
            CHAMPION,
            _v(actual),
        )
        return _State(actual, [str(v) for v in prior.get("previous", [])], None)
    # The alias was moved outside this module (e.g. in the MLflow UI): the recorded champion preceded it.
    log.warning("%s: %s was moved outside `mlops registry promote` (history says v%s)", name, CHAMPION, recorded)
    kept = [*previous, str(recorded)] if recorded and recorded != actual else previous
    return _State(actual, [v for v in kept if v != actual][-HISTORY_LIMIT:], None)


def _commit(
    mlflow_client: Any, name: str, state: _State, target: str, previous: list[str], event: dict[str, Any]
) -> list[str]:
    """History tag, then the alias (the commit point), then audit tags; return warnings (audit tags not written)."""
    if state.last_event:
        try:
            _write_audit(mlflow_client, name, state.last_event)  # repairs an earlier commit whose audit write failed
        except Exception as exc:
            raise RegistryError(
                f"could not reach the registry to update {name}: {type(exc).__name__}: {first_line(exc)}",
                hint=f"nothing changed: {CHAMPION} is still {_v(state.champion)}; rerunning is safe",
            ) from exc
    record = {
        "champion": target,
        "previous": previous,
        "event": event,
        "prior": {"champion": state.champion, "previous": state.previous},
    }
    try:
        mlflow_client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(record, sort_keys=True))
    except Exception as exc:
        raise RegistryError(
            f"could not move {CHAMPION} of {name} to v{target}: {type(exc).__name__}: {first_line(exc)}",
            hint=f"nothing changed: {CHAMPION} is still {_v(state.champion)}; rerunning is safe",
        ) from exc
    try:
        mlflow_client.set_registered_model_alias(name, CHAMPION, target)  # the commit point
    except Exception as exc:
        # A lost reply may hide a move the server made; either way the history tag reconciles with the alias.
        raise RegistryError(
            f"could not move {CHAMPION} of {name} to v{target}: {type(exc).__name__}: {first_line(exc)}",
            hint=f"{CHAMPION} is {_v(state.champion)} (or v{target}, if the server applied the move before failing): "
            "`mlops registry show champion` tells; either state is consistent and rerunning is safe",
        ) from exc
    try:
        _write_audit(mlflow_client, name, event)
    except Exception as exc:  # noqa: BLE001 - the move is done; a missing audit tag must not report it as failed
        # The move is committed and its event is held by champion_history; the next promote/rollback retries.
        cause = "the registry store is busy" if is_busy(exc) else f"{type(exc).__name__}: {first_line(exc)}"
        warning = (
            f"audit tags not written ({cause}); the event is kept in {HISTORY_TAG} and rerunning the same "
            "command writes them"
        )
        log.warning(warning)
        return [warning]
    return []


def _aliases(mlflow_client: Any, name: str) -> dict[str, str]:
    return {alias: str(v) for alias, v in (require_registered_model(mlflow_client, name).aliases or {}).items()}


def _move_challenger(mlflow_client: Any, name: str, version: str, warnings: list[str], *, restore: bool) -> str:
    """Take `challenger` off `version` (or, restoring, put it back on): a note for the message, a warning on failure."""
    doing = f"give {CHALLENGER} back to v{version}" if restore else f"remove {CHALLENGER} from v{version}"
    try:
        if restore:
            mlflow_client.set_registered_model_alias(name, CHALLENGER, version)
        else:
            mlflow_client.delete_registered_model_alias(name, CHALLENGER)
    except Exception as exc:  # noqa: BLE001 - the champion move is committed; this is reported, not fatal
        fix = f"rerunning `mlops registry promote --candidate {version}` does it" if not restore else "set it by hand"
        warning = f"could not {doing} of {name} ({type(exc).__name__}: {first_line(exc)}): {fix}"
        log.warning(warning)
        warnings.append(warning)
        return ""
    note = f"{CHALLENGER} back on v{version}" if restore else f"{CHALLENGER} removed from v{version} (now {CHAMPION})"
    log.info("%s: %s", name, note)
    return f"; {note}"


def _write_audit(mlflow_client: Any, name: str, event: dict[str, Any]) -> None:
    """Tag the event on its to- and from-versions, where it is not there already."""
    key = _audit_key(event)
    for version in (event.get("to_version"), event.get("from_version")):
        if not version:
            continue
        tags = _version_tags_or_none(mlflow_client, name, str(version))
        if tags is None:
            log.warning("%s v%s no longer exists: audit event %s not tagged on it", name, version, event.get("id"))
            continue
        if key not in tags:
            mlflow_client.set_model_version_tag(name, str(version), key, json.dumps(event, sort_keys=True))


def _audit_pending(mlflow_client: Any, name: str, event: dict[str, Any]) -> bool:
    """Whether a committed event still lacks its audit tag on a version that exists."""
    key = _audit_key(event)
    for version in (event.get("to_version"), event.get("from_version")):
        tags = _version_tags_or_none(mlflow_client, name, str(version)) if version else None
        if tags is not None and key not in tags:
            return True
    return False


def _complete_audit(mlflow_client: Any, name: str, event: dict[str, Any], dry_run: bool, done: str) -> str:
    """Write the missing audit record of a committed event (not in a dry run); return the message saying so."""
    what = f"the audit record of its {event.get('action')} (event {event.get('id')})"
    if dry_run:
        return f"dry run: {done}; would write {what}"
    try:
        _write_audit(mlflow_client, name, event)
    except Exception as exc:
        raise RegistryError(
            f"{done}, but {what} could not be written: {type(exc).__name__}: {first_line(exc)}",
            hint=f"{HISTORY_TAG} still holds the event; rerunning completes it",
        ) from exc
    return f"{done}; wrote {what}, which the earlier run did not finish"


def _version_tags_or_none(mlflow_client: Any, name: str, version: str) -> dict[str, str] | None:
    """A version's tags; None only when the version does not exist (any other failure is raised)."""
    from mlflow.exceptions import MlflowException

    try:
        return dict(mlflow_client.get_model_version(name, version).tags or {})
    except MlflowException as exc:
        if _not_found(exc):
            return None
        raise


def _event(
    action: str, name: str, before: str | None, target: str, actor: str | None, reason: str | None, gates: str
) -> dict[str, Any]:
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "id": uuid.uuid4().hex[:12],
        "action": action,
        "name": name,
        "at": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "actor": resolve_actor(actor),
        "from_version": before,
        "to_version": target,
        "reason": _clip(reason or gates),
        "gates": gates,
    }
    # In CI, link the run that did it: the actor alone does not say which commit or workflow acted.
    if os.environ.get("GITHUB_RUN_ID") and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        event["ci_run"] = f"{server}/{os.environ['GITHUB_REPOSITORY']}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
        event["ci_commit"] = os.environ.get("GITHUB_SHA", "")
    return event


def _audit_key(event: dict[str, Any]) -> str:
    # Sortable by time; the id keeps two events in the same microsecond apart. Only tag-safe characters.
    stamp = datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00")).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{AUDIT_PREFIX}{stamp}.{event['id']}"


# ------------------------------------------------------------------------------------------------- helpers


def _resolve(mlflow_client: Any, name: str, ref: str) -> Any:
    from mlflow.exceptions import MlflowException

    ref = str(ref).strip().removeprefix("@")
    try:
        if ref.isdigit():
            return mlflow_client.get_model_version(name, ref)
        return mlflow_client.get_model_version_by_alias(name, ref)
    except MlflowException as exc:
        if not _not_found(exc):
            raise  # a busy or unreachable store is not a missing version
        raise RegistryError(
            f"{name} has no version or alias {ref!r} to promote",
            hint="`mlops registry list` shows versions and aliases",
        ) from exc


def _get_version(mlflow_client: Any, name: str, version: str, purpose: str = CHAMPION) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version(name, version)
    except MlflowException as exc:
        if not _not_found(exc):
            raise
        raise RegistryError(
            f"the {purpose} {name} v{version} no longer exists in the registry",
            hint="promote a specific version instead: `mlops registry promote --candidate VERSION`",
        ) from exc


def _not_found(exc: Exception) -> bool:
    # MLflow reports a missing alias as INVALID_PARAMETER_VALUE, a missing version as RESOURCE_DOES_NOT_EXIST.
    return getattr(exc, "error_code", "") in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


def _guard(action: str, uri: str | None) -> Any:
    return guarded(action, resolved_uri(uri))


def _all_versions(mlflow_client: Any, name: str) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = mlflow_client.search_model_versions(f"name = '{name}'", page_token=token)
        out.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return out


def _loads(value: str | None, what: str) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        log.warning("ignoring unreadable %s", what)
        return None
    return data if isinstance(data, dict) else None


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _v(version: str | None) -> str:
    return f"v{version}" if version else "(none)"
