"""Data capture: a sampled share of requests and their answers, written as SageMaker writes them.

Each captured request is one line of SageMaker's data-capture JSON Lines
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html):

    {"captureData": {"endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                                       "data": "<body>", "encoding": "JSON"},
                     "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                        "data": "<body>", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "<uuid4>", "inferenceTime": "2026-12-03T05:00:00Z", "inferenceId": "..."},
     "eventVersion": "0"}

`data` is the exact body: its text when the body is UTF-8 JSON sent with a JSON content type (`encoding` "JSON"),
else its base64 (`encoding` "BASE64"). Files are laid out as SageMaker lays them out on S3, by the hour (UTC) of
the inference: `<root>/<endpoint>/<variant>/YYYY/MM/DD/HH/<MM-SS-mmm>-<uuid>.jsonl`, the name being when the file
was opened. A file is closed when its hour ends or when it reaches `rotate_bytes`; every worker process writes its
own files, so several never share one. Lines are whole when written, but a reader may meet a file still being
written and its last line cut short (the reader counts it as broken).

The request path only decides (sampling) and enqueues; a background thread encodes and writes. When the bounded
queue is full the record is dropped and counted, never waited for. `close()` writes what is queued, then closes the
files; the server calls it on shutdown (SIGTERM). Counts of captured, dropped, sampled-out and failed records are
kept (`counts()`) and reported to an optional `on_count` callback (the server's Prometheus counters).

Standard library only: the serving image carries this module.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import random
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ml.errors import MlopsError

log = logging.getLogger(__name__)

# Where captures go under the local state directory, unless told otherwise.
CAPTURE_DIR = "capture"
# What `mlops serve` calls itself and its one variant in the capture layout (SageMaker's default variant name).
SERVE_ENDPOINT = "serve"
SERVE_VARIANT = "AllTraffic"
# A file is closed and a new one opened past this size.
DEFAULT_ROTATE_BYTES = 64 * 1024 * 1024
# Records waiting for the writer thread; beyond, new ones are dropped (and counted) so no request ever waits.
DEFAULT_QUEUE_SIZE = 10_000
# After writing, the writer thread rests this long before taking the next records: under load it wakes once per
# interval for a batch, not once per request, so it takes the GIL (and a core) from the requests less often
# (docs/benchmarks.md, "Data capture overhead"). Records reach the disk within about this time.
DEFAULT_FLUSH_INTERVAL_S = 0.1
JSON_CONTENT_TYPES = ("application/json",)
EVENT_VERSION = "0"
# SageMaker's endpoint and variant names (EndpointName, VariantName): also safe as one path component each.
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# Outcomes counted per record.
CAPTURED, DROPPED, SAMPLED_OUT, FAILED = "captured", "dropped", "sampled_out", "failed"
OUTCOMES = (CAPTURED, DROPPED, SAMPLED_OUT, FAILED)
INFERENCE_ID_HEADER = "x-amzn-sagemaker-inference-id"


class CaptureError(MlopsError):
    """Data capture is configured wrongly (a share outside 0-100, a name that is no path component)."""


def check_percent(percent: float) -> float:
    """The sampling share as a float in 0-100, else CaptureError."""
    try:
        value = float(percent)
    except (TypeError, ValueError):
        raise CaptureError(f"the capture share must be a number from 0 to 100, got {percent!r}") from None
    if not 0.0 <= value <= 100.0:  # NaN fails too
        raise CaptureError(
            f"the capture share must be from 0 to 100 percent, got {percent}",
            hint="e.g. --capture-percent 10 captures about one request in ten; 0 captures none",
        )
    return value


def check_capture_name(kind: str, name: str) -> str:
    """An endpoint or variant name that SageMaker accepts (and so a safe directory name), else CaptureError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise CaptureError(
            f"{kind} name {name!r} cannot name a capture directory",
            hint="1-63 letters, digits and hyphens, starting with a letter or digit (SageMaker's rule)",
        )
    return name


