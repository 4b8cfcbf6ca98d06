"""Export a saved intent model to ONNX (fp32, and dynamically quantised int8), accepted only when it passes the parity
check of `ml.parity` on held-out inputs.

Files are written to a staging directory and moved into place only then, so a refused export leaves the model
directory as it was. `ml.package` builds the SageMaker `model.tar.gz` from an accepted export.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ml.data import Example
from ml.errors import ModelError
from ml.model import (
    EXPORT_REPORT_FILE,
    ONNX_FILES,
    check_model_dir,
)
from ml.parity import ParityError, ParityThresholds, check_parity, format_parity, sha256_file

log = logging.getLogger(__name__)

FP32_FILE = ONNX_FILES["fp32"]
INT8_FILE = ONNX_FILES["int8"]
REPORT_FILE = EXPORT_REPORT_FILE
EXPORT_FILES = (FP32_FILE, INT8_FILE, REPORT_FILE)
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask")


# ---------------------------------------------------------------------------------------------- export


ATTENTION_SLICED = "relative positions sliced to the input's span"
ATTENTION_AS_IS = "as in transformers"


def export_fp32(
    model_dir: Path, out_path: Path | None = None, *, opset: int = OPSET, slice_positions: bool = True
) -> Path:
    """Export the model's logits graph with dynamic batch and sequence axes; return the .onnx path.

    slice_positions: trace DeBERTa's attention with the span rewrite of ml.export_attention (same logits, less
    work on short inputs); False traces transformers' code as is.
    """
    return _trace_fp32(model_dir, out_path, opset=opset, slice_positions=slice_positions)[0]


def _trace_fp32(model_dir: Path, out_path: Path | None, *, opset: int, slice_positions: bool) -> tuple[Path, str]:
    """export_fp32's work; also returns how the attention was traced (ATTENTION_SLICED or ATTENTION_AS_IS)."""
    import torch

    from ml.export_attention import span_sliced_attention
    from ml.model import load_model
    from ml.predict import encode

    model_dir = check_model_dir(model_dir)
    out_path = Path(out_path or model_dir / FP32_FILE)
    model, tokenizer, info = load_model(model_dir)
    model.config.return_dict = False
    sample = encode(tokenizer, ["an example prompt to trace the graph", "short"], info)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    rewrite = span_sliced_attention(model) if slice_positions else contextlib.nullcontext(False)
    with torch.inference_mode(), warnings.catch_warnings(), rewrite as sliced:
        # DeBERTa's scale factors become trace constants; they do not depend on the input, so the warnings are noise.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="To copy construct from a tensor", category=UserWarning)
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
    return out_path, ATTENTION_SLICED if sliced else ATTENTION_AS_IS


class _QuantizationChatter(logging.Filter):
    """Drops onnxruntime.quantization's per-tensor INFO lines (and its generic pre-processing advice)."""

    def filter(self, record: logging.LogRecord) -> bool:
        path = record.pathname.replace("\\", "/")
        if "onnxruntime/quantization" not in path:
            return True
        # Pre-processing (symbolic shape inference) is advice for vision models; our graph quantises as is.
        return record.levelno >= logging.WARNING and "pre-processing before quantization" not in record.getMessage()


@contextlib.contextmanager
def quiet_quantization() -> Iterator[None]:
    """Silence onnxruntime.quantization's per-tensor INFO lines for the duration of the block."""
    # onnxruntime.quantization logs through the root logger (logging.info), so a named logger's level cannot
    # silence it; a filter on the root logger sees only records logged on the root itself, i.e. these.
    root, named = logging.getLogger(), logging.getLogger("onnxruntime.quantization")
    chatter, previous = _QuantizationChatter(), named.level
    root.addFilter(chatter)
    named.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeFilter(chatter)
        named.setLevel(previous)


def quantize_int8(fp32_path: Path, out_path: Path | None = None) -> Path:
    """Dynamically quantise the fp32 graph's weights to int8 (QInt8); return the .onnx path."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_path = Path(out_path or Path(fp32_path).with_name(INT8_FILE))
    with quiet_quantization():
        quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8)
    log.info("quantised %s", out_path)
    return out_path


# ---------------------------------------------------------------------------------------------- accept


def _staging_dir(out_dir: Path) -> Path:
    """A scratch directory next to out_dir (same filesystem: moving into place is a rename), else in /tmp."""
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="onnx-export-"))


def export_model(
    model_dir: Path,
    examples: Sequence[Example],
    *,
    quantize: bool = True,
    out_dir: Path | None = None,
    thresholds: ParityThresholds | None = None,
    opset: int = OPSET,
) -> dict[str, Any]:
    """Export fp32 (+ int8), check parity on `examples`; only if it passes, write the graphs and report to out_dir."""
    model_dir = check_model_dir(model_dir)
    out_dir = Path(out_dir) if out_dir is not None else model_dir
    if not examples:
        raise ModelError("the parity check needs held-out labelled examples", hint="pass the test split")
    staging = _staging_dir(out_dir)
    try:
        fp32, attention = _trace_fp32(model_dir, staging / FP32_FILE, opset=opset, slice_positions=True)
        int8 = quantize_int8(fp32, staging / INT8_FILE) if quantize else None
        report = check_parity(model_dir, fp32, int8, examples, thresholds=thresholds or ParityThresholds(), opset=opset)
        report["attention"] = attention
        summary = format_parity(report)
        if not report["passed"]:
            raise ParityError(
                f"ONNX export of {model_dir} refused: {summary} "
                f"({report['inputs']['checked']} inputs checked); nothing was written",
                report=report,
                hint="fp32 failing means the graph is wrong (exporter, opset); int8 failing alone: export with "
                "--no-int8 / quantize=False, or check the model on more held-out data",
            )
        (staging / REPORT_FILE).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        out_dir.mkdir(parents=True, exist_ok=True)
        # The report goes last: its presence marks an accepted export. A stale int8 graph from an earlier export
        # would contradict the new report, so it goes too.
        if not quantize:
            (out_dir / INT8_FILE).unlink(missing_ok=True)
        for name in (FP32_FILE, INT8_FILE, REPORT_FILE):
            if (staging / name).exists():
                shutil.move(str(staging / name), str(out_dir / name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("ONNX export accepted into %s: %s", out_dir, summary)
    return report


def read_export_report(onnx_dir: Path) -> dict[str, Any]:
    """Load the export report of an accepted export, checking that its files are the ones it checked."""
    onnx_dir = Path(onnx_dir)
    path = onnx_dir / REPORT_FILE
    if not path.is_file():
        raise ModelError(
            f"{onnx_dir} holds no accepted ONNX export (no {REPORT_FILE})", hint="run `mlops export MODEL_DIR` first"
        )
    try:
        report = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc.msg}") from exc
    if not report.get("passed"):
        raise ModelError(f"the ONNX export in {onnx_dir} did not pass its parity check: {format_parity(report)}")
    for name, expected in report.get("files", {}).items():
        file = onnx_dir / name
        if not file.is_file() or file.stat().st_size != expected["bytes"] or sha256_file(file) != expected["sha256"]:
            raise ModelError(
                f"{file} is missing or differs from the graph its parity check accepted",
                hint="export again: `mlops export MODEL_DIR --overwrite`",
            )
    return report
