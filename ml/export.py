"""Export a saved intent model to ONNX (fp32, and dynamically quantised int8), check it against PyTorch, package it.

An export is accepted only when its parity check passes on held-out inputs: fp32 logits within 1e-4 of
PyTorch, int8 predictions agreeing with PyTorch on at least 99% of inputs and accuracy within one point of
fp32 (for int8, picking the other class of a tie in PyTorch's own logits does not count against it; the raw
figures are reported alongside). Files are written to a staging directory and moved into place only then, so
a refused export leaves the model directory as it was. `package_model` builds the SageMaker `model.tar.gz`
from an accepted export.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.data import Example
from ml.errors import ModelError
from ml.model import MODEL_INFO_FILE, ModelInfo, check_model_dir

log = logging.getLogger(__name__)

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
REPORT_FILE = "export_report.json"
METADATA_FILE = "metadata.json"
PACKAGE_FILE = "model.tar.gz"
EXPORT_FILES = (FP32_FILE, INT8_FILE, REPORT_FILE)
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask")
BATCH_SIZES = (1, 4, 16)
REPORT_VERSION = 1
# Files of the model directory a server needs besides the ONNX graphs (tokenizer_config.json is optional).
PACKAGE_MODEL_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", MODEL_INFO_FILE)
# A fixed timestamp for every archive entry (1980-01-01, the usual reproducible-build epoch): same inputs, same bytes.
PACKAGE_MTIME = 315532800


@dataclass(frozen=True)
class ParityThresholds:
    """What an export must meet to be accepted."""

    fp32_max_abs_diff: float = 1e-4
    int8_min_argmax_agreement: float = 0.99
    int8_max_accuracy_drop: float = 0.01  # fp32 accuracy minus int8 accuracy, as a fraction (0.01 = one point)
    # Reference logits closer than this are a tie: int8 picking the other class of a tie is not a disagreement.
    # Why: an undertrained model is near-uniform (top-2 margins of 1e-3), so int8 noise (~1e-3..1e-2) flips its
    # argmax at random; a trained model's margins are whole logits, so the margin never hides a real flip.
    int8_tie_margin: float = 0.02


class ParityError(ModelError):
    """An exported graph does not reproduce PyTorch closely enough; `report` holds the measured figures."""

    def __init__(self, message: str, *, report: dict[str, Any], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


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
def _quiet_quantization() -> Iterator[None]:
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
    with _quiet_quantization():
        quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8)
    log.info("quantised %s", out_path)
    return out_path


# ---------------------------------------------------------------------------------------------- parity


@dataclass(frozen=True)
class _Batch:
    texts: list[str]
    labels: list[int | None]  # None: not a labelled example (synthetic long input or a repeat)


def _token_count(tokenizer: Any, text: str, info: ModelInfo) -> int:
    from ml.tokenizer import normalize_text

    return len(tokenizer(normalize_text(text, lowercase=info.lowercase), truncation=False)["input_ids"])


def _long_texts(texts: Sequence[str], tokenizer: Any, info: ModelInfo) -> list[str]:
    """Prompts joined until they reach half, all and twice max_length tokens: the long end, truncation included."""
    out: list[str] = []
    for n, target in enumerate((info.max_length // 2, info.max_length, 2 * info.max_length)):
        parts: list[str] = []
        # Start each at a different prompt so the long inputs differ in content, not only in length.
        for i in range(len(texts)):
            parts.append(texts[(n * 7 + i) % len(texts)])
            if _token_count(tokenizer, " ".join(parts), info) >= target:
                break
        out.append(" ".join(parts))
    return out


def _parity_batches(
    examples: Sequence[Example], tokenizer: Any, info: ModelInfo, batch_sizes: Sequence[int] = BATCH_SIZES
) -> list[_Batch]:
    """Every example once, in batches cycling through `batch_sizes`; then long inputs, alone and mixed with short ones."""
    label_ids = {label: i for i, label in enumerate(info.labels)}
    unknown = sorted({e.intent for e in examples} - set(label_ids))
    if unknown:
        raise ModelError(f"parity examples have intents the model does not know: {', '.join(unknown)}")
    batches: list[_Batch] = []
    start, turn = 0, 0
    while start < len(examples):
        chunk = examples[start : start + batch_sizes[turn % len(batch_sizes)]]
        batches.append(_Batch([e.text for e in chunk], [label_ids[e.intent] for e in chunk]))
        start, turn = start + len(chunk), turn + 1
    texts = [e.text for e in examples]
    longs = _long_texts(texts, tokenizer, info)
    batches.append(_Batch([longs[-1]], [None]))  # batch 1 at the full max_length
    # Long and short rows in one batch: padding and the attention mask do real work.
    mixed = [t for pair in zip(longs, texts[: len(longs)], strict=False) for t in pair]
    batches.append(_Batch(mixed, [None] * len(mixed)))
    return batches


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: ORT warns about unused initialisers in exported graphs
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


_ORT_INT_TYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


def ort_feed(session: Any, encoded: Any) -> dict[str, np.ndarray]:
    """Build an onnxruntime feed from the session's declared inputs (DeBERTa-v3 declares no token_type_ids)."""
    feed: dict[str, np.ndarray] = {}
    for spec in session.get_inputs():
        if spec.name not in encoded:
            raise ModelError(f"the ONNX graph expects an input {spec.name!r} the tokenizer does not produce")
        value = encoded[spec.name]
        array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        feed[spec.name] = array.astype(_ORT_INT_TYPES.get(spec.type, array.dtype), copy=False)
    return feed


