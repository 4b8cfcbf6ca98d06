"""The model's fast tokenizer without transformers: `tokenizers.Tokenizer` behind the call `ml.predict.encode` makes.

The serving image does not install transformers (or torch): `tokenizer.json` holds the whole pipeline
(normaliser, pre-tokeniser, unigram model, [CLS]/[SEP] template), so the Rust tokenizer alone reproduces
what `AutoTokenizer.from_pretrained(model_dir)` does. Padding and truncation are the only parts transformers
adds at call time; `FastTokenizer.__call__` applies them the same way (pad to the longest in the batch with
the pad token, truncate longest-first to `max_length`, right side unless tokenizer_config.json says otherwise).
tests/inference/test_tokenization.py checks the two produce identical arrays.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import ModelError
from ml.model import TOKENIZER_CONFIG_FILE, TOKENIZER_FILE


class FastTokenizer:
    """A `tokenizers.Tokenizer` callable like a transformers fast tokenizer for the arguments `encode` passes."""

    def __init__(
        self, tokenizer: Any, *, pad_token: str, padding_side: str = "right", truncation_side: str = "right"
    ) -> None:
        pad_id = tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ModelError(f"pad token {pad_token!r} is not in the tokenizer's vocabulary")
        self._tokenizer = tokenizer
        self.pad_token = pad_token
        self.pad_token_id = int(pad_id)
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self._configured_length: int | None = None
        # Truncation is a setting on the shared Rust object; a predictor uses one max_length, so this lock only
        # serialises the rare reconfiguration rather than every encode.
        self._lock = threading.Lock()
        self._tokenizer.enable_padding(direction=padding_side, pad_id=self.pad_token_id, pad_token=pad_token)
        self._tokenizer.no_truncation()

    def _configure(self, max_length: int) -> None:
        with self._lock:
            if self._configured_length != max_length:
                self._tokenizer.enable_truncation(max_length, strategy="longest_first", direction=self.truncation_side)
                self._configured_length = max_length

    def __call__(
        self,
        texts: Sequence[str],
        *,
        padding: bool = True,
        truncation: bool = True,
        max_length: int | None = None,
        return_tensors: str = "np",
        return_token_type_ids: bool = False,
    ) -> dict[str, np.ndarray]:
        """Encode a batch: input_ids and attention_mask as int64 arrays, padded to the longest sequence."""
        if return_tensors != "np" or not padding or not truncation or max_length is None:
            raise ValueError(
                "FastTokenizer supports only padding=True, truncation=True, max_length=N, return_tensors='np'"
            )
        self._configure(max_length)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        out = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64).reshape(len(encodings), -1),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64).reshape(
                len(encodings), -1
            ),
        }
        if return_token_type_ids:
            out["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64).reshape(
                len(encodings), -1
            )
        return out


def load_fast_tokenizer(model_dir: Path | str) -> FastTokenizer:
    """Load tokenizer.json (and the pad token / sides from tokenizer_config.json) from a model directory."""
    from tokenizers import Tokenizer

    model_dir = Path(model_dir)
    path = model_dir / TOKENIZER_FILE
    if not path.is_file():
        raise ModelError(
            f"{model_dir} has no {TOKENIZER_FILE}", hint=f"every model directory ships its {TOKENIZER_FILE}"
        )
    config: dict[str, Any] = {}
    if (model_dir / TOKENIZER_CONFIG_FILE).is_file():
        config = json.loads((model_dir / TOKENIZER_CONFIG_FILE).read_text())
    tokenizer = Tokenizer.from_file(str(path))
    saved_padding = tokenizer.padding or {}
    pad_token = _token_text(config.get("pad_token")) or saved_padding.get("pad_token") or "[PAD]"
    return FastTokenizer(
        tokenizer,
        pad_token=pad_token,
        padding_side=config.get("padding_side", "right"),
        truncation_side=config.get("truncation_side", "right"),
    )


def _token_text(token: Any) -> str | None:
    # tokenizer_config.json stores special tokens as plain strings or as AddedToken dicts ({"content": ...}).
    if isinstance(token, dict):
        return token.get("content")
    return token
