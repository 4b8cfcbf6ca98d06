"""Predictors over a model directory: onnxruntime (what serving uses) and PyTorch eager (the benchmarks' baseline).

Both share everything but the forward pass: input checks, chunking into calls of at most `max_batch` texts of
similar length, the training-time
tokenisation (`ml.predict.encode`), softmax and the result shape
`{"intent", "confidence", "probabilities": {label: p, ...}}`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import ModelError
from ml.model import METADATA_FILE, MODEL_INFO_FILE, ONNX_FILES, TOKENIZER_FILE, ModelInfo
from ml.predict import encode, length_chunks, softmax

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 64


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota (docker --cpus)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def default_threads(workers: int = 1) -> int:
    """Intra-op threads per worker so that all workers together use the available CPUs, at least one each."""
    return max(1, available_cpus() // max(1, workers))


def read_model_version(model_dir: Path) -> str:
    """The version a model directory reports: metadata.json, else intent_model.json's extra, else the dir name."""
    model_dir = Path(model_dir)
    sources: list[dict[str, Any]] = []
    if (model_dir / METADATA_FILE).is_file():
        try:
            sources.append(json.loads((model_dir / METADATA_FILE).read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("ignoring unreadable %s: %s", model_dir / METADATA_FILE, exc)
    if (model_dir / MODEL_INFO_FILE).is_file():
        sources.append(ModelInfo.load(model_dir).extra)
    for data in sources:
        for key in ("model_version", "version"):
            if isinstance(data, dict) and data.get(key) not in (None, ""):
                return str(data[key])
    return model_dir.resolve().name


def onnx_path(model_dir: Path, precision: str) -> Path:
    """The ONNX graph of a precision (int8, fp32) in a model directory, or a ModelError naming what is there."""
    if precision not in ONNX_FILES:
        raise ModelError(f"unknown ONNX precision {precision!r}", hint=f"use one of {', '.join(ONNX_FILES)}")
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(
            f"model directory not found: {model_dir}", hint="pass a model directory or mount one at /opt/ml/model"
        )
    path = model_dir / ONNX_FILES[precision]
    if not path.is_file():
        present = [p for p, name in ONNX_FILES.items() if (model_dir / name).is_file()]
        hint = f"this directory has: {', '.join(present)}" if present else "export it first: `mlops export MODEL_DIR`"
        raise ModelError(f"{model_dir} has no {ONNX_FILES[precision]} (the {precision} ONNX graph)", hint=hint)
    for name in (TOKENIZER_FILE, MODEL_INFO_FILE):
        if not (model_dir / name).is_file():
            raise ModelError(f"{model_dir} is not an intent model directory: missing {name}")
    return path


class Predictor(ABC):
    """Texts in, one `{"intent", "confidence", "probabilities"}` dict per text out."""

    backend: str = ""

    def __init__(
        self, model_dir: Path | str, *, max_length: int | None = None, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.model_dir = Path(model_dir)
        info = ModelInfo.load(self.model_dir)
        # A shorter max_length caps latency on long inputs; the tokenisation is otherwise exactly training's.
        self.info = dataclasses.replace(info, max_length=max_length) if max_length else info
        self.labels: list[str] = list(self.info.labels)
        self.max_batch = max_batch
        self.model_version = read_model_version(self.model_dir)

    @abstractmethod
    def _logits(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), num_labels) logits for at most max_batch texts."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), num_labels) class probabilities, computed in chunks of max_batch."""
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts, not a single string")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        out = np.empty((len(texts), len(self.labels)), dtype=np.float32)
        for chunk in length_chunks(texts, self.max_batch):
            out[chunk] = softmax(self._logits([texts[i] for i in chunk]))
        return out

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Per text: the intent, its probability as confidence, and the probability of every label."""
        results = []
        for row in self.predict_proba(texts):
            best = int(row.argmax())
            results.append(
                {
                    "intent": self.labels[best],
                    "confidence": float(row[best]),
                    "probabilities": {label: float(p) for label, p in zip(self.labels, row, strict=True)},
                }
            )
        return results

    def warmup(self) -> None:
        """Run one prediction so the first real request does not pay for lazy initialisation."""
        self.predict(["warm up the model"])


class OnnxPredictor(Predictor):
    """onnxruntime on CPU with the fast tokenizer: no torch, no transformers."""

    backend = "onnxruntime"

    def __init__(
        self,
        model_dir: Path | str,
        *,
        precision: str = "int8",
        intra_op_threads: int | None = None,
        max_length: int | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        allow_spinning: bool = True,
    ) -> None:
        import onnxruntime as ort

        from inference.tokenization import load_fast_tokenizer

        path = onnx_path(Path(model_dir), precision)
        super().__init__(model_dir, max_length=max_length, max_batch=max_batch)
        self.precision = precision
        self.intra_op_threads = intra_op_threads or default_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        # One graph, run node by node: inter-op parallelism only adds threads competing for the same cores.
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not allow_spinning:
            # Idle intra-op threads spin for a while by default; with several workers per core that burns the
            # CPU the other workers need.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = load_fast_tokenizer(self.model_dir)
        # DeBERTa-v3 graphs take input_ids and attention_mask (no token_type_ids): feed what the graph declares.
        self.input_names = [i.name for i in self.session.get_inputs()]
        unknown = set(self.input_names) - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise ModelError(f"{path} expects inputs this predictor cannot build: {', '.join(sorted(unknown))}")
        log.info(
            "loaded %s (%s, %d intra-op threads, version %s)",
            path,
            precision,
            self.intra_op_threads,
            self.model_version,
        )

    def _logits(self, texts: Sequence[str]) -> np.ndarray:
        batch = encode(self.tokenizer, texts, self.info, return_tensors="np")
        feed = {}
        for name in self.input_names:
            value = batch.get(name)
            feed[name] = np.zeros_like(batch["input_ids"]) if value is None else np.asarray(value, dtype=np.int64)
        (logits,) = self.session.run(["logits"], feed)
        return np.asarray(logits, dtype=np.float32)


class TorchPredictor(Predictor):
    """PyTorch eager with the transformers tokenizer: the reference the ONNX predictor is measured against."""

    backend = "torch"
    precision = "torch"

    def __init__(
        self,
        model_dir: Path | str,
        *,
        intra_op_threads: int | None = None,
        max_length: int | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        import torch

        from ml.model import load_model

        super().__init__(model_dir, max_length=max_length, max_batch=max_batch)
        self.intra_op_threads = intra_op_threads or default_threads()
        # torch's thread pool is per process, not per model: the last predictor created sets it.
        torch.set_num_threads(self.intra_op_threads)
        self.model, self.tokenizer, _ = load_model(self.model_dir)

    def _logits(self, texts: Sequence[str]) -> np.ndarray:
        from ml.predict import predict_logits

        return predict_logits(self.model, self.tokenizer, self.info, texts, batch_size=self.max_batch)
