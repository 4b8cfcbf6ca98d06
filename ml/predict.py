"""Batched PyTorch inference on normalised texts: the reference every other backend is checked against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ml.model import ModelInfo
from ml.tokenizer import normalize_text


def encode(tokenizer: Any, texts: Sequence[str], info: ModelInfo, *, return_tensors: str = "pt") -> Any:
    """Tokenise texts exactly as training did: normalise, truncate to info.max_length, pad to the batch."""
    return tokenizer(
        [normalize_text(t, lowercase=info.lowercase) for t in texts],
        padding=True,
        truncation=True,
        max_length=info.max_length,
        return_tensors=return_tensors,
        return_token_type_ids=False,
    )


def predict_logits(
    model: Any, tokenizer: Any, info: ModelInfo, texts: Sequence[str], *, batch_size: int = 64
) -> np.ndarray:
    """Return a (len(texts), num_labels) float32 array of logits."""
    import torch

    model.eval()
    device = next(model.parameters()).device
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = {k: v.to(device) for k, v in encode(tokenizer, texts[start : start + batch_size], info).items()}
            chunks.append(model(**batch).logits.float().cpu().numpy())
    if not chunks:
        return np.zeros((0, len(info.labels)), dtype=np.float32)
    return np.concatenate(chunks, axis=0)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


# A chunk's texts are padded to its longest one; up to this much padding (relative, plus a fixed allowance for
# short texts) a larger batch is still cheaper than another model call.
PADDING_TOLERANCE = 1.3
PADDING_ALLOWANCE_CHARS = 24


def length_chunks(texts: Sequence[str], max_batch: int) -> list[list[int]]:
    """Indices of texts grouped into model calls of similar length (at most max_batch each).

    The cost of a call grows with batch size times padded length, so batching a short text with a long one
    makes the short one as expensive as the long one. Sorting by length first keeps the padding small; a
    chunk's texts are at most PADDING_TOLERANCE times (plus an allowance) longer than its shortest one.
    Character count stands in for token count: it orders texts nearly the same way and costs nothing.
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    chunks: list[list[int]] = []
    shortest = 0
    for i in order:
        size = len(texts[i])
        if chunks and len(chunks[-1]) < max_batch and size <= shortest * PADDING_TOLERANCE + PADDING_ALLOWANCE_CHARS:
            chunks[-1].append(i)
        else:
            chunks.append([i])
            shortest = size
    return chunks
