"""Turn an /invocations request body into texts, or a 4xx error saying exactly what is wrong.

Nothing here raises anything but `BadRequest` for a bad body, so bad input never becomes a 500.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# Default-ignorable code points that str.isprintable() still counts as printable (a combining grapheme joiner, Hangul
# fillers, Khmer and Mongolian inherent vowels and selectors, variation selectors): they render as nothing. Source:
# Default_Ignorable_Code_Point in Unicode's DerivedCoreProperties.txt; every other one is a control or format
# character, which isprintable() already rejects.
_IGNORABLE_PRINTABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


@dataclass
class BadRequest(Exception):
    """A client error: HTTP status, a message for the caller, and a short reason for the error metric."""

    status: int
    message: str
    reason: str

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}"


@dataclass(frozen=True)
class Limits:
    """Request limits; beyond them the answer is 413."""

    max_inputs: int = 64
    max_body_bytes: int = 1024 * 1024
    max_text_bytes: int = 16 * 1024

    @property
    def drain_bytes(self) -> int:
        """How much of an oversized body is still read (and dropped) before answering 413.

        Answering before the body is read makes the server close the connection while the client is still
        sending, and the client sees a broken pipe instead of our 413. Past this much, we answer anyway.
        """
        return max(4 * self.max_body_bytes, 8 * 1024 * 1024)


JSON_MEDIA_TYPE = "application/json"
# What a client sends when it does not say what the body is. SageMaker SDK v3's `Endpoint.invoke` with its
# JSONSerializer passes no ContentType, so boto3 sends no Content-Type header at all; application/octet-stream is
# the generic "unspecified bytes" type. Such a body is accepted only when it is JSON (see docs/operations.md#serving).
UNDECLARED_MEDIA_TYPES = frozenset({"", "application/octet-stream"})


def check_content_type(header: str | None) -> bool:
    """True for application/json (charset utf-8 if any is given); False for an undeclared type (no header, or
    application/octet-stream), whose body `parse_inputs(..., declared=False)` accepts only if it is JSON; any other
    type is a 415."""
    media_type, *params = (part.strip() for part in (header or "").split(";"))
    if media_type.lower() in UNDECLARED_MEDIA_TYPES:
        return False
    if media_type.lower() != JSON_MEDIA_TYPE:
        message = f"unsupported Content-Type {_clip(repr(media_type))}: send {JSON_MEDIA_TYPE}"
        raise BadRequest(415, message, "unsupported_media_type")
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise BadRequest(
                415, f"unsupported charset {_clip(repr(value.strip()))}: send UTF-8", "unsupported_media_type"
            )
    return True


def check_content_length(header: str | None, limits: Limits) -> None:
    """Reject a declared body too large even to drain (413) without reading it; a malformed header is a 400."""
    if header is None:
        return
    try:
        length = int(header)
    except ValueError:
        raise BadRequest(400, f"invalid Content-Length {_clip(repr(header))}", "invalid_content_length") from None
    if length > limits.drain_bytes:
        raise BadRequest(413, f"request body is {length} bytes; the limit is {limits.max_body_bytes}", "body_too_large")


def too_large(limits: Limits) -> BadRequest:
    """The 413 for a body found over the limit while reading it."""
    return BadRequest(413, f"request body is larger than the limit of {limits.max_body_bytes} bytes", "body_too_large")


def parse_inputs(body: bytes, limits: Limits, *, declared: bool = True) -> list[str]:
    """Validate a JSON body `{"inputs": "text"}` or `{"inputs": ["text", ...]}` and return the texts.

    declared: whether the Content-Type said application/json (`check_content_type`). An undeclared body that is not
    UTF-8 JSON is a 415 (it is not a type we serve), where a declared one is a 400 (malformed JSON).
    """
    if len(body) > limits.max_body_bytes:
        raise too_large(limits)
    if not body.strip():
        raise BadRequest(400, 'empty request body: send {"inputs": "text"} or {"inputs": ["text", ...]}', "empty_body")
    try:
        # Decode ourselves: json.loads on bytes would guess UTF-16/32 and accept what the contract does not.
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not declared:
            raise _undeclared("is not UTF-8 text") from None
        raise BadRequest(
            400, f"request body is not valid UTF-8 (bad byte at offset {exc.start})", "invalid_utf8"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if not declared:
            raise _undeclared(f"is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
        raise BadRequest(
            400, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", "invalid_json"
        ) from None
    except RecursionError:
        raise BadRequest(400, "invalid JSON: nested too deeply", "invalid_json") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's int-parsing limit
        raise BadRequest(400, f"invalid JSON: {exc}", "invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest(
            400, f'the body must be a JSON object like {{"inputs": ...}}, not {_json_type(data)}', "not_an_object"
        )
    if "inputs" not in data:
        raise BadRequest(
            400, 'missing field "inputs": send {"inputs": "text"} or {"inputs": ["text", ...]}', "missing_inputs"
        )
    unknown = sorted(set(data) - {"inputs"})
    if unknown:
        names = ", ".join(_clip(repr(name)) for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise BadRequest(400, f'unknown field(s) {names}: only "inputs" is accepted', "unknown_fields")
    inputs = data["inputs"]
    if isinstance(inputs, str):
        texts, fields = [inputs], ["inputs"]
    elif isinstance(inputs, list):
        if not inputs:
            raise BadRequest(400, '"inputs" is an empty list: send at least one text', "empty_inputs")
        if len(inputs) > limits.max_inputs:
            raise BadRequest(
                413,
                f'"inputs" has {len(inputs)} texts; the limit is {limits.max_inputs} per request',
                "too_many_inputs",
            )
        texts, fields = inputs, [f"inputs[{i}]" for i in range(len(inputs))]
    else:
        raise BadRequest(
            400, f'"inputs" must be a string or a list of strings, not {_json_type(inputs)}', "invalid_type"
        )
    for name, value in zip(fields, texts, strict=True):
        _check_text(name, value, limits)
    return list(texts)


def _undeclared(problem: str) -> BadRequest:
    return BadRequest(
        415,
        f"the request has no Content-Type (or application/octet-stream) and its body {problem}: "
        f'send Content-Type: {JSON_MEDIA_TYPE} with {{"inputs": "text"}} or {{"inputs": ["text", ...]}}',
        "unsupported_media_type",
    )


def _check_text(name: str, value: object, limits: Limits) -> None:
    if not isinstance(value, str):
        raise BadRequest(400, f"{name} must be a string, not {_json_type(value)}", "invalid_type")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        # JSON can spell lone surrogates ("\ud800"); no tokenizer can take them.
        raise BadRequest(400, f"{name} contains an unpaired surrogate (invalid Unicode)", "invalid_unicode") from None
    if size > limits.max_text_bytes:
        raise BadRequest(
            413, f"{name} is {size} bytes of UTF-8; the limit is {limits.max_text_bytes}", "text_too_large"
        )
    if not value.strip():
        raise BadRequest(400, f"{name} is empty: send text to classify", "empty_text")
    if not has_visible_text(value):
        # NULs or zero-width characters alone still tokenise, and the model answers with confidence about nothing.
        raise BadRequest(
            400,
            f"{name} has nothing visible in it (only whitespace, control or zero-width characters): send text to "
            "classify",
            "empty_text",
        )


def has_visible_text(text: str) -> bool:
    """Whether a text holds a character that renders: not whitespace, control, format, unassigned or ignorable."""
    return any(c.isprintable() and not c.isspace() and not _IGNORABLE_PRINTABLE.match(c) for c in text)


def _clip(text: str, limit: int = 60) -> str:
    # Error messages quote what the client sent; never echo back a megabyte of it.
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
