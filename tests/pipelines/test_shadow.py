"""The shadow facade's reading of model references (the flows themselves: tests/inference/local/test_shadow.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import shadow


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("intent-classifier/3", "models:/intent-classifier/3"),
        ("models:/intent-classifier@challenger", "models:/intent-classifier@challenger"),
        ("challenger", "challenger"),
        ("3", "3"),
        ("intent-classifier/latest", "intent-classifier/latest"),  # not a version: left for the registry to refuse
    ],
)
def test_name_slash_version_is_a_registry_version(given: str, expected: str) -> None:
    assert shadow.registry_uri(given) == expected


def test_a_path_on_disk_stays_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models" / "3").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert shadow.registry_uri("models/3") == "models/3"


def test_the_facade_re_exports_the_verdicts() -> None:
    from inference.deploy import shadow as library

    assert (shadow.READY, shadow.NOT_READY, shadow.INSUFFICIENT) == (
        library.READY,
        library.NOT_READY,
        library.INSUFFICIENT,
    )
    assert (shadow.READY, shadow.NOT_READY, shadow.INSUFFICIENT) == ("ready", "not ready", "insufficient evidence")
