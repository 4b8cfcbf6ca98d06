"""download_model: a registered version's files, by alias or version, to a local directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_registry.artifacts import download_model, parse_model_ref
from model_registry.registration import Lineage, register_model
from model_registry.tracking import RegistryError

LINEAGE = Lineage(
    data_md5="0" * 32, git_commit="c0ffee" * 6, params={"model": "tiny"}, metrics={"macro_f1": 0.9}, history=[]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/intent-classifier@champion", ("intent-classifier", "champion")),
        ("models:/other-model/3", ("other-model", "3")),
        ("champion", ("intent-classifier", "champion")),
        ("@challenger", ("intent-classifier", "challenger")),
        ("12", ("intent-classifier", "12")),
    ],
)
def test_parse_model_ref(text: str, expected: tuple[str, str]) -> None:
    assert parse_model_ref(text) == expected


@pytest.mark.parametrize("text", ["models:/", "models:/name", "models:/name/latest/1", "models:/name@", "a/b", ""])
def test_unparseable_refs_are_registry_errors(text: str) -> None:
    with pytest.raises(RegistryError, match="cannot parse"):
        parse_model_ref(text)


def test_download_by_alias_and_by_version(tiny_model: Path, tmp_path: Path) -> None:
    registration = register_model(tiny_model, LINEAGE)
    by_alias = download_model("models:/intent-classifier@challenger", tmp_path / "a")
    by_version = download_model(f"models:/intent-classifier/{registration.version}", tmp_path / "b")
    for local in (by_alias, by_version):
        assert local.is_relative_to(tmp_path)
        assert (local / "model.safetensors").read_bytes() == (tiny_model / "model.safetensors").read_bytes()
        metadata = json.loads((local / "metadata.json").read_text())
        assert metadata["model_name"] == "intent-classifier" and metadata["model_version"] == registration.version
        assert metadata["aliases"] == ["challenger"] and metadata["run_id"] == registration.run_id
    assert download_model("challenger", tmp_path / "c").name == by_alias.name


def test_unknown_alias_version_or_model_is_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    register_model(tiny_model, LINEAGE)
    with pytest.raises(RegistryError, match="no version or alias 'champion'"):
        download_model("models:/intent-classifier@champion", tmp_path)
    with pytest.raises(RegistryError, match="no version or alias '99'"):
        download_model("models:/intent-classifier/99", tmp_path)
    with pytest.raises(RegistryError, match="no registered model 'nope'"):
        download_model("models:/nope@champion", tmp_path)
