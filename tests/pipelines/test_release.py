"""pipelines.release on a moto server: a promotion whose champion alias cannot move is undone on the endpoint, and
that undo is in the endpoint's history (the registry is a stand-in here; tests/test_endpoint_flow.py uses a real
one)."""

from __future__ import annotations

from typing import Any

import pytest

from inference.deploy.target import DeployTarget
from inference.deploy.traffic import CloudWatchTraffic
from model_registry import promotion
from model_registry.promotion import PromotionResult
from pipelines import release
from tests.inference.deploy.test_endpoints_moto import ROLE, _variants
from tests.inference.deploy.test_endpoints_moto import manager as manager  # the fixture


def test_a_promotion_whose_alias_cannot_move_is_undone_on_the_endpoint(
    manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr, _, clients = manager
    name = "intent-release-1"
    first = mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)["endpoint_config"]
    mgr.shift(name, {"champion": 40, "challenger": 60})

    def registry(version: str, *, dry_run: bool = False, **kwargs: Any) -> PromotionResult:
        if not dry_run:
            raise RuntimeError("registry unreachable")
        return PromotionResult(kwargs["name"], "promote", version, "1", "1", ok=True, moved=False, dry_run=True)

    monkeypatch.setattr(promotion, "promote", registry)
    # moto publishes no CloudWatch metrics, so there is no A/B verdict: the promotion is forced, with a reason.
    target = DeployTarget(mgr, runtime=None, traffic=CloudWatchTraffic(clients["cloudwatch"]), region="us-east-1")
    with pytest.raises(RuntimeError, match="registry unreachable"):
        release.promote(
            target,
            name,
            "challenger",
            gate=release.RegistryGate(reason="an outage drill"),
            verdict_gate=release.VerdictGate(force=True),
        )
    status = mgr.status(name)
    assert status["endpoint_config"] == first
    assert {v["variant"]: v["current_weight"] for v in status["variants"]} == {"champion": 40.0, "challenger": 60.0}
    history = mgr.history(name)
    assert [(c["kind"], c["undoes"], c["undone_by"]) for c in history[:2]] == [
        ("rollback", [3], None),
        ("promote", [], 4),
    ]
