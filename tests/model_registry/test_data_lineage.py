"""A model trained on a data version that `mlops data add` made names that version's parent and source."""

from __future__ import annotations

from pathlib import Path

from model_registry.registration import Lineage, register_model
from tests.model_registry.standins import GOOD_METRICS, client, standin_export, standin_model


def _lineage(**extra: str) -> Lineage:
    return Lineage(
        data_md5="1" * 32, git_commit="c" * 40, params={"model": "tiny"}, metrics=GOOD_METRICS, history=[], **extra
    )


def test_the_data_versions_parent_and_source_are_version_tags(tmp_path: Path) -> None:
    lineage = _lineage(data_parent_md5="0" * 32, data_source="capture review 2026-12-03")
    result = register_model(standin_model(tmp_path, "fed"), lineage, onnx_dir=standin_export(tmp_path, "fed"))
    tags = client().get_model_version(result.name, result.version).tags
    assert tags["data_md5"] == "1" * 32
    assert (tags["data_parent_md5"], tags["data_source"]) == ("0" * 32, "capture review 2026-12-03")


def test_a_generated_data_version_gets_no_parent_tags(tmp_path: Path) -> None:
    result = register_model(standin_model(tmp_path, "gen"), _lineage(), onnx_dir=standin_export(tmp_path, "gen"))
    tags = client().get_model_version(result.name, result.version).tags
    assert "data_parent_md5" not in tags and "data_source" not in tags
