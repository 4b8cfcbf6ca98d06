"""User-facing errors: each says what is wrong and how to fix it."""

from __future__ import annotations


class MlopsError(Exception):
    """An error caused by input or environment that the user can fix; the CLI prints it without a traceback."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class DataError(MlopsError):
    """The dataset is missing, malformed or inconsistent."""


class ModelError(MlopsError):
    """A model directory, preset or name cannot be used."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (library messages can run to paragraphs), else its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
