"""`mlops serve`: flags, clear errors, and serving a registry model (models:/name@alias) end to end."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli
from tests.inference.conftest import http, invoke


def test_help_lists_the_knobs_and_their_environment_variables() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    for text in (
        "--workers",
        "--threads",
        "--precision",
        "--batch-max-size",
        "--batch-wait-ms",
        "--max-inputs",
        "SAGEMAKER_BIND_TO_PORT",
        "INTENT_SERVE_WORKERS",
        "models:/NAME@ALIAS",
    ):
        assert text in result.stdout


def test_missing_model_is_a_clean_error(tmp_path: Path) -> None:
    result = run_cli("serve", str(tmp_path / "nowhere"))
    assert result.returncode == 1 and "model directory not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_registry_alias_is_a_clean_error() -> None:
    result = run_cli("serve", "models:/intent-classifier@champion")
    assert result.returncode == 1 and "no registered model 'intent-classifier'" in result.stderr
    assert "Traceback" not in result.stderr


def test_serves_a_model_from_the_registry(onnx_model: Path, tmp_path: Path, server_factory) -> None:
    from model_registry.registration import Lineage, register_model

    lineage = Lineage(data_md5="1" * 32, git_commit="ab" * 20, params={}, metrics={"macro_f1": 0.9}, history=[])
    registration = register_model(onnx_model, lineage, alias="champion")
    server = server_factory(
        "models:/intent-classifier@champion", "--threads", "1", "--download-dir", str(tmp_path / "dl")
    )
    response = invoke(server.url, {"inputs": ["Write a limerick about a cat"]})
    assert response.status == 200
    assert response.json()["model_version"] == registration.version  # from the downloaded metadata.json
    assert http("GET", f"{server.url}/ping", content_type=None).status == 200
    assert list((tmp_path / "dl").rglob("model.int8.onnx"))
    assert server.terminate() == 0


def test_serves_the_pytorch_baseline_with_the_same_answers(onnx_model: Path, server_factory) -> None:
    """--precision torch (the pre-ONNX way, kept as the benchmark baseline) speaks the same contract; the deprecated
    --variant still chooses the precision."""
    texts = ["Translate 'thank you' into German", "hey, how are you doing today?"]
    torch_server = server_factory(onnx_model, "--precision", "torch", "--threads", "1")
    fp32_server = server_factory(onnx_model, "--variant", "fp32", "--threads", "1")
    torch_answer = invoke(torch_server.url, {"inputs": texts}).json()
    fp32_answer = invoke(fp32_server.url, {"inputs": texts}).json()
    assert [p["intent"] for p in torch_answer["predictions"]] == [p["intent"] for p in fp32_answer["predictions"]]
    for a, b in zip(torch_answer["predictions"], fp32_answer["predictions"], strict=True):
        assert abs(a["confidence"] - b["confidence"]) < 1e-4
    assert torch_server.terminate() == 0 and fp32_server.terminate() == 0