def capture_time(when: datetime) -> str:
    """An inference time as SageMaker writes it: UTC, to the second, with a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def encode_body(
    body: bytes, content_type: str | None, json_types: Iterable[str] = JSON_CONTENT_TYPES
) -> dict[str, str]:
    """`data` and `encoding` of a captured body: its text if it is UTF-8 JSON of a JSON content type, else base64."""
    if _media_type(content_type) in {t.lower() for t in json_types}:
        try:
            text = body.decode("utf-8")
            json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError):
            pass
        else:
            return {"data": text, "encoding": "JSON"}
    return {"data": base64.b64encode(body).decode("ascii"), "encoding": "BASE64"}


@dataclass(frozen=True)
class _Record:
    variant: str
    when: datetime
    request: bytes | None
    response: bytes | None
    request_type: str
    response_type: str
    inference_id: str | None


def capture_line(record: _Record, json_types: Iterable[str] = JSON_CONTENT_TYPES) -> str:
    """One record as a line of SageMaker's data-capture JSON Lines (without the newline)."""
    data: dict[str, Any] = {}
    if record.request is not None:
        data["endpointInput"] = {
            "observedContentType": record.request_type,
            "mode": "INPUT",
            **encode_body(record.request, record.request_type, json_types),
        }
    if record.response is not None:
        data["endpointOutput"] = {
            "observedContentType": record.response_type,
            "mode": "OUTPUT",
            **encode_body(record.response, record.response_type, json_types),
        }
    metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": capture_time(record.when)}
    if record.inference_id:
        metadata["inferenceId"] = record.inference_id
    return json.dumps(
        {"captureData": data, "eventMetadata": metadata, "eventVersion": EVENT_VERSION},
        ensure_ascii=False,
        separators=(",", ":"),
    )


