"""Realistic noise: the typos, lower-casing, dropped punctuation, text-speak and casual register of real users."""

from __future__ import annotations

import random
import re

from ml.datagen.engine import TRAILING_PUNCT, collapse_whitespace

_TXT_SPEAK: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b{word}\b", re.IGNORECASE), short)
    for word, short in (
        ("you're", "ur"),
        ("you", "u"),
        ("your", "ur"),
        ("please", "pls"),
        ("thanks", "thx"),
        ("are", "r"),
        ("because", "cuz"),
        ("okay", "ok"),
        ("tomorrow", "tmrw"),
        ("people", "ppl"),
        ("really", "rly"),
        ("going to", "gonna"),
        ("want to", "wanna"),
        ("don't know", "dunno"),
        ("message", "msg"),
        ("something", "smth"),
        ("before", "b4"),
        ("with", "w/"),
    )
)
# Only words of four or more letters get typos: shorter ones would become unreadable.
_WORD_RE = re.compile(r"[A-Za-z]{4,}")
# Inline code in backticks: the casual register leaves its case alone (people lower-case their words, not
# their pasted code).
_CODE_SPAN_RE = re.compile(r"(`[^`]*`)")


def typo(word: str, rng: random.Random) -> str:
    """Misspell ``word`` (3+ letters) by deleting, swapping or doubling a letter; the first letter stays."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i] + word[i:]


def add_noise(text: str, rng: random.Random) -> str:
    """Apply one or two of: lower-casing, dropping punctuation, a typo (maybe two), text-speak."""
    ops = rng.sample(("lower", "nopunct", "typo", "typo", "txt"), rng.randint(1, 2))
    for op in ops:
        if op == "lower":
            text = text.lower()
        elif op == "nopunct":
            text = text.rstrip(TRAILING_PUNCT).replace("?", "").replace("'", "")
        elif op == "typo":
            # "typo" can be sampled twice, giving up to two misspelt words.
            words = list(_WORD_RE.finditer(text))
            if words:
                start, end = rng.choice(words).span()
                text = text[:start] + typo(text[start:end], rng) + text[end:]
        else:
            for pattern, short in _TXT_SPEAK:
                if rng.random() < 0.7:
                    text = pattern.sub(short, text)
    return collapse_whitespace(text)


def casual(text: str, rng: random.Random) -> str:
    """Write ``text`` the way people type in a chat box: all lower-case (except `code`), often no end punctuation.

    A final "." always goes; a final "?" or "!" goes half the time. Unlike :func:`add_noise` it keeps the
    spelling, the apostrophes and every "?" inside the text.
    """
    parts = _CODE_SPAN_RE.split(text)
    text = "".join(part if i % 2 else part.lower() for i, part in enumerate(parts))
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    elif text.endswith(("?", "!")) and rng.random() < 0.5:
        text = text.rstrip("?!")
    return text.rstrip()
