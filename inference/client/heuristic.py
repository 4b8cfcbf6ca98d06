"""Last-resort intent guess from keywords, for when neither the endpoint nor a local model can answer.

Each intent has weighted regular expressions; a text scores the sum of the weights that match, and the
scores become probabilities through a softmax that keeps confidence modest (it is a guess). With no match
at all the answer is `conversation` with near-uniform probabilities.

The work per text is bounded: only its first MAX_CHARS characters are read (a prompt says what it wants near its
start), and a rule `A.*B` is matched as A, then B after it, one forward search each, since the regex itself
backtracks over the rest of the text from every A (quadratic in the text's length).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from ml.taxonomy import INTENTS

VERSION = "heuristic-v1"
FALLBACK_INTENT = "conversation"
# Lower temperature, sharper probabilities; 1.5 keeps a two-keyword win around 0.3-0.5 confidence.
TEMPERATURE = 1.5
MAX_CHARS = 2000

_RULES: dict[str, list[tuple[str, float]]] = {
    "code_generation": [
        (
            r"\b(python|javascript|typescript|java|rust|golang|c\+\+|c#|bash|sql|html|css|react|regex|kotlin|swift)\b",
            2.0,
        ),
        (r"\b(function|script|class|method|api|endpoint|query|implement|code|program|snippet|component)\b", 1.5),
        (r"\b(write|create|generate|build)\b.*\b(function|script|class|program|query|component)\b", 1.5),
    ],
    "translation": [
        (r"\b(translate|translation|translating)\b", 3.0),
        (
            r"\b(spanish|french|german|italian|japanese|chinese|mandarin|korean|portuguese|russian|arabic|hindi|dutch"
            r"|english)\b",
            1.5,
        ),
        (r"\bhow (do|would) (you|i) say\b|\bin (another|a different) language\b|\bput this into\b", 2.0),
    ],
    "summarization": [
        (
            r"\b(summari[sz]e|summary|summarising|summarizing|tl;?dr|gist|condense|recap|sum up|boil (this|it) down)\b",
            3.0,
        ),
        (r"\b(key points|main points|bullet points|in a few sentences|in short|briefly)\b", 1.5),
        (r"\b(article|paper|report|meeting notes|transcript|chapter|email|thread|abstract)\b", 0.5),
    ],
    "creative_writing": [
        (
            r"\b(poem|poetry|story|stories|haiku|lyrics|song|limerick|novel|fiction|screenplay|sonnet|tagline|slogan|toast)\b",
            2.5,
        ),
        (r"\b(write|compose|draft|come up with)\b", 0.8),
        (r"\b(creative|imaginative|funny|spooky|whimsical|rhyming)\b", 1.0),
    ],
    "data_analysis": [
        (
            r"\b(data|dataset|spreadsheet|csv|statistic\w*|correlation|regression|trend|chart|graph|metric\w*|survey)\b",
            2.0,
        ),
        (
            r"\b(analy[sz]e|analysis|average|mean|median|variance|distribution|significan\w*"
            r"|conversion rate|a/b test)\b",
            1.5,
        ),
        (r"\b(sales|revenue|numbers|figures|pattern)\b", 0.8),
    ],
    "reasoning": [
        (r"\b(if|suppose|assume)\b.*\b(then|how many|how long|which|who)\b", 1.2),
        (r"\b(logic|logical|puzzle|riddle|deduce|infer|valid|argument|prove|paradox|syllogism)\b", 2.0),
        (r"\b(older|younger|taller|shorter) than\b|\bhow much (is|does) the\b|\bwhat comes next\b", 1.5),
    ],
    "task_planning": [
        (r"\b(plan|planning|schedule|itinerary|roadmap|checklist|timeline|milestones?|agenda|to-?do)\b", 2.5),
        (r"\b(organi[sz]e|prioriti[sz]e|steps to|trip|week|month|launch|prepare for)\b", 1.0),
    ],
    "problem_solving": [
        (
            r"\b(fix|broken|won'?t|doesn'?t|isn'?t working|not working|error|issue|problem|troubleshoot|stuck|keeps)\b",
            2.0,
        ),
        (r"\b(what can i do|how (do|can) i (fix|solve|sort|stop|get rid)|any ideas|help me (fix|solve))\b", 1.5),
    ],
    "question_answering": [
        (r"^(who|what|when|where|why|which|how many|how much|how does|how do|is|are|does|did)\b", 1.2),
        (r"\b(explain|difference between|meaning of|define|definition|fact|history of|capital of)\b", 1.5),
        (r"\?\s*$", 0.5),
    ],
    "conversation": [
        (r"^(hi|hey|hello|yo|good (morning|evening|afternoon)|thanks|thank you)\b", 2.5),
        (r"\b(how are you|how's your day|how is your day|chat|talk|lonely|bored|favou?rite)\b", 2.0),
        (r"\b(lol|haha|:\)|nice to meet)\b", 1.5),
    ],
}


def _compile(pattern: str) -> tuple[re.Pattern[str], ...]:
    """A rule's parts: "A.*B" becomes (A, B), matched in order."""
    return tuple(re.compile(part, re.IGNORECASE) for part in pattern.split(".*"))


def _matches(parts: tuple[re.Pattern[str], ...], text: str) -> bool:
    """True when the parts match in order, each after the previous one's match."""
    position = 0
    for part in parts:
        found = part.search(text, position)
        if found is None:
            return False
        position = found.end()
    return True


_COMPILED = {intent: [(_compile(p), w) for p, w in rules] for intent, rules in _RULES.items()}
if set(_COMPILED) != set(INTENTS):
    raise RuntimeError(f"every intent needs rules: {sorted(set(INTENTS) ^ set(_COMPILED))}")


def scores(text: str) -> dict[str, float]:
    """Sum of matched rule weights per intent, over the text's first MAX_CHARS characters."""
    head = text[:MAX_CHARS]
    return {intent: sum(w for parts, w in rules if _matches(parts, head)) for intent, rules in _COMPILED.items()}


def classify(text: str) -> dict[str, Any]:
    """`{"intent", "confidence", "probabilities"}` for one text, like a model's answer."""
    raw = scores(text.strip())
    if not any(raw.values()):
        raw[FALLBACK_INTENT] = 0.5
    top = max(raw.values())
    exp = {intent: math.exp((raw[intent] - top) / TEMPERATURE) for intent in INTENTS}
    total = sum(exp.values())
    probabilities = {intent: exp[intent] / total for intent in INTENTS}
    # Ties go to taxonomy order; max over INTENTS keeps that deterministic.
    intent = max(INTENTS, key=lambda i: probabilities[i])
    return {"intent": intent, "confidence": probabilities[intent], "probabilities": probabilities}


def classify_many(texts: Sequence[str]) -> list[dict[str, Any]]:
    """classify() for each text."""
    return [classify(t) for t in texts]
