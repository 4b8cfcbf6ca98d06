"""Request validation (the server tests cover the same cases over HTTP)."""

from __future__ import annotations

import json

import pytest

from inference.serving.payload import BadRequest, Limits, check_content_length, check_content_type, parse_inputs


def test_parse_inputs_accepts_a_string_or_a_list() -> None:
    limits = Limits()
    assert parse_inputs(b'{"inputs": "hello"}', limits) == ["hello"]
    assert parse_inputs(json.dumps({"inputs": ["a", "b\u00e9"]}).encode(), limits) == ["a", "b\u00e9"]


@pytest.mark.parametrize(
    ("header", "declared"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ('application/json; charset="utf-8"', True),
        (None, False),  # SageMaker SDK v3's Endpoint.invoke with its JSONSerializer sends no Content-Type
        ("", False),
        ("application/octet-stream", False),
    ],
)
def test_json_or_an_undeclared_type_is_accepted(header: str | None, declared: bool) -> None:
    assert check_content_type(header) is declared


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("application/json; charset=iso-8859-1", "charset"),
        ("text/json", "unsupported Content-Type 'text/json': send application/json"),
        ("text/csv", "unsupported Content-Type 'text/csv': send application/json"),
        ("text/plain", "text/plain"),
    ],
)
def test_another_content_type_is_415(header: str, words: str) -> None:
    with pytest.raises(BadRequest) as excinfo:
        check_content_type(header)
    assert excinfo.value.status == 415 and words in excinfo.value.message


def test_an_undeclared_body_must_be_json() -> None:
    limits = Limits()
    assert parse_inputs(b'{"inputs": "hello"}', limits, declared=False) == ["hello"]
    for body in (b"hello,world", b"\xff\xfe{", b'{"inputs": "hi"'):
        with pytest.raises(BadRequest) as excinfo:
            parse_inputs(body, limits, declared=False)
        assert excinfo.value.status == 415 and "send Content-Type: application/json" in excinfo.value.message
        assert excinfo.value.reason == "unsupported_media_type"
    # JSON that breaks the contract is the same 400 with or without a declared type.
    with pytest.raises(BadRequest) as excinfo:
        parse_inputs(b'{"text": "hi"}', limits, declared=False)
    assert (excinfo.value.status, excinfo.value.reason) == (400, "missing_inputs")
    with pytest.raises(BadRequest) as excinfo:
        parse_inputs(b'{"inputs": "hi"', limits)
    assert (excinfo.value.status, excinfo.value.reason) == (400, "invalid_json")


def test_limits_are_configurable() -> None:
    limits = Limits(max_inputs=2, max_body_bytes=100, max_text_bytes=5)
    assert parse_inputs(b'{"inputs": ["12345", "x"]}', limits) == ["12345", "x"]
    for body, reason in [
        (b'{"inputs": ["a", "b", "c"]}', "too_many_inputs"),
        (b'{"inputs": "123456"}', "text_too_large"),
        (b'{"inputs": "\xc3\xa9\xc3\xa9\xc3\xa9"}', "text_too_large"),  # 3 characters, 6 UTF-8 bytes
        (b'{"inputs": "' + b"a" * 100 + b'"}', "body_too_large"),
    ]:
        with pytest.raises(BadRequest) as excinfo:
            parse_inputs(body, limits)
        assert (excinfo.value.status, excinfo.value.reason) == (413, reason)


def test_declared_length_is_checked_before_reading() -> None:
    limits = Limits(max_body_bytes=1000)
    check_content_length(None, limits)
    check_content_length("5000", limits)  # over the limit but small: read and drop it, then 413 (no broken pipe)
    for header, status in [(str(limits.drain_bytes + 1), 413), ("12abc", 400)]:
        with pytest.raises(BadRequest) as excinfo:
            check_content_length(header, limits)
        assert excinfo.value.status == status


@pytest.mark.parametrize(
    "text",
    [
        "\x00",
        "\x00\x00\x00",
        "\u200b\u200c\u200d",  # zero-width space, non-joiner, joiner
        "\ufeff\u2060",  # byte order mark, word joiner
        " \u00ad\t\u180e ",  # soft hyphen, Mongolian vowel separator
        "\u3164\ufe0f\u034f",  # Hangul filler, variation selector, combining grapheme joiner
        "\x1b\x7f\u202e",  # escape, delete, a bidi override
        "\U000e0001\U000e0100",  # tag and variation selector supplement
    ],
)
def test_a_text_with_nothing_visible_is_refused_like_an_empty_one(text: str) -> None:
    """Only whitespace, control, format (zero-width) or default-ignorable characters: nothing to classify."""
    for body in ({"inputs": text}, {"inputs": ["fine", text]}):
        with pytest.raises(BadRequest) as excinfo:
            parse_inputs(json.dumps(body).encode(), Limits())
        assert (excinfo.value.status, excinfo.value.reason) == (400, "empty_text")
        assert "nothing visible" in excinfo.value.message


@pytest.mark.parametrize("text", ["\u200bhi", "\x00a", "\u00e9", "\u0301", "\u2800", "\U0001f600", "\u4e2d"])
def test_a_text_with_something_visible_is_accepted(text: str) -> None:
    assert parse_inputs(json.dumps({"inputs": text}).encode(), Limits()) == [text]
