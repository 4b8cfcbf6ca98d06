"""Train, save and load the DeBERTa-v3 tokenizer, and the text normalisation every consumer must share."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str, *, lowercase: bool) -> str:
    """Normalise a prompt the way the model saw it in training (collapse whitespace, optionally lowercase)."""
    text = _WHITESPACE.sub(" ", text).strip()
    # transformers 5 drops a Lowercase normalizer on save/reload, so lowercasing lives here, recorded in the model.
    return text.lower() if lowercase else text


def train_tokenizer(texts: Iterable[str], *, vocab_size: int) -> PreTrainedTokenizerBase:
    """Train a DeBERTa-v3 (unigram, metaspace) tokenizer on already-normalised texts."""
    from transformers import DebertaV2Tokenizer

    # DebertaV2Tokenizer(vocab_file=...) silently ignores the file in transformers 5; training from the
    # empty template is the path that yields a working tokenizer.json.
    tokenizer = DebertaV2Tokenizer().train_new_from_iterator(list(texts), vocab_size=vocab_size)
    log.info("trained tokenizer with %d tokens (asked for %d)", len(tokenizer), vocab_size)
    return tokenizer


def load_tokenizer(model_dir: Path | str) -> PreTrainedTokenizerBase:
    """Load the fast tokenizer saved with a model (tokenizer.json) or a hub name."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))