def _accuracy(predicted: np.ndarray, labels: list[int | None]) -> float:
    """Accuracy of predicted class ids over the labelled rows."""
    rows = [i for i, label in enumerate(labels) if label is not None]
    truth = np.array([labels[i] for i in rows])
    return float((predicted[rows] == truth).mean())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("onnxruntime", "onnx", "torch", "transformers"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def _check(value: float, threshold: float, *, at_most: bool) -> dict[str, Any]:
    # A hair of slack so that a value equal to its threshold (e.g. an accuracy drop of exactly 0.01) passes.
    passed = value <= threshold + 1e-12 if at_most else value >= threshold - 1e-12
    return {"value": value, "threshold": threshold, "op": "<=" if at_most else ">=", "passed": bool(passed)}


def _int8_figures(
    reference: np.ndarray, int8: np.ndarray, labels: list[int | None], measured: dict[str, float], tie_margin: float
) -> dict[str, float]:
    """Raw int8 figures plus the ones the gate uses, where picking either class of a reference tie counts as agreeing."""
    rows = np.arange(len(reference))
    ref_top, int8_top = reference.argmax(axis=-1), int8.argmax(axis=-1)
    # How far below the reference's best class the class int8 picked scores in the reference itself.
    shortfall = reference[rows, ref_top] - reference[rows, int8_top]
    flips = ref_top != int8_top
    decisive = flips & (shortfall > tie_margin)
    effective = np.where(decisive, int8_top, ref_top)
    return {
        "int8_accuracy_drop": measured["fp32_accuracy"] - measured["int8_accuracy"],
        "int8_flips": float(flips.sum()),
        "int8_tie_flips": float((flips & ~decisive).sum()),
        "int8_argmax_agreement_excluding_ties": float(1.0 - decisive.mean()),
        "int8_accuracy_drop_excluding_ties": measured["fp32_accuracy"] - _accuracy(effective, labels),
    }


def check_parity(
    model_dir: Path,
    fp32_path: Path,
    int8_path: Path | None,
    examples: Sequence[Example],
    *,
    thresholds: ParityThresholds | None = None,
    opset: int = OPSET,
) -> dict[str, Any]:
    """Run PyTorch and the ONNX graphs on the same batches of held-out inputs; return the export report."""
    import torch

    from ml.model import load_model
    from ml.predict import encode

    thresholds = thresholds or ParityThresholds()
    examples = list(examples)
    if not examples:
        raise ModelError("the parity check needs held-out labelled examples", hint="pass the test split")
    model, tokenizer, info = load_model(model_dir)
    batches = _parity_batches(examples, tokenizer, info)
    sessions = {"fp32": _session(fp32_path)}
    if int8_path is not None:
        sessions["int8"] = _session(int8_path)
    outputs: dict[str, list[np.ndarray]] = {"pytorch": [], **{k: [] for k in sessions}}
    lengths: list[int] = []
    with torch.inference_mode():
        for batch in batches:
            encoded = encode(tokenizer, batch.texts, info)
            lengths.append(int(encoded["input_ids"].shape[1]))
            outputs["pytorch"].append(model(**encoded).logits.float().numpy())
            for kind, session in sessions.items():
                outputs[kind].append(session.run(None, ort_feed(session, encoded))[0])
    logits = {kind: np.concatenate(chunks, axis=0) for kind, chunks in outputs.items()}
    labels = [label for batch in batches for label in batch.labels]
    reference = logits["pytorch"].argmax(axis=-1)

    measured: dict[str, float] = {"pytorch_accuracy": _accuracy(reference, labels)}
    for kind in sessions:
        measured[f"{kind}_max_abs_diff"] = float(np.abs(logits[kind] - logits["pytorch"]).max())
        measured[f"{kind}_argmax_agreement"] = float((logits[kind].argmax(axis=-1) == reference).mean())
        measured[f"{kind}_accuracy"] = _accuracy(logits[kind].argmax(axis=-1), labels)
    checks = {"fp32_max_abs_diff": _check(measured["fp32_max_abs_diff"], thresholds.fp32_max_abs_diff, at_most=True)}
    if "int8" in sessions:
        measured.update(_int8_figures(logits["pytorch"], logits["int8"], labels, measured, thresholds.int8_tie_margin))
        checks["int8_argmax_agreement_excluding_ties"] = _check(
            measured["int8_argmax_agreement_excluding_ties"], thresholds.int8_min_argmax_agreement, at_most=False
        )
        checks["int8_accuracy_drop_excluding_ties"] = _check(
            measured["int8_accuracy_drop_excluding_ties"], thresholds.int8_max_accuracy_drop, at_most=True
        )
    files = {Path(p).name: {"sha256": _sha256(Path(p)), "bytes": Path(p).stat().st_size} for p in (fp32_path, int8_path) if p}
    return {
        "report_version": REPORT_VERSION,
        "passed": all(c["passed"] for c in checks.values()),
        "checks": checks,
        "measured": measured,
        "thresholds": asdict(thresholds),
        "reference": "pytorch",
        "inputs": {
            "checked": len(labels),
            "labelled": sum(label is not None for label in labels),
            "batches": len(batches),
            "batch_sizes": sorted({len(b.texts) for b in batches}),
            "min_tokens": min(lengths),
            "max_tokens": max(lengths),
            "max_length": info.max_length,
        },
        "opset": opset,
        "quantized": "int8" in sessions,
        "files": files,
        "versions": _versions(),
    }


def format_parity(report: dict[str, Any]) -> str:
    """One line per check: value, comparison, threshold and verdict."""
    lines = []
    for name, check in report["checks"].items():
        ok = check["passed"]
        op = check["op"] if ok else {"<=": ">", ">=": "<"}[check["op"]]
        lines.append(f"{name} = {check['value']:.6g} {op} {check['threshold']:.6g} ({'ok' if ok else 'FAILED'})")
    return "; ".join(lines)


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
    """Export fp32 (+ int8), check parity on `examples`, and only if it passes write the graphs and report to out_dir."""
    model_dir = check_model_dir(model_dir)
    out_dir = Path(out_dir) if out_dir is not None else model_dir
    if not examples:
        raise ModelError("the parity check needs held-out labelled examples", hint="pass the test split")
    staging = _staging_dir(out_dir)
    try:
        fp32, attention = _trace_fp32(model_dir, staging / FP32_FILE, opset=opset, slice_positions=True)
        int8 = quantize_int8(fp32, staging / INT8_FILE) if quantize else None
        report = check_parity(model_dir, fp32, int8, examples, thresholds=thresholds, opset=opset)
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
        raise ModelError(f"{onnx_dir} holds no accepted ONNX export (no {REPORT_FILE})", hint="run `mlops export MODEL_DIR` first")
    try:
        report = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc.msg}") from exc
    if not report.get("passed"):
        raise ModelError(f"the ONNX export in {onnx_dir} did not pass its parity check: {format_parity(report)}")
    for name, expected in report.get("files", {}).items():
        file = onnx_dir / name
        if not file.is_file() or file.stat().st_size != expected["bytes"] or _sha256(file) != expected["sha256"]:
            raise ModelError(
                f"{file} is missing or differs from the graph its parity check accepted",
                hint="export again: `mlops export MODEL_DIR --overwrite`",
            )
    return report


