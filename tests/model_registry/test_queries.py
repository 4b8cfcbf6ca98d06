"""Reading the registry: a version with its lineage and the evidence the promotion gates decide on, verified, in
JSON and in the text `mlops registry show` prints for people."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ml.settings import P95_BUDGET_MS
from ml.taxonomy import INTENTS
from model_registry.queries import get_version
from tests.model_registry.standins import NAME, client, register_standin


def _show(*args: str) -> str:
    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, ["registry", "show", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_version_comes_with_its_verified_evidence(tmp_path: Path) -> None:
    version = register_standin(tmp_path, "a")
    plain = get_version(version)
    assert "evidence" not in plain  # only on request: it downloads the evidence artifact
    shown = get_version("challenger", with_evidence=True)
    evidence = shown["evidence"]
    assert evidence["verified"] and evidence["problems"] == []
    assert evidence["sha256"] == shown["params"]["evidence_sha256"]
    assert evidence["record"]["benchmark"]["p95_ms"] == 120.0 and evidence["record"]["onnx_parity"] == "passed"


def test_show_prints_what_the_gates_decide_on(tmp_path: Path) -> None:
    version = register_standin(tmp_path, "a")
    text = _show("challenger")
    evidence_sha = get_version(version)["params"]["evidence_sha256"]
    assert f"evidence    verified (sha256 {evidence_sha[:12]}" in text
    assert "benchmark   p95 120.0 ms, budget 500.0 ms: passed; p50 40.0 ms, p99 180.0 ms, 55.0 req/s, 0 errors" in text
    assert "onnx_parity passed" in text
    assert f"labels      {len(INTENTS)} in id order: {INTENTS[0]}, " in text
    package = get_version(version)["params"]["package_sha256"]
    assert f"package     sha256 {package}" in text
    as_json = json.loads(_show("challenger", "--json"))
    assert as_json["evidence"]["verified"] is True and as_json["tags"]["package_sha256"] == package


def test_show_says_when_the_evidence_cannot_be_trusted(tmp_path: Path) -> None:
    version = register_standin(tmp_path, "a", bench={"budget_ms": 800.0}, parity=False)
    client().set_model_version_tag(NAME, version, "bench.p95_ms", "1.0")  # a forged copy
    text = _show(version)
    assert (
        "evidence    NOT VERIFIED (the evidence gate refuses it as a candidate): tag bench.p95_ms='1.0' does not match"
        in text
    )
    assert "(below: the record as registered)" in text
    assert "benchmark   p95 120.0 ms, budget 800.0 ms: passed" in text  # the record, not the forged tag
    assert f"(promote checks p95 against --p95-budget-ms, default {P95_BUDGET_MS:g} ms)" in text
    assert "onnx_parity missing: no accepted ONNX export was registered" in text
    assert "package     none recorded" in text
    assert json.loads(_show(version, "--json"))["evidence"]["verified"] is False


def test_show_marks_figures_that_only_tags_hold(tmp_path: Path) -> None:
    register_standin(tmp_path, "a")
    made_by_hand = client().create_model_version(
        NAME, "file:///nowhere/model", tags={"bench.p95_ms": "1.0", "bench.passed": "true", "onnx_parity": "passed"}
    )
    text = _show(str(made_by_hand.version))
    assert "NOT VERIFIED (the evidence gate refuses it as a candidate): no registering run" in text
    assert "(below: the version tags, which anyone can edit)" in text
    assert "benchmark   p95 1.0 ms, budget ? ms: passed; p50 ? ms" in text and "onnx_parity passed" in text
    assert "labels      missing" in text and "package     none recorded" in text
