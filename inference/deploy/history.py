"""An endpoint's change history, kept in tags on the SageMaker Endpoint itself: what `mlops endpoint history` lists
and what `mlops endpoint rollback` undoes, step by step.

Every change the deployer makes (a deploy or config update, a weight shift, each step of a stepwise shift and its
revert, a promotion, a rollback) appends one record: tag `mlops:change:NNNNNN` (a sequence number) on the endpoint,
whose value holds the state *before* the change (what undoing it needs) and what it changed to:

    kind=shift at=1764670000 by=alice from=intent-ab-20261202114129123 w=champion:90/challenger:10
    to_w=champion:75/challenger:25

Tag values are not JSON: SageMaker accepts only letters, digits, spaces and `_ . : / = + - @` in a tag, so a record
is `key=value` fields separated by spaces, weights `variant:weight` joined by `/` (variant and config names are
letters, digits and hyphens). AWS's limits are checked here, before any call (`check_tag`): a key of at most 128
characters, a value of at most 256, 50 tags per resource.

- A record too long for 256 characters sheds what only the listing shows (`to_w`, `to`, then `by`); a config
  change then sheds the weights before it (its rollback restores the old config's own weights). A weight shift
  whose record still does not fit is refused before any weight changes.
- The last `HISTORY_LIMIT` records are kept (fewer when the endpoint carries other tags): the oldest go first.

Undo. A rollback undoes the newest record that is neither a rollback nor a revert nor already undone by one:
rollback and revert records name what they undid (`undoes=17/18`), so repeated rollbacks walk further back, like an
undo stack, and a rollback is never itself undone by the next one. The record of the endpoint's creation is the
bottom: there is nothing before it to go back to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from inference.variants import (
    TAG_KEY_LIMIT,
    TAG_VALUE_LIMIT,
    TAGS_PER_RESOURCE,
    DeploymentError,
    tag_text_allowed,
)

log = logging.getLogger(__name__)

CHANGE_PREFIX = "mlops:change:"
HISTORY_LIMIT = 20
_UNSAFE = re.compile(r"[^\w.:/+\-@]")  # tag-safe, and no space or "=": they separate a record's fields

DEPLOY, SHIFT, PROMOTE, ROLLBACK, REVERT = "deploy", "shift", "promote", "rollback", "revert"
UNDOING = frozenset({ROLLBACK, REVERT})
CONFIG_CHANGES = frozenset({DEPLOY, PROMOTE})


def check_tag(key: str, value: str) -> None:
    """Refuse (DeploymentError) a tag that SageMaker would reject: its length or its characters."""
    for what, text, limit, minimum in (("key", key, TAG_KEY_LIMIT, 1), ("value", value, TAG_VALUE_LIMIT, 0)):
        if not minimum <= len(text) <= limit or not tag_text_allowed(text):
            raise DeploymentError(
                f"tag {what} {text[:60]!r} ({len(text)} characters) would be rejected by SageMaker: "
                f"{minimum}-{limit} characters of letters, digits, spaces and _ . : / = + - @"
            )


@dataclass(frozen=True)
class Change:
    """One change to an endpoint: the state before it (`config`, `weights`) and what it changed to."""

    kind: str
    at: int
    by: str = ""
    config: str | None = None  # the endpoint config before the change; None: the change created the endpoint
    weights: dict[str, float] = field(default_factory=dict)  # every variant's weight before it ({}: not recorded)
    to_config: str | None = None
    to_weights: dict[str, float] | None = None
    version: str | None = None  # the registry version a promotion promoted
    undoes: tuple[int, ...] = ()  # the records a rollback or revert undid
    forced: bool = False  # a promotion made past the A/B report's verdict (`--force`; its reason is in the audit)
    seq: int = 0  # from the tag key, once recorded

    @property
    def creates(self) -> bool:
        """Whether this change created the endpoint (the bottom of its history: nothing before it)."""
        return self.kind == DEPLOY and self.config is None

    @property
    def after_config(self) -> str | None:
        """The config the endpoint was on after the change (None where not recorded)."""
        return self.to_config if self.kind in CONFIG_CHANGES | UNDOING else self.config

    def encode(self) -> str:
        """The tag value: every field that fits in AWS's 256 characters (see the module docstring for what goes)."""
        fields: dict[str, str] = {"kind": self.kind, "at": str(self.at)}
        if self.by:
            fields["by"] = _UNSAFE.sub("_", self.by)[:64]
        if self.config:
            fields["from"] = self.config
        if self.weights:
            fields["w"] = _weights_text(self.weights)
        if self.version:
            fields["version"] = _UNSAFE.sub("_", self.version)
        if self.undoes:
            fields["undoes"] = "/".join(str(s) for s in self.undoes)
        if self.forced:
            fields["forced"] = "1"
        if self.to_config:
            fields["to"] = self.to_config
        if self.to_weights:
            fields["to_w"] = _weights_text(self.to_weights)
        droppable = ["to_w", "to", "by"] + (["w"] if self.kind != SHIFT else [])
        text = _join(fields)
        while len(text) > TAG_VALUE_LIMIT and droppable:
            fields.pop(droppable.pop(0), None)
            text = _join(fields)
        if len(text) > TAG_VALUE_LIMIT:
            raise DeploymentError(
                f"the history record of this {self.kind} would be {len(text)} characters, over SageMaker's "
                f"{TAG_VALUE_LIMIT}-character tag value limit, so it could not be undone: nothing was changed",
                hint="shorter variant names, or fewer variants",
            )
        if "w" not in fields and self.weights:
            log.warning(
                "the weights before this %s do not fit in its history record: its rollback restores the "
                "config's own weights",
                self.kind,
            )
        check_tag(change_key(0), text)
        return text

    @classmethod
    def decode(cls, seq: int, value: str) -> Change | None:
        """The record of tag `mlops:change:<seq>`, or None (logged) when it cannot be read."""
        try:
            fields = dict(item.split("=", 1) for item in value.split())
            return cls(
                kind=fields["kind"],
                at=int(fields["at"]),
                by=fields.get("by", ""),
                config=fields.get("from"),
                weights=_parse_weights(fields.get("w", "")),
                to_config=fields.get("to"),
                to_weights=_parse_weights(fields["to_w"]) if "to_w" in fields else None,
                version=fields.get("version"),
                undoes=tuple(int(s) for s in fields["undoes"].split("/")) if fields.get("undoes") else (),
                forced=fields.get("forced") == "1",
                seq=seq,
            )
        except (KeyError, ValueError):
            log.warning("ignoring unreadable history record %s%06d: %r", CHANGE_PREFIX, seq, value)
            return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the time as ISO 8601 UTC too."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "at": self.at,
            "time": datetime.fromtimestamp(self.at, UTC).isoformat().replace("+00:00", "Z"),
            "by": self.by,
            "config_before": self.config,
            "config_after": self.after_config,
            "weights_before": dict(self.weights),
            "weights_after": dict(self.to_weights) if self.to_weights is not None else None,
            "promoted_version": self.version,
            "undoes": list(self.undoes),
            "forced": self.forced,
        }


