"""Realistic noise (ml.datagen.noise): seeded, and typos only in words of four or more letters."""

from __future__ import annotations

import random

from ml.datagen.noise import add_noise, casual, typo


def _variants(word: str) -> set[str]:
    """Every single edit typo() may make: drop, swap with the next or double one non-first letter."""
    inner = range(1, len(word) - 1)
    dropped = {word[:i] + word[i + 1 :] for i in inner}
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in inner}
    doubled = {word[:i] + word[i] + word[i:] for i in inner}
    return dropped | swapped | doubled


def test_typo_is_deterministic_for_a_seed() -> None:
    assert [typo("keyboard", random.Random(s)) for s in range(50)] == [
        typo("keyboard", random.Random(s)) for s in range(50)
    ]


def test_typo_makes_one_small_edit_and_keeps_the_first_letter() -> None:
    word = "keyboard"  # all letters distinct, so every edit changes the word
    results = [typo(word, random.Random(seed)) for seed in range(300)]
    assert all(r != word and r[0] == "k" and r in _variants(word) for r in results)
    assert {len(r) - len(word) for r in results} == {-1, 0, 1}  # drops, swaps and doubles all happen


def test_add_noise_is_deterministic_for_a_seed_and_varies_across_seeds() -> None:
    text = "Hey, can you please explain how compound interest works? I'm really confused."
    first = [add_noise(text, random.Random(seed)) for seed in range(100)]
    assert first == [add_noise(text, random.Random(seed)) for seed in range(100)]
    assert len(set(first)) > 20


def test_words_shorter_than_four_letters_never_change() -> None:
    # Lowercase, no punctuation to drop, no text-speak candidates: only a typo could change it.
    text = "the cat sat on a mat"
    assert {add_noise(text, random.Random(seed)) for seed in range(300)} == {text}


def test_only_the_long_word_gets_typos() -> None:
    text = "the cat sat on a mat yesterday"
    outputs = [add_noise(text, random.Random(seed)) for seed in range(300)]
    for output in outputs:
        *short, last = output.split(" ")
        assert short == text.split(" ")[:-1]
        assert (
            last == "yesterday"
            or last in _variants("yesterday")
            or any(
                last in _variants(v)
                for v in _variants("yesterday")  # "typo" can be drawn twice
            )
        )
    assert any(not o.endswith("yesterday") for o in outputs)


def test_text_speak_lowercasing_and_dropped_punctuation_all_occur() -> None:
    text = "Can you please check this before Friday? Thanks, it's really urgent."
    outputs = [add_noise(text, random.Random(seed)) for seed in range(300)]
    assert any(" u " in o and "pls" in o for o in outputs)
    assert any(o == text.lower() for o in outputs)
    assert any("?" not in o and "'" not in o and not o.endswith(".") for o in outputs)


def test_noise_leaves_single_spaces_and_no_outer_whitespace() -> None:
    text = "  Could you explain   what you're going to do\twith the message tomorrow ? "
    for seed in range(300):
        output = add_noise(text, random.Random(seed))
        assert "  " not in output and output == output.strip() and output


def test_casual_lowercases_everything_but_inline_code_and_drops_the_final_full_stop() -> None:
    text = "Why does `SELECT * FROM Users` fail in MySQL? It worked on Monday."
    outputs = {casual(text, random.Random(seed)) for seed in range(50)}
    assert outputs == {"why does `SELECT * FROM Users` fail in mysql? it worked on monday"}


def test_casual_drops_a_final_question_mark_about_half_the_time_and_keeps_the_spelling() -> None:
    text = "Hey, what's the capital of Peru?"
    outputs = [casual(text, random.Random(seed)) for seed in range(200)]
    assert set(outputs) == {"hey, what's the capital of peru?", "hey, what's the capital of peru"}
    assert 60 < sum(o.endswith("?") for o in outputs) < 140
