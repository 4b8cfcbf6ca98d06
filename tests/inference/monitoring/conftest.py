"""Capture files in SageMaker's data-capture format, written by hand (the same bytes the capture writer emits)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def capture_line(
    texts: Sequence[str] | str,
    predictions: Sequence[dict[str, Any]],
    *,
    time: datetime | None = None,
    base64_input: bool = False,
    inference_id: str | None = None,
) -> str:
    """One data-capture JSON line for a request with `texts` and the server's answer `predictions`."""
    body = json.dumps({"inputs": texts})
    answer = json.dumps({"predictions": list(predictions), "model_version": "1"})
    metadata: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "inferenceTime": (time or datetime(2026, 12, 3, 5, 0, tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if inference_id:
        metadata["inferenceId"] = inference_id
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "application/json",
                    "mode": "INPUT",
                    "data": base64.b64encode(body.encode()).decode() if base64_input else body,
                    "encoding": "BASE64" if base64_input else "JSON",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": answer,
                    "encoding": "JSON",
                },
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }
    )


def prediction(intent: str, confidence: float) -> dict[str, Any]:
    """A server answer for one text."""
    return {"intent": intent, "confidence": confidence, "probabilities": {intent: confidence}}


def layout_path(root: Path, endpoint: str, variant: str, time: datetime, name: str = "capture") -> Path:
    """`<root>/<endpoint>/<variant>/YYYY/MM/DD/HH/<name>.jsonl`, as SageMaker lays captures out."""
    return root / endpoint / variant / time.strftime("%Y/%m/%d/%H") / f"{name}.jsonl"


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    """Write capture lines to a file (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
