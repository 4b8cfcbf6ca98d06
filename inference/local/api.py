"""The SageMaker API conventions the local control plane follows: ARNs, errors, request members and paging."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from inference.variants import DeploymentError, check_name
from ml.errors import MlopsError

REGION = "us-east-1"
ACCOUNT = "000000000000"
# AWS's default page size for ListModels / ListEndpoints.
DEFAULT_PAGE_SIZE = 10


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
    if not token.isdigit():
        raise validation(f"invalid NextToken {token!r}")
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
