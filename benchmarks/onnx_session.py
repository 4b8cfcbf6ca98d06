"""An onnxruntime session opened the way the server opens it, for benchmarks that measure the model alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ml.model import ONNX_FILES


def open_session(model_dir: Path, precision: str, threads: int) -> tuple[Any, list[str]]:
    """A CPU session on `threads` intra-op threads (one inter-op thread) and the input names its graph declares."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model_dir / ONNX_FILES[precision]), options, providers=["CPUExecutionProvider"])
    return session, [i.name for i in session.get_inputs()]


def classifier(model_dir: Path, precision: str = "int8", threads: int = 2) -> Callable[[Sequence[str]], np.ndarray]:
    """texts -> probabilities in one model call: tokenised, run and softmaxed as the predictor does."""
    from ml.model import ModelInfo
    from ml.predict import encode, softmax
    from ml.tokenizer import load_tokenizer

    tokenizer, info = load_tokenizer(model_dir), ModelInfo.load(model_dir)
    session, names = open_session(model_dir, precision, threads)

    def classify(texts: Sequence[str]) -> np.ndarray:
        enc = encode(tokenizer, list(texts), info, return_tensors="np")
        return softmax(session.run(["logits"], {n: np.asarray(enc[n], dtype=np.int64) for n in names})[0])

    return classify


def classify_in_chunks(classify: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], max_batch: int) -> None:
    """Run texts through `classify` in length-sorted calls of at most max_batch, as the predictor runs a request."""
    from ml.predict import length_chunks

    for chunk in length_chunks(texts, max_batch):
        classify([texts[i] for i in chunk])
