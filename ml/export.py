"""Export a saved intent model to ONNX (fp32, and dynamically quantised int8) next to its PyTorch weights."""

from __future__ import annotations

import logging
from pathlib import Path

from ml.model import check_model_dir

log = logging.getLogger(__name__)

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask")


def export_fp32(model_dir: Path, out_path: Path | None = None, *, opset: int = OPSET) -> Path:
    """Export the model's logits graph with dynamic batch and sequence axes; return the .onnx path."""
    import torch

    from ml.model import load_model
    from ml.predict import encode

    model_dir = check_model_dir(model_dir)
    out_path = Path(out_path or model_dir / FP32_FILE)
    model, tokenizer, info = load_model(model_dir)
    model.config.return_dict = False
    sample = encode(tokenizer, ["an example prompt to trace the graph", "short"], info)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    with torch.inference_mode():
        # The TorchScript exporter constant-folds DeBERTa's relative-position projections; outputs match
        # PyTorch to ~1e-6 (measured in docs/benchmarks.md).
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"]),
            str(out_path),
            input_names=list(INPUT_NAMES),
            output_names=["logits"],
            dynamic_axes={**dynamic, "logits": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
            do_constant_folding=True,
        )
    log.info("exported %s", out_path)
    return out_path


def quantize_int8(fp32_path: Path, out_path: Path | None = None) -> Path:
    """Dynamically quantise the fp32 graph's weights to int8 (QInt8); return the .onnx path."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_path = Path(out_path or Path(fp32_path).with_name(INT8_FILE))
    quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8)
    log.info("quantised %s", out_path)
    return out_path
