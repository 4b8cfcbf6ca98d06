"""What the drift checks compare, computed from texts with the served model's own files: token counts and
unknown tokens (its tokenizer), predictions (its ONNX graph, as served), sentence embeddings (its encoder).

Embeddings are the mean of the encoder's last hidden states over the real (unpadded) tokens. The exported ONNX
graph has only `logits` as output, so they come from the PyTorch weights every model directory ships
(`model.safetensors`); a directory without them falls back to the ONNX logits, a 10-dimensional view that sees only
what moves the classifier (`Featurizer.representation` says which one a report used; docs/operations.md#drift).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.predictor import OnnxPredictor, Predictor, TorchPredictor
from inference.tokenization import load_fast_tokenizer
from ml.errors import ModelError
from ml.model import MODEL_INFO_FILE, ONNX_FILES, ModelInfo
from ml.predict import encode
from ml.tokenizer import normalize_text

log = logging.getLogger(__name__)

EMBEDDING = "mean-pooled hidden states"
LOGITS = "onnx logits"
_BATCH = 64


@dataclass
class TextFeatures:
    """Per-text features of a sample: token counts, whether any token is unknown, the embedding."""

    lengths: np.ndarray  # tokens per text, special tokens excluded, before truncation
    unknown: np.ndarray  # bool: the text has at least one unknown token
    embeddings: np.ndarray  # (n, d) float32, or (k, d) for a subsample of k texts (`Featurizer.features`)


class Featurizer:
    """Computes `TextFeatures` and predictions for texts with one model directory."""

    def __init__(self, model_dir: Path | str, *, precision: str | None = None) -> None:
        self.model_dir = Path(model_dir)
        if not (self.model_dir / MODEL_INFO_FILE).is_file():
            raise ModelError(
                f"{self.model_dir} is not an intent model directory (no {MODEL_INFO_FILE})",
                hint="pass a directory written by `mlops train` (and `mlops export`), or a registry reference",
            )
        self.info = ModelInfo.load(self.model_dir)
        self.tokenizer = load_fast_tokenizer(self.model_dir)
        self.unknown_id = self._unknown_id()
        self._predictor: Predictor | None = None
        self.precision = precision or next(
            (p for p, name in ONNX_FILES.items() if (self.model_dir / name).is_file()), "torch"
        )
        self.representation = EMBEDDING if (self.model_dir / "model.safetensors").is_file() else LOGITS
        self._torch: tuple[Any, Any] | None = None

    def _unknown_id(self) -> int | None:
        raw = self.tokenizer._tokenizer
        for token in ("[UNK]", "<unk>"):
            found = raw.token_to_id(token)
            if found is not None:
                return int(found)
        return None

    @property
    def predictor(self) -> Predictor:
        """The predictor the model is served with (ONNX at the given or first available precision, else torch)."""
        if self._predictor is None:
            self._predictor = (
                TorchPredictor(self.model_dir)
                if self.precision == "torch"
                else OnnxPredictor(self.model_dir, precision=self.precision)
            )
        return self._predictor

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """The model's predictions, as the server answers them."""
        return self.predictor.predict(list(texts))

    def features(self, texts: Sequence[str], *, embed_limit: int | None = None, seed: int = 0) -> TextFeatures:
        """Token counts and unknown-token flags of texts, and embeddings of all of them or, with embed_limit, of a
        seeded random subsample of that many (the MMD test uses at most `drift.MMD_MAX_TEXTS` per side)."""
        texts = list(texts)
        embedded = texts
        if embed_limit is not None and len(texts) > embed_limit:
            chosen = np.sort(np.random.default_rng(seed).choice(len(texts), size=embed_limit, replace=False))
            embedded = [texts[i] for i in chosen]
        raw = self.tokenizer._tokenizer
        normalized = [normalize_text(t, lowercase=self.info.lowercase) for t in texts]
        lengths = np.zeros(len(texts), dtype=np.int64)
        unknown = np.zeros(len(texts), dtype=bool)
        for i, encoding in enumerate(raw.encode_batch(normalized, add_special_tokens=False)):
            ids = [t for t, m in zip(encoding.ids, encoding.attention_mask, strict=True) if m]
            lengths[i] = len(ids)
            unknown[i] = self.unknown_id is not None and self.unknown_id in ids
        return TextFeatures(lengths=lengths, unknown=unknown, embeddings=self.embed(embedded))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) sentence representations: mean-pooled hidden states, or ONNX logits without PyTorch weights."""
        texts = list(texts)
        if self.representation == LOGITS:
            return np.log(np.clip(self.predictor.predict_proba(texts), 1e-12, None)).astype(np.float32)
        import torch

        model, tokenizer = self._torch_model()
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), _BATCH):
                batch = encode(tokenizer, texts[start : start + _BATCH], self.info)
                hidden = model.deberta(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                chunks.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().numpy())
        if not chunks:
            return np.zeros((0, 1), dtype=np.float32)
        return np.concatenate(chunks).astype(np.float32)

    def _torch_model(self) -> tuple[Any, Any]:
        if self._torch is None:
            from ml.model import load_model

            model, tokenizer, _ = load_model(self.model_dir)
            model.eval()
            self._torch = (model, tokenizer)
        return self._torch
