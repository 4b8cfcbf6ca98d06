"""The model-speed benchmark (issue #19.5): every graph variant is built, timed side by side and checked for parity."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks import model_speed
from ml.data import Example, SplitConfig, load_examples, split_examples


@pytest.fixture(scope="module")
def calibration(small_dataset: Path) -> list[str]:
    """20 training prompts of the split the tiny model was trained on."""
    return [e.text for e in split_examples(load_examples(small_dataset), SplitConfig(seed=13))["train"][:20]]


@pytest.fixture(scope="module")
def variants_model(onnx_model: Path, calibration: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the trained tiny model with every variant built."""
    model_dir = tmp_path_factory.mktemp("speed") / "model"
    shutil.copytree(onnx_model, model_dir)
    model_speed.prepare(model_dir, calibration)
    return model_dir


@pytest.fixture(scope="module")
def held_out(small_dataset: Path) -> list[Example]:
    """A few held-out labelled prompts of the split the tiny model was trained on."""
    return split_examples(load_examples(small_dataset), SplitConfig(seed=13))["test"][:12]


def test_every_variant_is_built_and_the_optimizer_fuses_layer_norms_but_not_debertas_attention(
    variants_model: Path, calibration: list[str]
) -> None:
    graphs = model_speed.prepare(variants_model, calibration)  # cached: the fixture built them
    for name, file in model_speed.VARIANT_FILES.items():
        assert (variants_model / file).is_file(), name
    fused = graphs["fused_operators"]
    # What docs/benchmarks.md reports: the residual adds and their LayerNorms fuse, the FFN bias and GELU fuse;
    # DeBERTa's disentangled attention matches none of the optimizer's attention patterns.
    assert fused["SkipLayerNormalization"] > 0 and fused["BiasGelu"] > 0
    assert "Attention" not in fused and "MultiHeadAttention" not in fused
    static_ops = graphs["nodes"][model_speed.STATIC_INT8]["in_session_by_op"]
    assert static_ops.get("QLinearMatMul", 0) > 0  # onnxruntime turned the QDQ pairs into int8 kernels


def test_fused_fp32_matches_the_current_fp32_and_int8_variants_stay_close(
    variants_model: Path, held_out: list[Example]
) -> None:
    parity = model_speed.parity_against_fp32(variants_model, [e.text for e in held_out])
    assert set(parity) == set(model_speed.VARIANTS) - {model_speed.CURRENT_FP32}
    assert parity[model_speed.FUSED_FP32]["top1_agreement"] == 1.0
    assert parity[model_speed.FUSED_FP32]["max_abs_probability_diff"] < 1e-5
    for name in set(parity) - {model_speed.FUSED_FP32}:
        assert 0 < parity[name]["max_abs_probability_diff"] < 0.2, name  # int8 differs, but only by noise


def test_parity_against_pytorch_applies_the_export_gate_to_each_variant(
    variants_model: Path, held_out: list[Example]
) -> None:
    parity = model_speed.parity_against_pytorch(variants_model, held_out)
    assert set(parity) == set(model_speed.VARIANTS)
    assert parity[model_speed.CURRENT_FP32]["parity_gate_passed"] is True
    assert parity[model_speed.FUSED_FP32]["parity_gate_passed"] is True
    assert "fp32_max_abs_diff" in parity[model_speed.FUSED_FP32]["parity_gate"]
    assert "int8_argmax_agreement" in parity[model_speed.STATIC_INT8]["parity_gate"]


def test_timing_runs_every_variant_on_the_same_inputs_against_the_current_int8(
    variants_model: Path, calibration: list[str]
) -> None:
    result = model_speed.measure_model(
        variants_model,
        calibration_texts=calibration,
        parity=lambda d: {},
        length=16,
        batches=[1, 2],
        threads=[1],
        rounds=1,
        requests=2,
    )
    assert set(result["timing"]) == {"batch 1, 1 thread", "batch 2, 1 thread"}
    for timed in result["timing"].values():
        assert timed["baseline"] == model_speed.CURRENT_INT8
        assert list(timed["targets"]) == list(model_speed.VARIANTS)
        assert timed["targets"][model_speed.CURRENT_INT8]["ratios_vs_baseline"]["p50_ms"] == 1.0
        assert all(t["errors"] == 0 and t["requests"] == 2 for t in timed["targets"].values())
    assert model_speed.table(result).count("\n") == 2 * len(model_speed.VARIANTS) - 1
