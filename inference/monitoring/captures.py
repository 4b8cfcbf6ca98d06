"""Read SageMaker data-capture JSON Lines (what `mlops serve --capture-dir` and the local endpoint write, and what a
SageMaker endpoint writes to S3) back into the texts and the predictions of each request.

One line per request:
`{"captureData": {"endpointInput": {"data", "encoding", ...}, "endpointOutput": {...}}, "eventMetadata":
{"eventId", "inferenceTime", ...}, "eventVersion": "0"}`, `encoding` "JSON" (the body as text) or "BASE64".
Files live at `<root>/<endpoint>/<variant>/YYYY/MM/DD/HH/<name>.jsonl` (UTC), locally or under an S3 prefix; the
endpoint and variant of a record come from that path.

A line that is not such a record (cut short by a crash, edited by hand) is counted in `broken_lines` and skipped,
never fatal: one bad line must not hide a day of traffic. A line that is a record but whose request body the server
would not have accepted (or whose response carries no predictions: an error answer) is counted in
`skipped_records`. A capture with no usable record at all is a `CaptureError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from inference.serving.payload import BadRequest, Limits, parse_inputs
from ml.errors import MlopsError

log = logging.getLogger(__name__)

CAPTURE_SUFFIX = ".jsonl"
# SageMaker's layout below the capture root: endpoint/variant/YYYY/MM/DD/HH/file.
_HOUR_PARTS = 4
# A captured body was accepted by the server under its own limits; reading it back must not refuse what it served.
_READ_LIMITS = Limits(max_inputs=1 << 20, max_body_bytes=1 << 30, max_text_bytes=1 << 24)
_DIGITS = re.compile(r"^\d+$")


class CaptureError(MlopsError):
    """A capture source that cannot be read, or holds no usable record."""


@dataclass(frozen=True)
class CapturedRecord:
    """One captured request: its texts and the model's prediction for each."""

    event_id: str
    time: datetime
    endpoint: str
    variant: str
    texts: list[str]
    predictions: list[dict[str, Any]]


@dataclass
class CaptureSet:
    """The records read from a capture source, and what could not be used."""

    records: list[CapturedRecord]
    files: int
    broken_lines: int
    source: str
    skipped_records: int = 0
    problems: list[str] = field(default_factory=list)  # the first few broken lines and skipped records, located

    def texts(self) -> list[str]:
        """Every captured text, request by request."""
        return [text for record in self.records for text in record.texts]

    def predictions(self) -> list[dict[str, Any]]:
        """Every captured prediction (`{"intent", "confidence", ...}`), aligned with `texts()`."""
        return [prediction for record in self.records for prediction in record.predictions]

    def summary(self) -> dict[str, Any]:
        """Counts for a report: source, files, records, texts, broken lines, skipped records, first problems."""
        return {
            "source": self.source,
            "files": self.files,
            "records": len(self.records),
            "texts": sum(len(r.texts) for r in self.records),
            "broken_lines": self.broken_lines,
            "skipped_records": self.skipped_records,
            "problems": self.problems,
        }


_MAX_PROBLEMS = 10


def read_captures(
    source: str | Path,
    *,
    endpoint: str | None = None,
    variant: str | None = None,
    since: datetime | None = None,
    s3_client: Any = None,
) -> CaptureSet:
    """Read a capture file, a directory tree of them, a `file://` URI or an `s3://bucket/prefix`.

    endpoint / variant keep only records whose layout path names them; since keeps records at or after that time
    (a naive datetime is taken as UTC). CaptureError when the source does not exist or holds no usable record.
    """
    text = str(source)
    since_utc = _as_utc(since) if since is not None else None
    files = _s3_files(text, s3_client) if text.startswith("s3://") else _local_files(_local_path(text))
    captures = CaptureSet(records=[], files=0, broken_lines=0, source=text)
    for name, lines in files:
        captures.files += 1
        where_endpoint, where_variant = layout_names(name)
        if endpoint is not None and where_endpoint != endpoint:
            continue
        if variant is not None and where_variant != variant:
            continue
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            _read_line(captures, f"{name}:{number}", line, where_endpoint or "", where_variant or "", since_utc)
    if captures.broken_lines or captures.skipped_records:
        log.warning(
            "%s: skipped %d broken line(s) and %d unusable record(s); first: %s",
            text,
            captures.broken_lines,
            captures.skipped_records,
            captures.problems[:1],
        )
    if not captures.records:
        raise CaptureError(_empty_message(captures, endpoint, variant, since_utc), hint=_empty_hint(captures))
    captures.records.sort(key=lambda r: r.time)
    return captures


