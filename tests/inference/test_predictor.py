"""OnnxPredictor and TorchPredictor: same interface, same answers (fp32 to ~1e-5, int8 close), clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference.predictor import OnnxPredictor, TorchPredictor, default_threads, read_model_version
from ml.errors import ModelError
from ml.model import ModelInfo
from ml.taxonomy import INTENTS

TEXTS = [
    "Write a Python function that merges two sorted lists",
    "Translate 'see you tomorrow' into German",
    "Give me the gist of this meeting transcript",
    "hey there, how is your weekend going?",
    "Plan a three day trip to Lisbon on a budget",
    "my dishwasher leaves everything wet, how do I fix it",
    "If all bloops are razzies and all razzies are lazzies, are all bloops lazzies?",
    "What is the capital of Australia?",
    "a very long prompt that keeps going " * 40,
]


@pytest.fixture(scope="module")
def torch_predictor(onnx_model: Path) -> TorchPredictor:
    return TorchPredictor(onnx_model, intra_op_threads=1)


def test_result_shape(onnx_model: Path) -> None:
    predictor = OnnxPredictor(onnx_model, intra_op_threads=1)
    results = predictor.predict(TEXTS)
    assert len(results) == len(TEXTS)
    for result in results:
        assert set(result) == {"intent", "confidence", "probabilities"}
        assert list(result["probabilities"]) == list(INTENTS)
        assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert result["confidence"] == max(result["probabilities"].values())
        assert result["intent"] == max(result["probabilities"], key=result["probabilities"].get)
    assert predictor.predict([]) == []
    assert predictor.input_names == ["input_ids", "attention_mask"]  # the graph's inputs: no token_type_ids


def test_fp32_onnx_matches_torch(onnx_model: Path, torch_predictor: TorchPredictor) -> None:
    onnx = OnnxPredictor(onnx_model, precision="fp32", intra_op_threads=1)
    np.testing.assert_allclose(onnx.predict_proba(TEXTS), torch_predictor.predict_proba(TEXTS), atol=1e-4)
    assert [r["intent"] for r in onnx.predict(TEXTS)] == [r["intent"] for r in torch_predictor.predict(TEXTS)]


def test_int8_onnx_is_close_to_torch(onnx_model: Path, torch_predictor: TorchPredictor) -> None:
    int8 = OnnxPredictor(onnx_model, precision="int8", intra_op_threads=1).predict_proba(TEXTS)
    reference = torch_predictor.predict_proba(TEXTS)
    assert np.abs(int8 - reference).max() < 0.1
    assert (int8.argmax(axis=1) == reference.argmax(axis=1)).mean() >= 0.85


def test_chunking_does_not_change_results(onnx_model: Path) -> None:
    whole = OnnxPredictor(onnx_model, precision="fp32", intra_op_threads=1).predict_proba(TEXTS)
    chunked = OnnxPredictor(onnx_model, precision="fp32", intra_op_threads=1, max_batch=2).predict_proba(TEXTS)
    # Padding to a different batch length changes nothing but float rounding.
    np.testing.assert_allclose(chunked, whole, atol=1e-5)


def test_length_sorted_chunks_keep_every_text_in_its_place(onnx_model: Path) -> None:
    from ml.predict import length_chunks

    texts = ["hi", "a much longer prompt about the history of the roman empire and its fall", "yo", "hey there"]
    chunks = length_chunks(texts, max_batch=8)
    assert sorted(i for chunk in chunks for i in chunk) == [0, 1, 2, 3]
    assert [1] in chunks  # the long text is not padded together with the short ones
    assert all(len(c) <= 2 for c in length_chunks(texts * 3, max_batch=2))
    predictor = OnnxPredictor(onnx_model, precision="fp32", intra_op_threads=1)
    together = predictor.predict_proba(texts)
    alone = np.concatenate([predictor.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_thread_counts(onnx_model: Path) -> None:
    assert OnnxPredictor(onnx_model, intra_op_threads=1).session.get_session_options().intra_op_num_threads == 1
    assert OnnxPredictor(onnx_model).intra_op_threads == default_threads() >= 1
    assert default_threads(workers=64) == 1


def test_max_length_override_truncates_shorter(onnx_model: Path) -> None:
    predictor = OnnxPredictor(onnx_model, intra_op_threads=1, max_length=8)
    assert predictor.info.max_length == 8 and ModelInfo.load(onnx_model).max_length != 8
    long_a, long_b = (
        "translate this sentence into french " + "x " * 50,
        "translate this sentence into french " + "y " * 50,
    )
    assert predictor.predict([long_a]) == predictor.predict([long_b])  # they differ only after token 8


def test_model_version_sources(onnx_model: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    shutil.copy(onnx_model / "intent_model.json", model_dir)
    assert read_model_version(model_dir) == "my-model"
    info = ModelInfo.load(model_dir)
    info.extra["model_version"] = "7"
    info.save(model_dir)
    assert read_model_version(model_dir) == "7"
    (model_dir / "metadata.json").write_text(json.dumps({"model_name": "intent-classifier", "model_version": 12}))
    assert read_model_version(model_dir) == "12"


def test_missing_precision_is_a_clear_error(onnx_model: Path, tmp_path: Path) -> None:
    model_dir = shutil.copytree(onnx_model, tmp_path / "m", ignore=shutil.ignore_patterns("model.int8.onnx"))
    with pytest.raises(ModelError, match=r"no model\.int8\.onnx") as excinfo:
        OnnxPredictor(model_dir)
    assert "fp32" in str(excinfo.value)  # the hint names what is there
    assert OnnxPredictor(model_dir, precision="fp32", intra_op_threads=1).predict(["hi"])
    with pytest.raises(ModelError, match="unknown ONNX precision"):
        OnnxPredictor(model_dir, precision="fp16")
    with pytest.raises(ModelError, match="not found"):
        OnnxPredictor(tmp_path / "nowhere")


def test_rejects_a_bare_string(onnx_model: Path) -> None:
    with pytest.raises(TypeError, match="single string"):
        OnnxPredictor(onnx_model, intra_op_threads=1).predict("hello")
