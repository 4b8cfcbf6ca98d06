"""The generator: draws labelled prompts per intent, labels their complexity, deduplicates and writes them.

The complexity label follows the prompt's construction: each frame has a base tier (simple = one
short ask, moderate = an ask with context or a constraint, complex = several sentences or parts)
and every appended constraint sentence raises it by one.

Output bytes depend only on the seed, ``per_intent`` and the ``ml.datagen`` package: there is no
global random state, no ``hash()`` of strings and no set iteration in anything that reaches the output.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ml.datagen.engine import TRAILING_PUNCT, IntentSpec, check_template, collapse_whitespace, lower_first, render, tidy
from ml.datagen.intents import SPECS
from ml.datagen.noise import add_noise, casual
from ml.datagen.slots import PREFIXES, PROPER_FIRST_WORDS, SHARED_POOLS, SUFFIXES
from ml.taxonomy import COMPLEXITIES, INTENTS

logger = logging.getLogger(__name__)

# Share of examples that get a greeting-like prefix / a sign-off suffix / realistic noise.
PREFIX_RATE = 0.12
SUFFIX_RATE = 0.12
NOISE_RATE = 0.16
# Share of examples written in the casual chat register (noise.casual: all lower-case, final "." dropped,
# a final "?"/"!" dropped half the time). tidy() capitalises every prompt, so without this step only the
# "lower" noise op (about 4% of prompts) produced lower-case text, while people typing to an assistant write
# all lower-case far more often. The rule: about a quarter casual; with the "lower" noise op on top, roughly
# 3 prompts in 10 are all lower-case and the rest keep their capitals.
CASUAL_RATE = 0.25
MIN_WORDS = 2
MAX_WORDS = 85
# Give up on an intent after this many attempts in a row that produced nothing new: by then the
# reachable space of distinct prompts for that intent is (practically) exhausted.
MAX_CONSECUTIVE_MISSES = 4000

# Raw labels and their spelled-out multi-word forms ("data analysis") would hand the model its answer;
# single-word names such as "translation" are ordinary words in real prompts and stay allowed.
_GIVEAWAYS: tuple[str, ...] = tuple(form for name in INTENTS if "_" in name for form in (name, name.replace("_", " ")))


def dedup_key(text: str) -> str:
    """Return the deduplication key of a prompt: lowercase, whitespace collapsed, no trailing punctuation."""
    return collapse_whitespace(text.lower()).rstrip(TRAILING_PUNCT).strip()


def _is_acceptable(text: str) -> bool:
    words = len(text.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        return False
    lowered = text.lower()
    return not any(name in lowered for name in _GIVEAWAYS)


def _make_example(intent: str, spec: IntentSpec, rng: random.Random) -> tuple[dict[str, str], str]:
    """Return the example and its core text (the prompt before prefix, suffix and noise)."""
    frame = rng.choice(spec.frames)
    text = render(frame.template, spec.pools, rng, SHARED_POOLS)
    tier = frame.tier
    if spec.constraints and tier < 2:
        roll = rng.random()
        count = 2 if roll < 0.06 else 1 if roll < (0.32 if tier == 0 else 0.2) else 0
        if count:
            text = text.rstrip()
            if text[-1:].isalnum():
                text += "."
            text += " " + " ".join(rng.sample(spec.constraints, count))
            tier += count
    text = core = tidy(text)
    if rng.random() < PREFIX_RATE:
        prefix = rng.choice(PREFIXES + spec.prefixes)
        lowers = prefix.rstrip()[-1:] not in ".!?:"
        text = prefix + (lower_first(text, PROPER_FIRST_WORDS) if lowers else text)
    if rng.random() < SUFFIX_RATE:
        suffix = rng.choice(spec.suffixes if intent == "conversation" else SUFFIXES + spec.suffixes)
        text = text.rstrip() + suffix
    if rng.random() < CASUAL_RATE:
        text = casual(text, rng)
    if rng.random() < NOISE_RATE:
        text = add_noise(text, rng)
    example = {"text": text, "intent": intent, "complexity": COMPLEXITIES[min(tier, len(COMPLEXITIES) - 1)]}
    return example, core


def generate(seed: int = 13, per_intent: int = 400) -> list[dict[str, str]]:
    """Generate ``per_intent`` unique labelled prompts per intent, deterministically for ``seed``."""
    if per_intent < 1:
        raise ValueError(f"per_intent must be at least 1, got {per_intent}")
    missing = [intent for intent in INTENTS if intent not in SPECS]
    if missing:
        raise ValueError(f"no generator spec for intents: {', '.join(missing)}")
    for intent in INTENTS:  # every template, every alternative: a typo fails here, not on some seeds only
        for frame in SPECS[intent].frames:
            check_template(frame.template, SPECS[intent].pools, SHARED_POOLS)
    started = time.perf_counter()
    rng = random.Random(seed)
    seen: set[str] = set()  # membership only; output order never depends on it
    examples: list[dict[str, str]] = []
    for intent in INTENTS:
        spec = SPECS[intent]
        produced = 0
        misses = 0
        while produced < per_intent:
            example, core = _make_example(intent, spec, rng)
            key, core_key = dedup_key(example["text"]), dedup_key(core)
            # Deduplicating on the core too keeps typo/greeting variants of one prompt from filling
            # the quota (and from straddling a train/validation split as near-duplicates).
            if key in seen or core_key in seen or not _is_acceptable(example["text"]):
                misses += 1
                if misses >= MAX_CONSECUTIVE_MISSES:
                    raise ValueError(
                        f"intent {intent!r}: the generator's space is exhausted after {produced} unique "
                        f"prompts; cannot reach per_intent={per_intent} (lower it or add frames/pools)"
                    )
                continue
            misses = 0
            seen.add(key)
            seen.add(core_key)
            examples.append(example)
            produced += 1
    order = {intent: i for i, intent in enumerate(INTENTS)}
    examples.sort(key=lambda e: (order[e["intent"]], e["text"]))
    logger.info(
        "generated %d examples (%d per intent, seed %d) in %.2fs",
        len(examples),
        per_intent,
        seed,
        time.perf_counter() - started,
    )
    return examples


def write_jsonl(examples: Sequence[Mapping[str, str]], path: Path) -> None:
    """Write examples as UTF-8 JSON Lines with sorted keys, one object per newline-terminated line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False, sort_keys=True) + "\n")