def layout_names(path: str) -> tuple[str | None, str | None]:
    """(endpoint, variant) from a capture file's path `.../<endpoint>/<variant>/YYYY/MM/DD/HH/<file>`, else Nones."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if len(parts) < _HOUR_PARTS + 3:
        return None, None
    hour = parts[-1 - _HOUR_PARTS : -1]
    if not all(_DIGITS.match(p) for p in hour):
        return None, None
    return parts[-3 - _HOUR_PARTS], parts[-2 - _HOUR_PARTS]


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _local_path(text: str) -> Path:
    if text.startswith("file://"):
        parsed = urlparse(text)
        if parsed.netloc not in ("", "localhost"):
            raise CaptureError(f"cannot read {text}: a file:// URI names a local path", hint="use file:///abs/path")
        return Path(unquote(parsed.path))
    if "://" in text:
        raise CaptureError(
            f"unsupported capture source {text!r}", hint="give a file, a directory, file:///path or s3://bucket/prefix"
        )
    return Path(text)


def _local_files(path: Path) -> Iterator[tuple[str, Iterator[str]]]:
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob(f"*{CAPTURE_SUFFIX}") if p.is_file())
        if not files:
            raise CaptureError(
                f"no capture files (*{CAPTURE_SUFFIX}) under {path}",
                hint="point --capture at the directory given to `mlops serve --capture-dir` or the endpoint's "
                "DataCaptureConfig destination, after some traffic",
            )
    else:
        raise CaptureError(f"capture source not found: {path}", hint="give an existing file or directory")
    for file in files:
        yield str(file), _file_lines(file)


def _file_lines(path: Path) -> Iterator[str]:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            yield from handle
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _s3_files(uri: str, s3_client: Any) -> Iterator[tuple[str, Iterator[str]]]:
    parsed = urlparse(uri)
    bucket, prefix = parsed.netloc, parsed.path.lstrip("/")
    if not bucket:
        raise CaptureError(f"no bucket in {uri!r}", hint="use s3://bucket/prefix")
    if s3_client is None:
        from ml.aws import boto3_client

        s3_client = boto3_client("s3")
    from botocore.exceptions import BotoCoreError, ClientError

    keys: list[str] = []
    try:
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(CAPTURE_SUFFIX))
    except (BotoCoreError, ClientError) as exc:
        raise CaptureError(
            f"cannot list {uri}: {exc}", hint="check the bucket name, the credentials and AWS_ENDPOINT_URL"
        ) from exc
    if not keys:
        raise CaptureError(
            f"no capture files (*{CAPTURE_SUFFIX}) under {uri}",
            hint="use the endpoint's DataCaptureConfig DestinationS3Uri (with the endpoint name below it)",
        )
    for key in sorted(keys):
        yield f"s3://{bucket}/{key}", _s3_lines(s3_client, bucket, key)


def _s3_lines(s3_client: Any, bucket: str, key: str) -> Iterator[str]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (BotoCoreError, ClientError) as exc:
        raise CaptureError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
    yield from body.decode("utf-8", errors="replace").splitlines()


def _note(captures: CaptureSet, where: str, problem: str) -> None:
    if len(captures.problems) < _MAX_PROBLEMS:
        captures.problems.append(f"{where}: {problem}")


def _read_line(
    captures: CaptureSet, where: str, line: str, endpoint: str, variant: str, since: datetime | None
) -> None:
    try:
        record = json.loads(line)
        capture = record["captureData"]
        request = capture["endpointInput"]
        response = capture["endpointOutput"]
        metadata = record["eventMetadata"]
        moment = _as_utc(datetime.fromisoformat(str(metadata["inferenceTime"]).replace("Z", "+00:00")))
        event_id = str(metadata.get("eventId", ""))
        request_body = _body(request)
        response_body = _body(response)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        captures.broken_lines += 1
        _note(captures, where, f"not a data-capture record ({type(exc).__name__}: {str(exc)[:80]})")
        return
    if since is not None and moment < since:
        return
    try:
        texts = parse_inputs(request_body, _READ_LIMITS)
    except BadRequest as exc:
        captures.skipped_records += 1
        _note(captures, where, f"request body the server would refuse: {exc.message[:80]}")
        return
    predictions = _predictions(response_body, len(texts))
    if predictions is None:
        captures.skipped_records += 1
        _note(captures, where, "response carries no prediction per input (an error answer)")
        return
    captures.records.append(CapturedRecord(event_id, moment, endpoint, variant, texts, predictions))


def _body(part: dict[str, Any]) -> bytes:
    data = part["data"]
    if not isinstance(data, str):
        raise TypeError("data is not a string")
    encoding = str(part.get("encoding", "JSON")).upper()
    if encoding == "BASE64":
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"bad BASE64 data: {exc}") from None
    return data.encode("utf-8", errors="surrogatepass")


def _predictions(body: bytes, expected: int) -> list[dict[str, Any]] | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    predictions = data.get("predictions") if isinstance(data, dict) else None
    if not isinstance(predictions, list) or len(predictions) != expected:
        return None
    for item in predictions:
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str):
            return None
        confidence = item.get("confidence")
        if not isinstance(confidence, int | float) or isinstance(confidence, bool) or not 0.0 <= confidence <= 1.0:
            return None
    return predictions


def _empty_message(captures: CaptureSet, endpoint: str | None, variant: str | None, since: datetime | None) -> str:
    filters = [f"{k}={v}" for k, v in (("endpoint", endpoint), ("variant", variant), ("since", since)) if v]
    where = f" matching {', '.join(filters)}" if filters else ""
    return (
        f"no usable capture record{where} in {captures.source} ({captures.files} file(s), "
        f"{captures.broken_lines} broken line(s), {captures.skipped_records} unusable record(s))"
    )


def _empty_hint(captures: CaptureSet) -> str:
    if captures.problems:
        return f"first problem: {captures.problems[0]}"
    return "send traffic with capture on (`mlops serve --capture-dir DIR`), or widen --endpoint/--variant/--since"
