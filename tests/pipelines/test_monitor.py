"""`drift_report` and `mlops monitor drift` end to end: a real model serves captured predictions, the reference is
resolved from a data file, a DVC cache and the MLflow registry, and the CLI's exit codes tell CI what happened."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ml.data import SplitConfig, file_md5, load_examples, split_examples
from tests.conftest import ROOT, run_cli
from tests.inference.monitoring.conftest import capture_line, layout_path, write_lines

NATURAL = ROOT / "data" / "natural_prompts.jsonl"


@pytest.fixture(scope="module")
def training_data(tmp_path_factory: pytest.TempPathFactory, dataset_rows: list[dict]) -> Path:
    """The full generated dataset as a file: its held-out part (800 texts) is the reference."""
    path = tmp_path_factory.mktemp("drift-data") / "prompts.jsonl"
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in dataset_rows))
    return path


def _capture(root: Path, model_dir: Path, texts: list[str], *, endpoint: str = "serve") -> Path:
    """What `mlops serve --capture-dir root` would write for these requests (two texts per request)."""
    from datetime import UTC, datetime

    from inference.predictor import OnnxPredictor

    predictor = OnnxPredictor(model_dir)
    lines = [capture_line(texts[i : i + 2], predictor.predict(texts[i : i + 2])) for i in range(0, len(texts), 2)]
    write_lines(layout_path(root, endpoint, "AllTraffic", datetime(2026, 12, 3, 5, tzinfo=UTC)), [*lines, "{oops"])
    return root


def _test_texts(data: Path, n: int) -> list[str]:
    texts = [e.text for e in split_examples(load_examples(data), SplitConfig(seed=13))["test"]]
    return random.Random(0).sample(texts, n)


def _natural_texts(n: int) -> list[str]:
    return random.Random(0).sample([e.text for e in load_examples(NATURAL, allow_duplicates=True)], n)


def test_traffic_like_the_training_data_is_no_drift_and_natural_prompts_are_drift(
    onnx_model: Path, training_data: Path, tmp_path: Path
) -> None:
    from pipelines.monitor import drift_report

    same = _capture(tmp_path / "same", onnx_model, _test_texts(training_data, 120))
    report = drift_report(str(same), against=str(training_data), model=onnx_model, out=tmp_path / "same.png")
    assert report.verdict == "no drift", report.to_dict()["checks"]
    assert report.current_size == 120 and report.reference_size == 800
    assert report.capture["broken_lines"] == 1
    assert report.reference["data_md5"] == file_md5(training_data)
    assert report.reference["representation"] == "mean-pooled hidden states"
    assert report.plot_path == tmp_path / "same.png" and report.plot_path.stat().st_size > 10_000

    shifted = _capture(tmp_path / "natural", onnx_model, _natural_texts(120))
    report = drift_report(str(shifted), against=str(training_data), model=onnx_model)
    assert report.verdict == "drift" and report.drifted
    assert report.plot_path is None


def test_the_cli_exits_0_1_2_and_prints_json(onnx_model: Path, training_data: Path, tmp_path: Path) -> None:
    base = ["monitor", "drift", "--against", str(training_data), "--model", str(onnx_model), "--json"]
    shifted = _capture(tmp_path / "natural", onnx_model, _natural_texts(100))
    proc = run_cli(*base, "--capture", str(shifted), "--plot", str(tmp_path / "drift.png"))
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "drift" and report["drifted"] is True
    assert set(report["checks"]) == {"intents", "confidence", "length", "unknown_tokens", "embedding"}
    assert report["plot_path"] == str(tmp_path / "drift.png") and (tmp_path / "drift.png").is_file()

    proc = run_cli(*base, "--capture", f"file://{shifted}", "--endpoint", "serve", "--variant", "AllTraffic")
    assert proc.returncode == 1

    few = _capture(tmp_path / "few", onnx_model, _natural_texts(20))
    proc = run_cli(*base, "--capture", str(few))
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["verdict"] == "insufficient data"

    proc = run_cli(*base[:-1], "--capture", str(few), "--min-samples", "10")
    assert proc.returncode in (0, 1)
    assert "verdict:" in proc.stdout and "embedding" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--capture", "{missing}"], "capture source not found"),
        (["--capture", "{empty}"], "no usable capture record"),
        (["--capture", "{capture}", "--endpoint", "other"], "endpoint=other"),
        (["--capture", "{capture}", "--since", "yesterday"], "not an ISO 8601 time"),
        (["--capture", "{capture}", "--alpha", "2"], "--alpha"),
        (["--capture", "{capture}", "--against", "a/b/c"], "neither a data file"),
        (["--capture", "{capture}", "--against", "0" * 32], "data version 000"),
        (["--capture", "{capture}", "--model", "{missing}"], "neither a model directory"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str, training_data: Path, tmp_path: Path) -> None:
    capture = write_lines(
        tmp_path / "capture.jsonl", [capture_line("hello", [{"intent": "conversation", "confidence": 0.5}])]
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("not a record\n")
    values = {"missing": str(tmp_path / "missing"), "empty": str(empty), "capture": str(capture)}
    args = [a.format(**values) for a in args]
    if "--against" not in args:
        args += ["--against", str(training_data)]
    proc = run_cli("monitor", "drift", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_champion_and_its_data_version_are_the_default_reference(
    onnx_model: Path, training_data: Path, tmp_path: Path
) -> None:
    """The champion is downloaded from the registry; its data_md5 names data that only DVC's cache holds."""
    from dvc.repo import Repo

    from ml.export import export_model
    from model_registry.registration import Lineage, register_model
    from pipelines.monitor import drift_report

    repo = tmp_path / "repo"
    dvc = Repo.init(str(repo), no_scm=True)
    data = repo / "data" / "prompts.jsonl"
    data.parent.mkdir()
    data.write_bytes(training_data.read_bytes())
    dvc.add(str(data))
    dvc.close()
    data.unlink()  # only the cache holds it now
    md5 = file_md5(training_data)

    examples = split_examples(load_examples(training_data), SplitConfig(seed=13))["test"][:50]
    onnx_dir = tmp_path / "onnx"
    export_model(onnx_model, examples, out_dir=onnx_dir)
    lineage = Lineage(data_md5=md5, git_commit="c" * 40, params={"seed": 13}, metrics={"macro_f1": 0.5}, history=[])
    register_model(onnx_model, lineage, onnx_dir=onnx_dir, alias="champion")

    capture = _capture(tmp_path / "natural", onnx_model, _natural_texts(80))
    report = drift_report(str(capture), repo=repo)
    assert report.verdict == "drift"
    assert report.reference["model"] == "models:/intent-classifier/1"
    assert report.reference["data_md5"] == md5
    assert Path(report.reference["data_file"]).is_relative_to(repo / ".dvc" / "cache")
    assert report.reference["split_seed"] == 13

    same = drift_report(
        str(_capture(tmp_path / "same", onnx_model, _test_texts(training_data, 80))),
        against="intent-classifier/1",
        repo=repo,
    )
    assert same.verdict == "no drift"
    assert same.reference["model"] == "models:/intent-classifier/1"