# ---------------------------------------------------------------------------------------------- package


def _created_by() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"intent-mlops {version('intent-mlops')}"
    except PackageNotFoundError:
        return "intent-mlops"


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, PACKAGE_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def package_model(model_dir: Path, out_path: Path, *, metadata: dict[str, Any], onnx_dir: Path | None = None) -> Path:
    """Write a deterministic SageMaker model.tar.gz: ONNX graphs, tokenizer, label map, config, report, metadata.json at its root."""
    model_dir = check_model_dir(model_dir)
    onnx_dir = Path(onnx_dir) if onnx_dir is not None else model_dir
    report = read_export_report(onnx_dir)
    entries = {name: model_dir / name for name in PACKAGE_MODEL_FILES if (model_dir / name).is_file()}
    entries.update({name: onnx_dir / name for name in (*report["files"], REPORT_FILE)})
    meta = {"created_by": _created_by(), **metadata, "files": {name: _sha256(path) for name, path in sorted(entries.items())}}
    meta_bytes = (json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n").encode()

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        # No file name and mtime 0 in the gzip header, fixed owner and mtime per entry, sorted entries:
        # the same inputs give the same bytes (and so the same S3 ETag / checksum).
        with tmp.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
                for name in sorted([*entries, METADATA_FILE]):
                    if name == METADATA_FILE:
                        tar.addfile(_tar_info(name, len(meta_bytes)), io.BytesIO(meta_bytes))
                        continue
                    with entries[name].open("rb") as handle:
                        tar.addfile(_tar_info(name, entries[name].stat().st_size), handle)
        tmp.replace(out_path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("packaged %s (%d files, %d bytes)", out_path, len(entries) + 1, out_path.stat().st_size)
    return out_path
