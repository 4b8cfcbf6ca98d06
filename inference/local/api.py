"""The SageMaker API conventions the local control plane follows: ARNs, errors, request members and paging.

Every request is first checked against its operation's input shape in botocore's SageMaker service model
(`check_request`), as SageMaker checks it: member types, required members, lengths, ranges and enums, each
violation a ValidationException naming the member. Patterns are left to the operations: the local endpoint
takes file paths where SageMaker takes S3 URLs, and resource names are checked with SageMaker's own rule
(`inference.variants.check_name`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any

from inference.variants import FLOAT32_MAX, DeploymentError, check_name, tag_text_allowed
from ml.errors import MlopsError

REGION = "us-east-1"
ACCOUNT = "000000000000"
# AWS's default page size for ListModels / ListEndpoints.
DEFAULT_PAGE_SIZE = 10
# How many violations one ValidationException lists (AWS lists them all; a fuzzed request can hold thousands).
MAX_REPORTED_VIOLATIONS = 10
# SageMaker's pattern of tag keys and values, in Java's regex syntax: checked by `tag_text_allowed`.
_TAG_PATTERN = "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)"


class ApiError(Exception):
    """A SageMaker error: its code (ValidationException, ...), message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> ApiError:
    """The ValidationException SageMaker answers for anything wrong with a request."""
    return ApiError("ValidationException", message)


def from_user_error(exc: MlopsError) -> ApiError:
    """A user error of ours as the ValidationException SageMaker would answer."""
    return validation(f"{exc.message} ({exc.hint})" if exc.hint else exc.message)


def arn(kind: str, name: str) -> str:
    """The ARN of a SageMaker resource; AWS lower-cases the name in it."""
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name.lower()}"


_MISSING = object()


def param(params: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *, default: Any = _MISSING) -> Any:
    """A request member of the right JSON type; missing and required (no default) is SageMaker's null error."""
    value = params.get(key)
    if value is None:
        if default is _MISSING:
            member = key[:1].lower() + key[1:]
            raise validation(
                f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
                "Member must not be null"
            )
        return default
    numeric = kind in (int, float, (int, float))
    if not isinstance(value, kind) or (numeric and isinstance(value, bool)):
        raise validation(f"{key} has the wrong type: {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise validation(f"{key} must be a finite number")
    return value


def name_param(params: Mapping[str, Any], key: str, kind: str) -> str:
    """A request member that must be a valid SageMaker resource name."""
    try:
        return check_name(kind, param(params, key, str))
    except DeploymentError as exc:
        raise from_user_error(exc) from None


def tags_param(params: Mapping[str, Any]) -> list[dict[str, str]]:
    """The Tags member: a list of string Key/Value pairs."""
    tags = param(params, "Tags", list, default=[])
    for tag in tags:
        if (
            not isinstance(tag, dict)
            or not isinstance(tag.get("Key"), str)
            or not isinstance(tag.get("Value", ""), str)
        ):
            raise validation("every tag needs a string Key and a string Value")
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags]


def page(items: list[dict[str, Any]], params: Mapping[str, Any], key: str) -> dict[str, Any]:
    """One page of a List* answer, with an opaque NextToken (an offset) when more remain."""
    size = param(params, "MaxResults", int, default=DEFAULT_PAGE_SIZE)
    if not 1 <= size <= 100:
        raise validation("MaxResults must be between 1 and 100")
    token = param(params, "NextToken", str, default="0")
    # Only tokens this endpoint handed out: ASCII digits (str.isdigit also takes "\u00b2") of a plausible offset.
    if not (token.isascii() and token.isdigit() and len(token) <= len(str(len(items))) + 1):
        raise validation(_violation(token, "nextToken", "be a NextToken from an earlier page of the same listing"))
    start = int(token)
    page: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return page


