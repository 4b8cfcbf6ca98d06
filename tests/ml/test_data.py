"""Dataset validation, the deterministic stratified split, and the generated dataset's properties."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ml.data import (
    SPLITS,
    Example,
    NearDuplicates,
    SplitConfig,
    check_disjoint,
    hashed_split,
    load_examples,
    normalize_key,
    split_examples,
    write_examples,
)
from ml.errors import DataError
from ml.taxonomy import COMPLEXITIES, INTENTS
from tests.conftest import ROOT


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _row(text: str, intent: str = "translation", **extra: str) -> str:
    return json.dumps({"text": text, "intent": intent, **extra})


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([_row("fine"), "{not json"], r"d\.jsonl:2: not valid JSON"),
        ([_row("fine"), _row("   ")], r"d\.jsonl:2: 'text' must be a non-empty string"),
        ([json.dumps({"intent": "translation"})], r"d\.jsonl:1: 'text' must be a non-empty string"),
        ([_row("fine"), _row("hello", "small_talk")], r"d\.jsonl:2: intent 'small_talk' is not in the taxonomy"),
        ([_row("fine", complexity="hard")], r"d\.jsonl:1: complexity 'hard' is not one of"),
        ([_row("Translate this."), _row("translate  this", "summarization")], r"d\.jsonl:2: duplicate of line 1"),
        (["[1, 2]"], r"d\.jsonl:1: expected a JSON object"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, lines: list[str], expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        load_examples(_write(tmp_path, lines))


def test_unknown_label_error_lists_the_taxonomy(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_examples(_write(tmp_path, [_row("x", "chitchat")]))
    assert all(intent in str(info.value) for intent in INTENTS)


def test_missing_and_empty_datasets(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"(?s)dataset not found.*mlops data pull"):
        load_examples(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DataError, match="dataset is empty"):
        load_examples(tmp_path / "empty.jsonl")
    with pytest.raises(DataError, match="is a directory"):
        load_examples(tmp_path)


def _examples(per_intent: int) -> list[Example]:
    return [Example(f"{intent} prompt number {i}", intent, "simple") for intent in INTENTS for i in range(per_intent)]


def test_split_is_stratified_deterministic_and_order_independent() -> None:
    examples = _examples(50)
    first = split_examples(examples, SplitConfig(seed=7))
    again = split_examples(list(reversed(examples)), SplitConfig(seed=7))
    assert first == again
    for name, size in (("train", 40), ("validation", 5), ("test", 5)):
        assert Counter(e.intent for e in first[name]) == dict.fromkeys(INTENTS, size)
    other = split_examples(examples, SplitConfig(seed=8))
    assert other["test"] != first["test"]


def test_split_rejects_bad_fractions_and_missing_intents() -> None:
    with pytest.raises(DataError, match="test_fraction"):
        SplitConfig(test_fraction=0.7)
    only_some = [e for e in _examples(10) if e.intent != "reasoning"]
    with pytest.raises(DataError, match="'reasoning' has no examples"):
        split_examples(only_some)


def test_overlap_between_splits_is_caught() -> None:
    a = Example("Same prompt", "translation")
    b = Example("same prompt!", "translation")
    with pytest.raises(DataError, match="in both 'train' and 'test'"):
        check_disjoint({"train": [a], "test": [b]})


def test_round_trip_through_jsonl(tmp_path: Path) -> None:
    examples = _examples(3)
    write_examples(examples, tmp_path / "x.jsonl")
    assert load_examples(tmp_path / "x.jsonl") == examples


def test_generated_dataset_meets_the_data_contract(dataset_rows: list[dict]) -> None:
    counts = Counter(r["intent"] for r in dataset_rows)
    assert len(dataset_rows) >= 3000
    assert set(counts) == set(INTENTS) and min(counts.values()) >= 200
    assert {r["complexity"] for r in dataset_rows} == set(COMPLEXITIES)
    keys = [normalize_key(r["text"]) for r in dataset_rows]
    assert len(keys) == len(set(keys)), "generator produced duplicates"
    lengths = sorted(len(r["text"].split()) for r in dataset_rows)
    assert lengths[0] <= 4 and lengths[-1] >= 30, "prompts should range from a few words to a few sentences"


def test_generation_is_deterministic() -> None:
    from ml.datagen import generate

    assert generate(seed=5, per_intent=30) == generate(seed=5, per_intent=30)
    assert generate(seed=5, per_intent=30) != generate(seed=6, per_intent=30)


def test_natural_prompts_are_valid_and_never_in_the_training_data(dataset_rows: list[dict]) -> None:
    natural = load_examples(Path(__file__).resolve().parents[2] / "data" / "natural_prompts.jsonl")
    # docs/labeling.md: at least 300 hand-written prompts, every intent well represented.
    per_intent = Counter(e.intent for e in natural)
    assert len(natural) >= 300 and set(per_intent) == set(INTENTS) and min(per_intent.values()) >= 30
    generated = {normalize_key(r["text"]) for r in dataset_rows}
    assert not [e.text for e in natural if normalize_key(e.text) in generated]


def _added(count: int, start: int = 0) -> list[Example]:
    """Rows as `mlops data add` appends them: a source, texts no generator writes."""
    return [
        Example(f"feedback prompt {i} for the review queue", INTENTS[i % len(INTENTS)], source="review")
        for i in range(start, start + count)
    ]


def test_added_rows_never_move_a_row_to_another_side(dataset_rows: list[dict]) -> None:
    """The leak the stratified split had: adding 10 rows to an intent reshuffled it (258 of 400 old test rows moved
    into training). Generated rows keep their split exactly, and every added row keeps its side in later versions."""
    generated = [Example(**row) for row in dataset_rows]
    base = split_examples(generated)
    first = split_examples(generated + _added(10))
    later = split_examples(list(reversed(generated + _added(10) + _added(300, start=10))))
    for name in base:
        # The generated rows' split is byte-identical: same rows, same order (pinned figures depend on it).
        assert [e for e in first[name] if e.source is None] == base[name]
        assert [e for e in later[name] if e.source is None] == base[name]
        # An added row stays on its side whatever is added after it.
        assert {e for e in first[name] if e.source} <= set(later[name])
    sides = Counter(hashed_split(e.text) for e in _added(310))
    assert set(sides) == set(SPLITS) and sides["train"] > sides["test"] > 0
    assert sum(len(rows) for rows in later.values()) == len(generated) + 310


def test_an_added_row_keeps_its_source_through_jsonl(tmp_path: Path) -> None:
    rows = [Example("translate good morning to Welsh", "translation", "simple"), *_added(1)]
    path = tmp_path / "data.jsonl"
    write_examples(rows, path)
    assert load_examples(path) == rows
    assert '"source"' not in path.read_text().splitlines()[0]  # generated rows: bytes as before
    with pytest.raises(DataError, match="'source' must be a non-empty string"):
        load_examples(_write(tmp_path, [_row("hello there", source="")]))


def test_near_duplicates_finds_a_reworded_prompt_and_nothing_below_the_threshold() -> None:
    index = NearDuplicates(["Hey, how's your day going?", "Summarise this article in three bullet points"])
    match = index.match("hey how's it going")
    assert match is not None and match[0] == "Hey, how's your day going?" and 0.5 <= match[1] < 1
    assert index.match("summarise this article in 3 bullet points please")[0].startswith("Summarise")  # type: ignore[index]
    assert index.match("translate good morning into french") is None
    assert index.match("") is None


def test_the_committed_training_rows_reword_no_held_out_prompt() -> None:
    """Rows added to the dataset (data/feedback.jsonl) must not be the held-out natural set's prompts reworded: the
    set measures prompts the model has never seen (docs/labeling.md)."""
    natural = NearDuplicates([e.text for e in load_examples(ROOT / "data" / "natural_prompts.jsonl")])
    feedback = ROOT / "data" / "feedback.jsonl"
    rows = load_examples(feedback) if feedback.read_text(encoding="utf-8").strip() else []
    rewordings = [(e.text, natural.match(e.text)) for e in rows if natural.match(e.text) is not None]
    assert not rewordings, rewordings[:5]