def change_key(seq: int) -> str:
    """The tag key of record `seq` (zero-padded: the keys sort as the records do)."""
    return f"{CHANGE_PREFIX}{seq:06d}"


def _join(fields: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in fields.items())


def _weights_text(weights: Mapping[str, float]) -> str:
    return "/".join(f"{name}:{float(w):.10g}" for name, w in weights.items())


def _parse_weights(text: str) -> dict[str, float]:
    if not text:
        return {}
    pairs = (item.rsplit(":", 1) for item in text.split("/"))
    return {name: float(w) for name, w in pairs}


def undo_target(changes: Sequence[Change]) -> Change | None:
    """The change a rollback undoes: the newest that is no rollback or revert and that none of them undid."""
    undone = {seq for c in changes if c.kind in UNDOING for seq in c.undoes}
    for change in sorted(changes, key=lambda c: c.seq, reverse=True):
        if change.kind not in UNDOING and change.seq not in undone:
            return change
    return None


class ChangeLog:
    """Reads and appends the change records of endpoints through a boto3 SageMaker client (ListTags, AddTags,
    DeleteTags on the endpoint's ARN)."""

    def __init__(self, sagemaker_client: Any) -> None:
        self.sm = sagemaker_client

    def _tags(self, arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        kwargs: dict[str, Any] = {"ResourceArn": arn}
        while True:
            page = self.sm.list_tags(**kwargs)
            tags.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
            if not page.get("NextToken"):
                return tags
            kwargs["NextToken"] = page["NextToken"]

    def read(self, arn: str) -> list[Change]:
        """Every readable record on the endpoint, oldest first."""
        changes = []
        for key, value in self._tags(arn).items():
            if key.startswith(CHANGE_PREFIX) and key[len(CHANGE_PREFIX) :].isdigit():
                change = Change.decode(int(key[len(CHANGE_PREFIX) :]), value)
                if change is not None:
                    changes.append(change)
        return sorted(changes, key=lambda c: c.seq)

    def append(self, arn: str, value: str) -> int:
        """Add an encoded record (`Change.encode`) as the newest; drop the oldest beyond the ring; its number."""
        tags = self._tags(arn)
        ours = sorted(int(k[len(CHANGE_PREFIX) :]) for k in tags if k.startswith(CHANGE_PREFIX))
        others = len(tags) - len(ours)
        keep = min(HISTORY_LIMIT, TAGS_PER_RESOURCE - others) - 1  # older records kept beside the new one
        if keep < 0:
            raise DeploymentError(
                f"the endpoint carries {others} other tags: no room for its change history under AWS's "
                f"{TAGS_PER_RESOURCE} tags per resource",
                hint="remove some of its tags (DeleteTags)",
            )
        seq = (ours[-1] + 1) if ours else 1
        dropped = ours[: max(0, len(ours) - keep)]
        if dropped:
            # Deleted first: AWS refuses an AddTags that would take the resource over its tag limit.
            self.sm.delete_tags(ResourceArn=arn, TagKeys=[change_key(s) for s in dropped])
        self.sm.add_tags(ResourceArn=arn, Tags=[{"Key": change_key(seq), "Value": value}])
        return seq


def render_history(endpoint: str, changes: Iterable[dict[str, Any]]) -> str:
    """The changes (`Change.to_dict`, newest first) as text: when, what, from what to what, who."""
    lines = [f"endpoint {endpoint}: changes, newest first"]
    rows = list(changes)
    if not rows:
        lines.append("  (no recorded changes)")
    for c in rows:
        what = _describe(c)
        lines.append(f"  #{c['seq']:<4} {c['time'][:19].replace('T', ' ')}  {c['kind']:<8} {what}  by {c['by'] or '?'}")
        if c.get("undone_by"):
            lines[-1] += f"  (undone by #{c['undone_by']})"
    return "\n".join(lines)


def _describe(c: Mapping[str, Any]) -> str:
    def weights(w: Mapping[str, float] | None) -> str:
        return ",".join(f"{n}={v:g}" for n, v in w.items()) if w else "?"

    parts = []
    if c["kind"] in (SHIFT, REVERT) or (c["kind"] == ROLLBACK and c["config_after"] == c["config_before"]):
        parts.append(f"weights {weights(c['weights_before'])} -> {weights(c['weights_after'])}")
    else:
        parts.append(f"config {c['config_before'] or '(new endpoint)'} -> {c['config_after'] or '?'}")
        if c.get("weights_after"):
            parts.append(f"weights {weights(c['weights_after'])}")
    if c.get("promoted_version"):
        parts.append(
            f"promoted v{c['promoted_version']}" + (" past the A/B verdict (forced)" if c.get("forced") else "")
        )
    if c.get("undoes"):
        parts.append("undoes " + ", ".join(f"#{s}" for s in c["undoes"]))
    return "; ".join(parts)


def render_rollback(result: Mapping[str, Any]) -> str:
    """What a rollback (`EndpointManager.rollback`'s result) undid, as one line."""

    def weights(w: Mapping[str, float]) -> str:
        return ",".join(f"{n}={v:g}" for n, v in w.items())

    endpoint = result["endpoint"]
    what = f"undid change #{result['undoes']} ({result['kind']})" if result.get("undoes") else "rolled back"
    if result.get("kind") == SHIFT:
        return f"{endpoint}: {what}: weights {weights(result['from_weights'])} -> {weights(result['to_weights'])}"
    text = f"{endpoint}: {what}: back on config {result['to_config']} (was {result['from_config']})"
    if result.get("to_weights"):
        text += f", weights {weights(result['to_weights'])}"
    return text
