"""The loop's decisions: which one stage it takes from each state of the endpoint, registry, dvc.lock and audit.

`decide` is driven with hand-made states (what `observe` reads from the real components, which
tests/test_loop_flow.py covers end to end); the drift and shadow evidence are callables that record whether the
decision needed them, since reading a capture or a shadow report is work the loop must not do when the state
already decides.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.loop import (
    AB_RUNNING,
    AB_START,
    IDLE,
    NEEDS_LABELS,
    RETRAIN,
    RETRAIN_FAILED,
    RETRAINING,
    SHADOW,
    SHADOW_FAILED,
    SHADOW_TAG,
    SHADOW_WAIT,
    STAGE_ACTIONS,
    STAGES,
    LoopError,
    LoopSettings,
    LoopState,
    LoopStep,
    decide,
)

OLD, NEW = "a" * 32, "b" * 32
SETTINGS = LoopSettings(endpoint="intent-loop", local_url="http://127.0.0.1:9", capture="/captures")


def version(number: str, md5: str, *aliases: str, **tags: str) -> dict[str, Any]:
    return {"version": number, "data_md5": md5, "aliases": list(aliases), "tags": dict(tags)}


def state(
    versions: list[dict[str, Any]],
    *,
    pinned: str | None = OLD,
    variants: list[dict[str, Any]] | None = None,
    shadow: dict[str, Any] | None = None,
    last_retrain: dict[str, Any] | None = None,
    execution: str | None = None,
) -> LoopState:
    by_alias = {a: v for v in versions for a in v["aliases"]}
    return LoopState(
        endpoint="intent-loop",
        variants=variants
        if variants is not None
        else [{"variant": "champion", "current_weight": 100.0, "model_version": "1"}],
        shadow=shadow,
        champion=by_alias.get("champion"),
        challenger=by_alias.get("challenger"),
        versions=sorted(versions, key=lambda v: int(v["version"]), reverse=True),
        pinned_md5=pinned,
        last_retrain=last_retrain,
        execution_status=execution,
    )


class Evidence:
    """A drift or shadow reading that remembers whether the decision asked for it."""

    def __init__(self, value: Any) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


def run(loop_state: LoopState, drift: Any = None, shadow: Any = (None, {"verdict": "insufficient evidence"})):
    drift_reading, shadow_reading = Evidence(drift), Evidence(shadow)
    decision = decide(loop_state, SETTINGS, drift_reading, shadow_reading)
    return decision, drift_reading.calls, shadow_reading.calls


CHAMPION = version("1", OLD, "champion")


def test_without_a_champion_the_loop_says_to_promote_one() -> None:
    with pytest.raises(LoopError, match="has no champion") as caught:
        run(state([version("1", OLD, "challenger")]))
    assert "mlops registry promote" in (caught.value.hint or "")


def test_no_new_data_and_no_drift_is_idle_and_reads_the_capture_once() -> None:
    decision, drift_calls, shadow_calls = run(state([CHAMPION]), drift={"verdict": "no drift", "p_value": 0.4})
    assert decision.stage == IDLE and "no drift" in decision.decision
    assert decision.evidence["drift"]["p_value"] == 0.4
    assert (drift_calls, shadow_calls) == (1, 0)


def test_too_little_traffic_is_idle_and_says_why() -> None:
    decision, _, _ = run(state([CHAMPION]), drift={"verdict": "insufficient data"})
    assert decision.stage == IDLE and "insufficient data" in decision.decision


def test_without_a_capture_the_loop_is_idle_and_says_it_tested_no_drift() -> None:
    decision, drift_calls, _ = run(state([CHAMPION]), drift=None)
    assert decision.stage == IDLE and "no capture to test for drift" in decision.decision and drift_calls == 1


def test_drift_without_new_data_asks_for_labels_and_exits_1() -> None:
    decision, _, _ = run(state([CHAMPION]), drift={"verdict": "drift", "drifted": True})
    assert decision.stage == NEEDS_LABELS
    step = LoopStep(NEEDS_LABELS, decision.decision, "nothing", "intent-loop", "intent-classifier")
    assert step.exit_code == 1
    _, after = STAGE_ACTIONS[NEEDS_LABELS].plan(SETTINGS, state([CHAMPION]), decision)
    assert "mlops data add" in after and "/captures" in after


def test_a_new_data_version_is_retrained_before_any_drift_test() -> None:
    decision, drift_calls, _ = run(state([CHAMPION], pinned=NEW), drift={"verdict": "drift", "drifted": True})
    assert decision.stage == RETRAIN and NEW in decision.decision and drift_calls == 0
    action, _ = STAGE_ACTIONS[RETRAIN].plan(
        LoopSettings(endpoint="e", pipeline_params=("Epochs=2", "MinMacroF1=0")), state([CHAMPION]), decision
    )
    assert action == "mlops pipeline run -p Epochs=2 -p MinMacroF1=0"


def test_a_data_version_already_trained_is_not_retrained() -> None:
    rejected = version("2", NEW, **{SHADOW_TAG: "not ready"})
    decision, drift_calls, _ = run(state([CHAMPION, rejected], pinned=NEW), drift={"verdict": "no drift"})
    assert (decision.stage, drift_calls) == (IDLE, 1)
    decision, _, _ = run(state([CHAMPION, rejected], pinned=NEW), drift=None)
    assert decision.stage == IDLE and "already trained: v2" in decision.decision


def test_a_failed_retraining_is_not_repeated_until_retry() -> None:
    failed = {"inputs": {"pinned_md5": NEW}, "outcome": "failed", "result": {"error": "gate failed"}}
    decision, _, _ = run(state([CHAMPION], pinned=NEW, last_retrain=failed))
    assert decision.stage == RETRAIN_FAILED
    _, after = STAGE_ACTIONS[RETRAIN_FAILED].plan(SETTINGS, state([CHAMPION], last_retrain=failed), decision)
    assert "gate failed" in after and "--retry" in after
    retried = decide(
        state([CHAMPION], pinned=NEW, last_retrain=failed),
        LoopSettings(endpoint="intent-loop", retry=True),
        Evidence(None),
        Evidence((None, {})),
    )
    assert retried.stage == RETRAIN
    # A failure on an older data version does not hold back the newest one.
    older = {**failed, "inputs": {"pinned_md5": "c" * 32}}
    assert run(state([CHAMPION], pinned=NEW, last_retrain=older))[0].stage == RETRAIN


def test_a_sagemaker_execution_still_running_is_waited_for() -> None:
    started = {"inputs": {"pinned_md5": NEW}, "outcome": "waiting", "result": {"execution_arn": "arn:exec/1"}}
    decision, _, _ = run(state([CHAMPION], pinned=NEW, last_retrain=started, execution="Executing"))
    assert decision.stage == RETRAINING and "arn:exec/1" in decision.decision
    assert run(state([CHAMPION], pinned=NEW, last_retrain=started, execution="Failed"))[0].stage == RETRAIN_FAILED


def test_a_challenger_on_the_newest_data_is_shadowed() -> None:
    challenger = version("2", NEW, "challenger")
    decision, drift_calls, _ = run(state([CHAMPION, challenger], pinned=NEW))
    assert (decision.stage, decision.version, drift_calls) == (SHADOW, "2", 0)
    action, _ = STAGE_ACTIONS[SHADOW].plan(SETTINGS, state([CHAMPION, challenger]), decision)
    assert action == (
        "mlops endpoint shadow start intent-loop --model models:/intent-classifier/2 --variant Shadow --percent 100"
    )


def test_a_challenger_already_shadowed_or_on_old_data_is_not_shadowed_again() -> None:
    for challenger in (version("2", NEW, "challenger", **{SHADOW_TAG: "not ready"}), version("2", OLD, "challenger")):
        decision, _, _ = run(state([CHAMPION, challenger], pinned=NEW), drift={"verdict": "no drift"})
        assert decision.stage != SHADOW, challenger


@pytest.mark.parametrize(
    ("ready", "verdict", "stage"),
    [(True, "ready", AB_START), (False, "not ready", SHADOW_FAILED), (None, "insufficient evidence", SHADOW_WAIT)],
)
def test_a_running_shadow_is_judged_by_its_report(ready: bool | None, verdict: str, stage: str) -> None:
    challenger = version("2", NEW, "challenger")
    loop_state = state([CHAMPION, challenger], pinned=NEW, shadow={"name": "intent-loop-shadow"})
    decision, drift_calls, shadow_calls = run(loop_state, shadow=(ready, {"verdict": verdict}))
    assert (decision.stage, decision.version, drift_calls, shadow_calls) == (stage, "2", 0, 1)
    assert decision.evidence["shadow_report"]["verdict"] == verdict and verdict in decision.decision


def test_ab_start_deploys_the_serving_champion_beside_the_challenger_at_the_small_weight() -> None:
    loop_state = state([CHAMPION, version("2", NEW, "challenger")], pinned=NEW, shadow={"name": "x"})
    decision, _, _ = run(loop_state, shadow=(True, {"verdict": "ready"}))
    action, after = STAGE_ACTIONS[AB_START].plan(SETTINGS, loop_state, decision)
    assert action == (
        "mlops endpoint shadow stop intent-loop; mlops endpoint deploy intent-loop "
        "--variant champion=models:/intent-classifier/1 --variant challenger=models:/intent-classifier/2 "
        "--weights champion=90,challenger=10"
    )
    assert "mlops endpoint promote intent-loop --variant challenger" in after and "never promotes" in after


def test_an_ab_test_running_points_at_the_report_and_the_gated_promote() -> None:
    variants = [
        {"variant": "champion", "current_weight": 90.0, "model_version": "1"},
        {"variant": "challenger", "current_weight": 10.0, "model_version": "2"},
    ]
    loop_state = state(
        [CHAMPION, version("2", NEW, "challenger", **{SHADOW_TAG: "ready"})], pinned=NEW, variants=variants
    )
    decision, drift_calls, _ = run(loop_state)
    assert (decision.stage, decision.version, drift_calls) == (AB_RUNNING, "2", 0)
    _, after = STAGE_ACTIONS[AB_RUNNING].plan(SETTINGS, loop_state, decision)
    assert "mlops endpoint report intent-loop" in after and "mlops endpoint promote intent-loop" in after
    # Once the champion takes all traffic back (weight 0), the A/B test is over: the loop looks further.
    variants[1]["current_weight"] = 0.0
    assert run(loop_state, drift={"verdict": "no drift"})[0].stage == IDLE


def test_every_stage_has_an_action() -> None:
    assert set(STAGE_ACTIONS) == set(STAGES)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"retrain": "cloud"}, "retrain mode must be local or sagemaker"),
        ({"ab_weight": 100.0}, "A/B weight must be between 0 and 100"),
        ({"ab_weight": 0.0}, "A/B weight must be between 0 and 100"),
        ({"shadow_percent": 0.0}, "shadow sampling"),
        ({"alpha": 1.5}, "alpha"),
        ({"min_samples": 0}, "min samples"),
        ({"retrain": "sagemaker"}, "needs the MLflow registry"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(LoopError, match=message):
        LoopSettings(endpoint="intent-loop", **changes)


# ---- run_loop: one stage taken, planned, or left to another caller -------------------------------------------


@pytest.fixture
def fake_world(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """run_loop over a hand-made state: `observe` returns `world["state"]`, starting a shadow is recorded."""
    import pipelines.loop as loop
    import pipelines.shadow as shadow

    world: dict[str, Any] = {"state": state([CHAMPION]), "started": []}
    monkeypatch.setattr(loop, "observe", lambda settings, target: world["state"])
    monkeypatch.setattr(loop, "drift_evidence", lambda settings, champion: {"verdict": "no drift", "drifted": False})

    def start_shadow(target: Any, endpoint: str, model: str, **options: Any) -> dict[str, Any]:
        world["started"].append((endpoint, model, options["variant"], options["percent"]))
        return {"Name": "intent-loop-shadow-1", "Status": "Running"}

    monkeypatch.setattr(shadow, "start_shadow", start_shadow)
    return world


def test_run_loop_takes_the_shadow_stage_and_the_dry_run_only_plans_it(fake_world: dict[str, Any]) -> None:
    from pipelines.loop import run_loop

    fake_world["state"] = state([CHAMPION, version("2", NEW, "challenger")], pinned=NEW)
    planned = run_loop(SETTINGS, dry_run=True, record=False)
    assert (planned.stage, planned.outcome, fake_world["started"]) == (SHADOW, "planned", [])
    taken = run_loop(SETTINGS, record=False)
    assert (taken.stage, taken.outcome, taken.exit_code) == (SHADOW, "waiting", 0)
    assert fake_world["started"] == [("intent-loop", "models:/intent-classifier/2", "Shadow", 100.0)]
    assert taken.result["experiment"]["Name"] == "intent-loop-shadow-1"
    assert taken.inputs["challenger"] == {"version": "2", "data_md5": NEW, "shadow_verdict": None}


def test_the_webhook_may_only_start_a_shadow(fake_world: dict[str, Any]) -> None:
    from pipelines.loop import run_loop

    # The challenger alias was set on a version already shadowed: the state says idle; the webhook's call takes nothing.
    fake_world["state"] = state([CHAMPION, version("2", OLD, "challenger", **{SHADOW_TAG: "not ready"})])
    skipped = run_loop(SETTINGS, allow={SHADOW}, record=False)
    assert (skipped.stage, skipped.outcome) == (IDLE, "skipped") and "acts only on shadow" in skipped.next
    # On a version of older data: the state says retrain, which is the schedule's to take, not the webhook's.
    fake_world["state"] = state([CHAMPION, version("2", OLD, "challenger")], pinned=NEW)
    retrain = run_loop(SETTINGS, allow={SHADOW}, record=False)
    assert (retrain.stage, retrain.outcome) == (RETRAIN, "skipped")
    assert fake_world["started"] == []
