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


# DeBERTa-v3's special tokens, in the order its own vocabulary holds them; [UNK] is id 1 as DebertaV2Tokenizer expects.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[SEP]", "[CLS]", "[MASK]")


def train_tokenizer(texts: Iterable[str], *, vocab_size: int) -> PreTrainedTokenizerBase:
    """Train a DeBERTa-v3 (unigram, metaspace) tokenizer on already-normalised texts, the same bytes every run.

    SentencePiece trains the unigram model, as it trained DeBERTa-v3's own spm.model, on one thread: its result is a
    function of the texts alone. (The tokenizers library's unigram trainer sums in hash-map order, so its scores and
    the ids of tied pieces change from run to run: tests/ml/test_reproducible.py.)
    """
    import io

    import sentencepiece as spm
    from transformers import DebertaV2Tokenizer

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(texts)),
        model_writer=model,
        model_type="unigram",
        vocab_size=max(vocab_size - len(SPECIAL_TOKENS), 2),
        hard_vocab_limit=False,  # a small corpus yields fewer pieces than asked for rather than an error
        character_coverage=1.0,  # every character seen gets a piece: nothing in the training data maps to [UNK]
        normalization_rule_name="identity",  # texts arrive normalised (normalize_text); the tokenizer adds no rules
        remove_extra_whitespaces=False,
        num_threads=1,
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        minloglevel=2,
    )
    pieces = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = [(token, 0.0) for token in SPECIAL_TOKENS] + [
        (pieces.id_to_piece(i), pieces.get_score(i)) for i in range(1, pieces.get_piece_size())
    ]
    tokenizer = DebertaV2Tokenizer(vocab=vocab, unk_id=SPECIAL_TOKENS.index("[UNK]"))
    log.info("trained tokenizer with %d tokens (asked for %d)", len(tokenizer), vocab_size)
    return tokenizer


def load_tokenizer(model_dir: Path | str) -> PreTrainedTokenizerBase:
    """Load the fast tokenizer saved with a model (tokenizer.json) or a hub name."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))
