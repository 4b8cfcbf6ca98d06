"""Change records as SageMaker tags: what they hold, that they never break AWS's tag limits, and what a rollback
undoes. The deployer writing and undoing them on a moto server: tests/inference/deploy/test_endpoints_moto.py."""

from __future__ import annotations

import pytest

from inference.deploy.history import (
    TAG_VALUE_LIMIT,
    Change,
    change_key,
    check_tag,
    render_history,
    undo_target,
)
from inference.variants import DeploymentError

CONFIG = "intent-ab-20261202114129123"
LONG = "v" * 63  # the longest variant or config name SageMaker accepts


def test_a_record_round_trips_in_tag_safe_characters() -> None:
    change = Change(
        "shift",
        1764670000,
        by="dependabot[bot]",
        config=CONFIG,
        weights={"champion": 90.0, "challenger": 10.0},
        to_weights={"champion": 66.666667, "challenger": 33.333333},
    )
    value = change.encode()
    check_tag(change_key(17), value)  # SageMaker's pattern: no braces, quotes or commas, so not JSON
    assert value == (
        f"kind=shift at=1764670000 by=dependabot_bot_ from={CONFIG} w=champion:90/challenger:10 "
        "to_w=champion:66.666667/challenger:33.333333"
    )
    back = Change.decode(17, value)
    assert back is not None and back.seq == 17 and back.weights == change.weights
    assert back.to_weights == change.to_weights and back.by == "dependabot_bot_"
    assert change_key(17) == "mlops:change:000017"


def test_a_record_too_long_sheds_what_only_the_listing_shows_then_a_shift_is_refused() -> None:
    weights = {f"{LONG[:60]}-{i}": 25.0 for i in range(3)}
    promote = Change("promote", 1, by="x" * 200, config=LONG, weights=weights, to_config=LONG, version="12")
    value = promote.encode()
    assert len(value) <= TAG_VALUE_LIMIT
    decoded = Change.decode(1, value)
    # What undoing it needs stays: the config before it and the version it promoted.
    assert decoded is not None and decoded.config == LONG and decoded.version == "12" and decoded.to_config is None
    weights = {f"{LONG[:60]}-{i}": 25.0 for i in range(4)}
    with pytest.raises(DeploymentError, match=r"over SageMaker's 256-character tag value limit.*nothing was changed"):
        Change("shift", 1, config=LONG, weights=weights).encode()


@pytest.mark.parametrize(
    ("key", "value"),
    [("k" * 129, "v"), ("", "v"), ("mlops:change:1", "x" * 257), ("mlops:change:1", '{"kind":"shift"}')],
)
def test_tags_aws_would_reject_are_refused(key: str, value: str) -> None:
    with pytest.raises(DeploymentError, match="would be rejected by SageMaker"):
        check_tag(key, value)


def test_undo_walks_back_past_rollbacks_and_reverts() -> None:
    changes = [
        Change("deploy", 1, seq=1, to_config="a"),
        Change("shift", 2, seq=2, config="a"),
        Change("shift", 3, seq=3, config="a"),
        Change("shift", 4, seq=4, config="a"),
        Change("revert", 5, seq=5, config="a", undoes=(4,)),
        Change("rollback", 6, seq=6, config="a", undoes=(3,)),
    ]
    target = undo_target(changes)
    assert target is not None and target.seq == 2  # neither the rollback, nor what it or the revert undid
    bottom = undo_target([*changes, Change("rollback", 7, seq=7, undoes=(2,))])
    assert bottom is not None and bottom.creates  # the endpoint's creation: nothing before it
    assert undo_target([]) is None


def test_the_listing_says_what_changed_newest_first() -> None:
    shift = Change("shift", 0, by="ci", config=CONFIG, weights={"a": 90, "b": 10}, to_weights={"a": 50, "b": 50}, seq=2)
    row = {**shift.to_dict(), "undone_by": 3}
    text = render_history("intent-ab", [row])
    assert "#2" in text and "1970-01-01 00:00:00  shift" in text
    assert "weights a=90,b=10 -> a=50,b=50  by ci  (undone by #3)" in text


def test_the_tag_limits_are_sagemakers() -> None:
    import botocore.session

    from inference.local.api import _TAG_PATTERN
    from inference.variants import TAG_KEY_LIMIT, TAGS_PER_RESOURCE

    model = botocore.session.get_session().get_service_model("sagemaker")
    assert model.shape_for("TagKey").metadata == {"min": 1, "max": TAG_KEY_LIMIT, "pattern": _TAG_PATTERN}
    assert model.shape_for("TagValue").metadata == {"min": 0, "max": TAG_VALUE_LIMIT, "pattern": _TAG_PATTERN}
    assert model.shape_for("TagList").metadata["max"] == TAGS_PER_RESOURCE