def sort_items(
    items: list[dict[str, Any]], params: Mapping[str, Any], sort_keys: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Items ordered by the request's SortBy and SortOrder."""
    sort_by = param(params, "SortBy", str, default="CreationTime")
    order = param(params, "SortOrder", str, default="Descending")
    if sort_by not in sort_keys or order not in ("Ascending", "Descending"):
        raise validation(f"SortBy must be one of {', '.join(sort_keys)} and SortOrder Ascending or Descending")
    return sorted(items, key=lambda item: item[sort_keys[sort_by]], reverse=order == "Descending")


@cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def check_request(operation: str, params: Mapping[str, Any], *, max_lengths: Mapping[str, int] | None = None) -> None:
    """Refuse (ValidationException) a request whose members break their shapes in botocore's SageMaker model.

    `max_lengths` raises the maximum length of the lists at these member paths (e.g. "modelVariants"): the local
    endpoint's extensions of the API, each documented where it is passed.
    """
    shape = _service_model().operation_model(operation).input_shape
    found: list[str] = []
    if shape is not None:
        _check_shape(shape, params, "", found, max_lengths or {})
    if found:
        plural = "s" if len(found) > 1 else ""
        raise validation(
            f"{len(found)} validation error{plural} detected: " + "; ".join(found[:MAX_REPORTED_VIOLATIONS])
        )


def _violation(value: Any, path: str, rule: str) -> str:
    """One violation as SageMaker words it."""
    shown = "null" if value is None else f"'{str(value)[:60]}{'...' if len(str(value)) > 60 else ''}'"
    return f"1 validation error detected: Value {shown} at '{path}' failed to satisfy constraint: Member must {rule}"


def _check_shape(shape: Any, value: Any, path: str, found: list[str], max_lengths: Mapping[str, int]) -> None:
    """Append to `found` every way `value` breaks `shape` (a botocore Shape), members included."""

    def fail(rule: str) -> None:
        found.append(_violation(value, path, rule).removeprefix("1 validation error detected: "))

    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return fail("be a structure")
        for name, member in shape.members.items():
            where = f"{path}.{name[:1].lower()}{name[1:]}" if path else name[:1].lower() + name[1:]
            if value.get(name) is not None:
                _check_shape(member, value[name], where, found, max_lengths)
            elif name in shape.required_members:
                found.append(_violation(None, where, "not be null").removeprefix("1 validation error detected: "))
        return None
    if kind == "list":
        if not isinstance(value, list):
            return fail("be a list")
        limits = {**meta, "max": max_lengths[path]} if path in max_lengths else meta
        _check_size(len(value), limits, "have length", fail)
        for index, item in enumerate(value, 1):
            _check_shape(shape.member, item, f"{path}.{index}.member", found, max_lengths)
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return fail("be a map")
        _check_size(
            len(value), {**meta, "max": max_lengths[path]} if path in max_lengths else meta, "have length", fail
        )
        for key, item in value.items():
            _check_shape(shape.key, key, f"{path}.{key}.key", found, max_lengths)
            _check_shape(shape.value, item, f"{path}.{key}.value", found, max_lengths)
        return None
    if kind == "string":
        if not isinstance(value, str):
            return fail("be a string")
        if not _encodable(value):
            return fail("be valid Unicode (no unpaired surrogates)")
        _check_size(len(value), meta, "have length", fail)
        if meta.get("pattern") == _TAG_PATTERN and not tag_text_allowed(value):
            fail(f"satisfy regular expression pattern: {_TAG_PATTERN}")
        if "enum" in meta and value not in meta["enum"]:
            fail(f"satisfy enum value set: [{', '.join(meta['enum'])}]")
        return None
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return fail("be an integer")
        return _check_size(value, meta, "have value", fail)
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return fail("be a number")
        if isinstance(value, float) and not math.isfinite(value):
            return fail("be a finite number")
        if kind == "float" and abs(value) > FLOAT32_MAX:
            return fail(f"have value less than or equal to {FLOAT32_MAX:g} (a 32-bit float)")
        return _check_size(value, meta, "have value", fail)
    if kind == "boolean":
        if not isinstance(value, bool):
            fail("be a boolean")
        return None
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return fail("be a timestamp (epoch seconds)")
        if isinstance(value, float) and not math.isfinite(value):
            fail("be a finite number")
        return None
    return None  # blobs and documents: no member of the operations served here


def _check_size(size: float, meta: Mapping[str, Any], what: str, fail: Any) -> None:
    if "min" in meta and size < meta["min"]:
        fail(f"{what} greater than or equal to {meta['min']}")
    elif "max" in meta and size > meta["max"]:
        fail(f"{what} less than or equal to {meta['max']}")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
