"""Structured logging for the server: a JSON object per line on stdout (CloudWatch and `docker logs` read it as is)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

ACCESS_LOGGER = "inference.access"
# LogRecord attributes that are not user fields.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format a record as JSON: time, level, logger, message, pid, any `extra=` fields, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record as a single JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(level: str = "info") -> dict[str, Any]:
    """A dictConfig for uvicorn and our loggers; uvicorn applies it in every worker process."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "inference.serving.logs.JsonFormatter"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "loggers": {
            "uvicorn": {"handlers": ["stdout"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # We write our own access log (with latency and request ids); uvicorn's is turned off.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "inference": {"handlers": ["stdout"], "level": level, "propagate": False},
            "ml": {"handlers": ["stdout"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["stdout"], "level": "WARNING"},
    }
