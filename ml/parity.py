"""The parity check an ONNX export must pass: PyTorch and the exported graphs on the same held-out batches.

fp32 logits within 1e-4 of PyTorch; int8 predictions agreeing with PyTorch on at least 99 % of inputs and accuracy
within one point of fp32. For int8, picking the other class of a tie in PyTorch's own logits does not count against
it; the raw figures are reported alongside.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml.data import Example
from ml.errors import ModelError
from ml.model import ModelInfo

# Batch sizes the held-out examples are cycled through: batching and padding are part of what is checked.
BATCH_SIZES = (1, 4, 16)
REPORT_VERSION = 1


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
    """Every example once, in batches cycling through `batch_sizes`; then long inputs, alone and among short ones."""
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


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
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
    """Raw int8 figures and the gated ones, where picking either class of a reference tie counts as agreeing."""
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
    opset: int,
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
    files = {
        Path(p).name: {"sha256": sha256_file(Path(p)), "bytes": Path(p).stat().st_size}
        for p in (fp32_path, int8_path)
        if p
    }
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
