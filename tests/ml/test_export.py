"""ONNX export: parity with PyTorch, the report, refusal of bad graphs, dynamic axes, the SageMaker package, the CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from ml.data import Example, SplitConfig, load_examples, split_examples
from ml.errors import ModelError
from tests.conftest import run_cli

ROOT_FILES = {
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "intent_model.json",
    "model.onnx",
    "model.int8.onnx",
    "export_report.json",
    "metadata.json",
}


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under directory (hidden ones too) with the sha256 of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def test_split(small_dataset: Path) -> list[Example]:
    """The held-out split of the data the tiny model was trained on (same split seed as the fixture)."""
    return split_examples(load_examples(small_dataset), SplitConfig(seed=13))["test"]


@pytest.fixture(scope="module")
def exported(
    tiny_model: Path, test_split: list[Example], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict]:
    """A copy of the tiny model with an accepted fp32 + int8 export (the session's tiny_model stays untouched)."""
    from ml.export import export_model

    model_dir = tmp_path_factory.mktemp("exported") / "model"
    shutil.copytree(tiny_model, model_dir)
    return model_dir, export_model(model_dir, test_split)


def copy_model(source: Path, tmp_path: Path, *, with_export: bool = True) -> Path:
    """A private copy of a model directory, optionally without its ONNX export."""
    from ml.export import EXPORT_FILES

    target = tmp_path / "model"
    shutil.copytree(source, target, ignore=None if with_export else shutil.ignore_patterns(*EXPORT_FILES))
    return target


# ------------------------------------------------------------------------------------------ parity


def test_export_passes_parity_on_the_tiny_model(exported: tuple[Path, dict], test_split: list[Example]) -> None:
    from ml.model import ModelInfo

    model_dir, report = exported
    measured = report["measured"]
    assert report["passed"] is True
    assert measured["fp32_max_abs_diff"] <= 1e-4
    assert measured["fp32_argmax_agreement"] == 1.0
    assert measured["int8_argmax_agreement_excluding_ties"] >= 0.99
    assert measured["int8_accuracy_drop_excluding_ties"] <= 0.01
    # Raw figures are reported as measured, ties included.
    assert 0.0 <= measured["int8_argmax_agreement"] <= 1.0 and measured["int8_max_abs_diff"] > 0
    assert measured["int8_flips"] == measured["int8_tie_flips"]
    inputs = report["inputs"]
    assert inputs["labelled"] == len(test_split) and inputs["checked"] > inputs["labelled"]  # + long inputs
    assert {1, 4, 16} <= set(inputs["batch_sizes"])
    assert inputs["max_tokens"] == ModelInfo.load(model_dir).max_length  # long inputs reach truncation
    assert inputs["min_tokens"] < inputs["max_tokens"] // 2
    for name in ("model.onnx", "model.int8.onnx", "export_report.json"):
        assert (model_dir / name).is_file()


def test_export_report_records_thresholds_figures_and_versions(exported: tuple[Path, dict]) -> None:
    import onnxruntime
    import torch

    model_dir, report = exported
    on_disk = json.loads((model_dir / "export_report.json").read_text())
    assert on_disk == report
    assert report["thresholds"] == {
        "fp32_max_abs_diff": 1e-4,
        "int8_min_argmax_agreement": 0.99,
        "int8_max_accuracy_drop": 0.01,
        "int8_tie_margin": 0.02,
    }
    assert set(report["checks"]) == {
        "fp32_max_abs_diff",
        "int8_argmax_agreement_excluding_ties",
        "int8_accuracy_drop_excluding_ties",
    }
    for name, check in report["checks"].items():
        assert check["passed"] is True and check["value"] == report["measured"][name]
    assert report["opset"] == 17 and report["quantized"] is True and report["reference"] == "pytorch"
    assert report["attention"] == "relative positions sliced to the input's span"
    assert report["versions"]["onnxruntime"] == onnxruntime.__version__
    assert report["versions"]["torch"] == torch.__version__
    for name, entry in report["files"].items():
        data = (model_dir / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_onnx_graphs_have_dynamic_batch_and_sequence_axes(
    exported: tuple[Path, dict], test_split: list[Example]
) -> None:
    import onnxruntime as ort

    from ml.model import load_model
    from ml.parity import ort_feed
    from ml.predict import encode, predict_logits

    model_dir, _ = exported
    model, tokenizer, info = load_model(model_dir)
    texts = [e.text for e in test_split]
    batches = [texts[:1], [t * 3 for t in texts[1:8]]]  # batch 1, then batch 7 of longer prompts
    for name in ("model.onnx", "model.int8.onnx"):
        session = ort.InferenceSession(str(model_dir / name), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]  # no token_type_ids
        shapes = set()
        for batch in batches:
            encoded = encode(tokenizer, batch, info, return_tensors="np")
            shapes.add(encoded["input_ids"].shape)
            logits = session.run(None, ort_feed(session, encoded))[0]
            assert logits.shape == (len(batch), len(info.labels))
            reference = predict_logits(model, tokenizer, info, batch)
            tolerance = 1e-4 if name == "model.onnx" else 0.1
            assert np.abs(logits - reference).max() <= tolerance
        assert len({s[1] for s in shapes}) == 2  # two different sequence lengths


# ------------------------------------------------------------------------------------------ refusal


def _perturbing_export(real_trace: Any) -> Any:
    """A fp32 trace (ml.export._trace_fp32) writing a graph with slightly wrong weights, as a broken exporter would."""

    def export(model_dir: Path, out_path: Path | None = None, **kwargs: Any) -> tuple[Path, str]:
        import onnx
        from onnx import numpy_helper

        path, attention = real_trace(model_dir, out_path, **kwargs)
        graph = onnx.load(str(path))
        weight = next(t for t in graph.graph.initializer if t.data_type == onnx.TensorProto.FLOAT and len(t.dims) == 2)
        values = numpy_helper.to_array(weight)
        # Random, not constant: a constant shift of an embedding table would vanish in the next LayerNorm.
        noise = np.random.default_rng(0).normal(0.0, 0.05, values.shape).astype(np.float32)
        weight.CopyFrom(numpy_helper.from_array(values + noise, weight.name))
        onnx.save(graph, str(path))
        return path, attention

    return export


def test_a_broken_export_is_refused_and_leaves_the_model_dir_untouched(
    tiny_model: Path, test_split: list[Example], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.export as export_module

    model_dir = copy_model(tiny_model, tmp_path)
    before = snapshot(tmp_path)
    monkeypatch.setattr(export_module, "_trace_fp32", _perturbing_export(export_module._trace_fp32))
    with pytest.raises(export_module.ParityError) as excinfo:
        export_module.export_model(model_dir, test_split)
    message = str(excinfo.value)
    assert "refused" in message and "fp32_max_abs_diff = " in message and "> 0.0001 (FAILED)" in message
    assert "nothing was written" in message
    assert excinfo.value.report["passed"] is False
    assert excinfo.value.report["measured"]["fp32_max_abs_diff"] > 1e-4
    assert snapshot(tmp_path) == before  # no ONNX file, no report, no staging directory left behind
    assert list(tmp_path.iterdir()) == [model_dir]


def test_a_refused_re_export_keeps_the_accepted_one(
    exported: tuple[Path, dict], test_split: list[Example], tmp_path: Path
) -> None:
    from ml.export import ParityError, ParityThresholds, export_model

    model_dir = copy_model(exported[0], tmp_path)
    before = snapshot(model_dir)
    impossible = ParityThresholds(int8_min_argmax_agreement=1.5)
    with pytest.raises(ParityError, match=r"int8_argmax_agreement_excluding_ties = 1 < 1\.5 \(FAILED\)"):
        export_model(model_dir, test_split, thresholds=impossible)
    assert snapshot(model_dir) == before


def test_fp32_only_export_drops_a_stale_int8_graph(
    exported: tuple[Path, dict], test_split: list[Example], tmp_path: Path
) -> None:
    from ml.export import export_model

    model_dir = copy_model(exported[0], tmp_path)
    report = export_model(model_dir, test_split, quantize=False)
    assert report["passed"] and report["quantized"] is False
    assert set(report["checks"]) == {"fp32_max_abs_diff"} and set(report["files"]) == {"model.onnx"}
    assert not (model_dir / "model.int8.onnx").exists()


def test_export_needs_held_out_examples(tiny_model: Path, tmp_path: Path) -> None:
    from ml.export import export_model

    with pytest.raises(ModelError, match="needs held-out labelled examples"):
        export_model(tiny_model, [], out_dir=tmp_path / "onnx")
    with pytest.raises(ModelError, match="not an intent model directory"):
        export_model(tmp_path, [Example("hello", "chitchat")])
    assert not (tmp_path / "onnx").exists()


# ------------------------------------------------------------------------------------------ package


def test_package_is_deterministic_with_files_at_the_root(exported: tuple[Path, dict], tmp_path: Path) -> None:
    from ml.package import package_model

    model_dir, report = exported
    metadata = {"model_version": "7", "data_md5": "0" * 32, "git_commit": "abc123", "created_by": "tests"}
    first = package_model(model_dir, tmp_path / "a" / "model.tar.gz", metadata=metadata)
    second = package_model(model_dir, tmp_path / "b" / "model.tar.gz", metadata=metadata)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(ROOT_FILES)  # root of the archive: /opt/ml/model/<file>
        assert {m.mtime for m in members} == {members[0].mtime} and all(m.isfile() for m in members)
        packed = json.loads(tar.extractfile("metadata.json").read())  # type: ignore[union-attr]
        onnx_bytes = tar.extractfile("model.onnx").read()  # type: ignore[union-attr]
    assert {k: packed[k] for k in metadata} == metadata
    assert set(packed["files"]) == ROOT_FILES - {"metadata.json"}
    assert (
        hashlib.sha256(onnx_bytes).hexdigest()
        == report["files"]["model.onnx"]["sha256"]
        == packed["files"]["model.onnx"]
    )
    # Different metadata, different bytes: the version number is part of the package.
    third = package_model(model_dir, tmp_path / "c.tar.gz", metadata={**metadata, "model_version": "8"})
    assert third.read_bytes() != first.read_bytes()


def test_package_refuses_a_model_without_an_accepted_export(
    tiny_model: Path, exported: tuple[Path, dict], tmp_path: Path
) -> None:
    from ml.package import package_model

    with pytest.raises(ModelError, match="no accepted ONNX export"):
        package_model(tiny_model, tmp_path / "model.tar.gz", metadata={})
    tampered = copy_model(exported[0], tmp_path)
    with (tampered / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="differs from the graph its parity check accepted"):
        package_model(tampered, tmp_path / "model.tar.gz", metadata={})
    assert not (tmp_path / "model.tar.gz").exists()


def test_quantization_chatter_stays_out_of_the_logs(
    exported: tuple[Path, dict], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from ml.export import quantize_int8

    caplog.set_level(logging.DEBUG)
    quantize_int8(exported[0] / "model.onnx", tmp_path / "q.onnx")
    assert not [r for r in caplog.records if "onnxruntime" in r.pathname], [r.getMessage() for r in caplog.records]
    assert any("quantised" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------------------------ CLI


def test_cli_exports_and_packages(tiny_model: Path, small_dataset: Path, tmp_path: Path) -> None:
    model_dir = copy_model(tiny_model, tmp_path)
    package = tmp_path / "out" / "model.tar.gz"
    proc = run_cli("export", str(model_dir), "--data", str(small_dataset), "--package", str(package), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    payload = json.loads(proc.stdout)
    assert payload["passed"] is True and payload["package"] == str(package)
    assert payload["measured"]["fp32_max_abs_diff"] <= 1e-4
    assert payload["attention"] == "relative positions sliced to the input's span"
    assert payload["files"] == ["export_report.json", "model.int8.onnx", "model.onnx"]
    with tarfile.open(package) as tar:
        assert set(tar.getnames()) == ROOT_FILES
        metadata = json.loads(tar.extractfile("metadata.json").read())  # type: ignore[union-attr]
    assert metadata["model_version"] == "unregistered" and metadata["created_by"].startswith("intent-mlops")
    assert "Quantization parameters" not in proc.stderr  # onnxruntime.quantization's chatter is silenced

    again = run_cli("export", str(model_dir), "--data", str(small_dataset))
    assert again.returncode == 1 and "already holds an ONNX export" in again.stderr and "--overwrite" in again.stderr


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp, model, data: [str(tmp / "missing")], "model directory not found"),
        (lambda tmp, model, data: [str(tmp)], "is not an intent model directory"),
        (lambda tmp, model, data: [str(model), "--data", str(tmp / "nope.jsonl")], "dataset not found"),
        (lambda tmp, model, data: [str(model), "--data", str(data), "--package", str(data)], "already exists"),
    ],
    ids=["missing-dir", "not-a-model", "missing-data", "package-exists"],
)
def test_cli_bad_input(make_args: Any, message: str, tiny_model: Path, small_dataset: Path, tmp_path: Path) -> None:
    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, ["export", *make_args(tmp_path, tiny_model, small_dataset)])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not any(tiny_model.glob("*.onnx"))


def test_cli_parity_failure_exits_non_zero_with_the_figures(
    tiny_model: Path, small_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.export as export_module
    from mlops_cli.main import cli

    model_dir = copy_model(tiny_model, tmp_path)
    monkeypatch.setattr(export_module, "_trace_fp32", _perturbing_export(export_module._trace_fp32))
    result = CliRunner().invoke(cli, ["export", str(model_dir), "--data", str(small_dataset), "--no-int8"])
    assert result.exit_code == 1
    assert "fp32_max_abs_diff = " in result.output and "(FAILED)" in result.output and "hint:" in result.output
    assert not any(model_dir.glob("*.onnx")) and not (model_dir / "export_report.json").exists()


def test_cli_help_lists_the_options() -> None:
    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    for option in ("--data", "--no-int8", "--package", "--json", "--overwrite"):
        assert option in result.output
