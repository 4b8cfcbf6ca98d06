"""Data capture on the local A/B endpoint: an endpoint config's DataCaptureConfig, checked as the local endpoint can
honour it, and the writer it becomes (`inference.serving.capture`).

SageMaker writes captures to S3 (`DestinationS3Uri`); the local endpoint writes them to a local directory, given as
an absolute path or a `file://` URI in the same member, in the same layout:
`<dir>/<endpoint>/<variant>/YYYY/MM/DD/HH/*.jsonl`. An `s3://` destination is refused with a ValidationException
that says so: the local endpoint never reaches AWS.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.local.api import validation
from inference.serving.capture import JSON_CONTENT_TYPES, CaptureWriter

# SageMaker's CaptureMode values and the sides each captures.
_MODES = {"Input": (True, False), "Output": (False, True), "InputAndOutput": (True, True)}


@dataclass(frozen=True)
class CaptureSpec:
    """What a DataCaptureConfig asks of the local endpoint."""

    destination: str  # as given, for DescribeEndpoint
    root: Path
    enabled: bool
    percent: int
    capture_input: bool
    capture_output: bool
    json_content_types: tuple[str, ...]
    kms_key_id: str | None = None

    def writer(self, endpoint: str) -> CaptureWriter:
        """A writer for this endpoint's variants."""
        return CaptureWriter(
            self.root,
            endpoint=endpoint,
            percent=self.percent,
            capture_input=self.capture_input,
            capture_output=self.capture_output,
            json_content_types=self.json_content_types,
        )

    def summary(self) -> dict[str, Any]:
        """DescribeEndpoint's DataCaptureConfig (DataCaptureConfigSummary)."""
        answer: dict[str, Any] = {
            "EnableCapture": self.enabled,
            "CaptureStatus": "Started" if self.enabled else "Stopped",
            "CurrentSamplingPercentage": self.percent,
            "DestinationS3Uri": self.destination,
        }
        if self.kms_key_id:
            answer["KmsKeyId"] = self.kms_key_id
        return answer


def local_destination(uri: str) -> Path:
    """The directory a DestinationS3Uri names locally: an absolute path or file:// URI (ValidationException else)."""
    if uri.startswith(("s3://", "https://")):
        raise validation(
            f"DataCaptureConfig.DestinationS3Uri {uri!r}: the local endpoint writes captures to a local directory, "
            "not to S3 (give an absolute directory path or a file:// URI; s3:// is for SageMaker on AWS)"
        )
    if uri.startswith("file://"):
        parts = urllib.parse.urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise validation(f"DataCaptureConfig.DestinationS3Uri {uri!r}: a file:// URI must name a local path")
        path = Path(urllib.request.url2pathname(parts.path))
    else:
        path = Path(uri)
    if not path.is_absolute():
        raise validation(
            f"DataCaptureConfig.DestinationS3Uri {uri!r} is relative: give an absolute directory path or a file:// "
            "URI (the local endpoint's working directory is not the caller's)"
        )
    if path.exists() and not path.is_dir():
        raise validation(f"DataCaptureConfig.DestinationS3Uri {uri!r} is a file, not a directory")
    return path


def capture_spec(config: Mapping[str, Any]) -> CaptureSpec:
    """A DataCaptureConfig (already checked against botocore's shape) as the local endpoint honours it."""
    destination = config["DestinationS3Uri"]
    root = local_destination(destination)
    percent = config["InitialSamplingPercentage"]
    if not 0 <= percent <= 100:  # botocore's shape says so too; the writer must never see more
        raise validation(f"DataCaptureConfig.InitialSamplingPercentage must be 0-100, got {percent}")
    capture_input = capture_output = False
    for option in config["CaptureOptions"]:
        sides = _MODES[option["CaptureMode"]]  # the shape's enum was checked
        capture_input, capture_output = capture_input or sides[0], capture_output or sides[1]
    header = config.get("CaptureContentTypeHeader") or {}
    return CaptureSpec(
        destination=destination,
        root=root,
        enabled=bool(config.get("EnableCapture", True)),
        percent=int(percent),
        capture_input=capture_input,
        capture_output=capture_output,
        json_content_types=tuple(header.get("JsonContentTypes") or JSON_CONTENT_TYPES),
        kms_key_id=config.get("KmsKeyId"),
    )