class _OpenFile:
    """The file one variant writes now: its hour, handle and size."""

    def __init__(self, path: Path, hour: tuple[int, int, int, int]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.hour = hour
        self.handle: IO[bytes] = path.open("ab")
        self.size = 0

    def close(self) -> None:
        self.handle.close()


_STOP = object()


class CaptureWriter:
    """Captures a sampled share of one endpoint's requests and answers into hourly, size-rotated JSON Lines files.

    Args:
        root: the capture directory; files go under `<root>/<endpoint>/<variant>/YYYY/MM/DD/HH/`.
        endpoint: the endpoint's name (a path component: SageMaker's naming rule).
        percent: the share of requests to capture, 0-100 (CaptureError outside).
        rotate_bytes: a file is closed, and the next opened, once it holds this many bytes.
        capture_input, capture_output: which sides to write (SageMaker's CaptureOptions).
        json_content_types: content types whose UTF-8 JSON bodies are written as text (CaptureContentTypeHeader).
        queue_size: records that may wait for the writer thread; more are dropped.
        flush_interval_s: how long the writer thread rests between batches (close() cuts the rest short).
        on_count: called with (outcome, n) as records are captured, dropped, sampled out or fail to write.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        endpoint: str = SERVE_ENDPOINT,
        percent: float = 100.0,
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        capture_input: bool = True,
        capture_output: bool = True,
        json_content_types: Iterable[str] = JSON_CONTENT_TYPES,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        on_count: Callable[[str, int], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.root = Path(root)
        self.endpoint = check_capture_name("endpoint", endpoint)
        self.percent = check_percent(percent)
        if rotate_bytes < 1:
            raise CaptureError(f"the capture file size limit must be at least 1 byte, got {rotate_bytes}")
        if not (capture_input or capture_output):
            raise CaptureError("data capture needs at least one of input and output", hint="CaptureOptions")
        self.rotate_bytes = rotate_bytes
        self.capture_input = capture_input
        self.capture_output = capture_output
        self.json_content_types = tuple(json_content_types)
        self.on_count = on_count
        self.clock = clock
        self._rng = rng or random.Random()
        self._share = self.percent / 100.0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._counts = dict.fromkeys(OUTCOMES, 0)
        self._lock = threading.Lock()
        self._files: dict[str, _OpenFile] = {}
        self._closed = False
        self._flush_interval_s = flush_interval_s
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture-{self.endpoint}", daemon=True)
        self._thread.start()

    # ---- the request path: decide and enqueue, never wait -------------------------------------------------

    def sampled(self) -> bool:
        """Whether the next request is to be captured (a draw at the configured share)."""
        return self._share >= 1.0 or (self._share > 0.0 and self._rng.random() < self._share)

    def capture(
        self,
        variant: str,
        request: bytes,
        response: bytes,
        *,
        request_type: str | None = None,
        response_type: str | None = None,
        inference_id: str | None = None,
    ) -> bool:
        """Offer one answered request; True when it was queued for writing (sampled in, room in the queue)."""
        if self._closed:
            return False
        if not self.sampled():
            self._count(SAMPLED_OUT)
            return False
        record = _Record(
            variant,
            self.clock(),
            request if self.capture_input else None,
            response if self.capture_output else None,
            request_type or JSON_CONTENT_TYPES[0],
            response_type or JSON_CONTENT_TYPES[0],
            inference_id,
        )
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._count(DROPPED)
            return False
        return True

    def counts(self) -> dict[str, int]:
        """Records captured (written), dropped (queue full), sampled out and failed (not written) so far."""
        with self._lock:
            return dict(self._counts)

    def _count(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self._counts[outcome] += n
        if self.on_count is not None:
            try:
                self.on_count(outcome, n)
            except Exception:  # a metrics hiccup must never fail a request or stop the writer
                log.exception("capture counter callback failed")

    # ---- shutdown --------------------------------------------------------------------------------------

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop taking records, write every queued one, close the files (waits at most `timeout` seconds)."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        self._queue.put(_STOP)  # blocks only while the queue is full, which the writer thread is emptying
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("capture writer still busy %s s after close: records may be lost", timeout)
        log.info("capture closed", extra={"endpoint": self.endpoint, "root": str(self.root), **self.counts()})

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the writer thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while True:  # take what else is waiting: one flush per burst
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            records = [r for r in batch if r is not _STOP]
            stopping = len(records) != len(batch)
            self._write(records)
            if not stopping:
                self._closing.wait(self._flush_interval_s)
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def _write(self, records: list[_Record]) -> None:
        touched: dict[str, _OpenFile] = {}
        for record in records:
            try:
                line = (capture_line(record, self.json_content_types) + "\n").encode("utf-8")
                current = self._file_for(record, len(line))
                current.handle.write(line)
                current.size += len(line)
                touched[record.variant] = current
            except Exception:  # a full disk or a bad name loses this record, never the server
                log.exception("could not write a captured record", extra={"variant": record.variant})
                self._count(FAILED)
                continue
            self._count(CAPTURED)
        for current in touched.values():
            try:
                current.handle.flush()
            except OSError:
                log.exception("could not flush capture file %s", current.path)

    def _file_for(self, record: _Record, size: int) -> _OpenFile:
        """The file this record goes to: the variant's open one, unless its hour is over or it is full."""
        when = record.when.astimezone(UTC)
        hour = (when.year, when.month, when.day, when.hour)
        current = self._files.get(record.variant)
        if current is not None and current.hour == hour and current.size + size <= self.rotate_bytes:
            return current
        if current is not None and current.hour == hour and current.size == 0:
            return current  # one line larger than the limit still needs a file
        if current is not None:
            current.close()
            del self._files[record.variant]
        check_capture_name("variant", record.variant)
        directory = (
            self.root / self.endpoint / record.variant / f"{hour[0]:04d}/{hour[1]:02d}/{hour[2]:02d}/{hour[3]:02d}"
        )
        # Named like SageMaker's: the minute, second and millisecond of its first record, and a unique id.
        name = f"{when.minute:02d}-{when.second:02d}-{when.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
        self._files[record.variant] = _OpenFile(directory / name, hour)
        return self._files[record.variant]


def capture_files(root: Path | str, endpoint: str | None = None) -> list[Path]:
    """The capture files under `root` (of one endpoint, if given), in layout order."""
    base = Path(root) / endpoint if endpoint else Path(root)
    return sorted(p for p in base.rglob("*.jsonl") if p.is_file()) if base.is_dir() else []


def purge_captures(root: Path | str, *, endpoint: str | None = None) -> dict[str, Any]:
    """Delete captured data under `root` (one endpoint's, if given); what was removed (files, bytes)."""
    root = Path(root)
    if endpoint is not None:
        check_capture_name("endpoint", endpoint)
    target = root / endpoint if endpoint else root
    files = capture_files(root, endpoint)
    size = sum(p.stat().st_size for p in files)
    if target.is_dir():
        if endpoint is None:
            for child in list(target.iterdir()):  # keep the directory itself: a server may be configured to it
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(target)
    log.info("purged captures", extra={"root": str(root), "endpoint": endpoint, "files": len(files), "bytes": size})
    return {"root": str(root), "endpoint": endpoint, "files": len(files), "bytes": size}