def merge_feedback(examples: Sequence[Mapping[str, str]], rows: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """The generated examples followed by the added (feedback) rows, each row reduced to its dataset fields.

    Generated rows come first and are never touched, so an empty feedback file leaves the output byte-identical.
    A feedback row that duplicates a generated prompt (possible only after a generator change: `mlops data add`
    refuses them) is dropped with a warning: the generated row wins, and the dataset stays free of duplicates.
    Rows are checked again here because data/feedback.jsonl is a git-tracked file people can edit by hand.
    """
    seen = {dedup_key(e["text"]) for e in examples}
    merged = [dict(e) for e in examples]
    for number, row in enumerate(rows, start=1):
        text, intent, source = row.get("text"), row.get("intent"), row.get("source")
        if not isinstance(text, str) or not text.strip() or intent not in INTENTS or not isinstance(source, str):
            raise ValueError(f"feedback row {number} needs a text, an intent of the taxonomy and a source: {row!r}")
        complexity = row.get("complexity")
        if complexity is not None and complexity not in COMPLEXITIES:
            raise ValueError(f"feedback row {number}: complexity {complexity!r} is not one of {COMPLEXITIES}")
        key = dedup_key(text)
        if key in seen:
            logger.warning("feedback row %d duplicates a prompt already in the dataset; dropped: %r", number, text)
            continue
        seen.add(key)
        fields = {"text": text, "intent": intent, "source": source}
        merged.append({**fields, **({"complexity": complexity} if complexity is not None else {})})
    return merged
