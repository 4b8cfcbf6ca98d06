"""A registry store that is busy (a SQLite store locked by another writer) is one clear error, not a traceback.

MLflow waits for a locked SQLite store (its busy timeout), then raises and logs the driver's whole traceback.
`guarded` turns that into one RegistryError saying the store is busy and to retry, and keeps MLflow's traceback
out of the output; every other error passes through unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from model_registry.tracking import RegistryError

# What SQLite says when another connection holds the lock past the busy timeout.
_BUSY_TEXTS = ("database is locked", "database is busy", "database table is locked")
_MLFLOW_DB_LOGGER = "mlflow.store.db.utils"
# How a RegistryError says that it was raised before anything was written.
_NOTHING_CHANGED = re.compile(r"nothing (was )?changed")
RETRY_HINT = "another promotion, registration or backup is writing to it; retry in a moment (rerunning is safe)"


def is_busy(exc: BaseException | None) -> bool:
    """Whether exc, or an exception it was raised from, is SQLite reporting the store locked by another writer."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if any(text in str(exc).lower() for text in _BUSY_TEXTS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class _DropBusyTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and is_busy(record.exc_info[1]))


@contextlib.contextmanager
def guarded(action: str, uri: str | None = None) -> Iterator[None]:
    """Run registry calls for `action`; a busy store becomes RegistryError('... is busy ...', hint: retry)."""
    log_filter = _DropBusyTracebacks()
    logger = logging.getLogger(_MLFLOW_DB_LOGGER)
    logger.addFilter(log_filter)
    try:
        yield
    except Exception as exc:
        if not is_busy(exc):
            raise
        where = f" {uri}" if uri else ""
        if isinstance(exc, RegistryError) and not _NOTHING_CHANGED.search(exc.hint or ""):
            # Raised after something was written: its message says what was and was not; keep it, name the cause.
            raise RegistryError(f"the registry store{where} is busy: {exc.message}", hint=exc.hint) from exc
        raise RegistryError(
            f"the registry store{where} is busy (locked by another writer): {action} did not finish and moved no alias",
            hint=RETRY_HINT,
        ) from exc
    finally:
        logger.removeFilter(log_filter)
