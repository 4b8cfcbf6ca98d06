"""The datagen template language (ml.datagen.engine): alternatives, slots, the a(n) rule and tidying."""

from __future__ import annotations

import random

import pytest

from ml.datagen.engine import (
    Frame,
    TemplateError,
    check_template,
    collapse_whitespace,
    frames,
    lower_first,
    needs_an,
    render,
    tidy,
)

FRUIT = ("apple", "banana", "cherry")


def _renders(template: str, pools: dict, seeds: int = 200, **kwargs: object) -> list[str]:
    return [render(template, pools, random.Random(seed), **kwargs) for seed in range(seeds)]


# --------------------------------------------------------------------------------------- alternatives


def test_alternatives_pick_each_option_and_leave_no_brackets() -> None:
    assert set(_renders("[red|green|blue] car", {})) == {"red car", "green car", "blue car"}


def test_an_empty_alternative_drops_the_words_and_tidy_cleans_up() -> None:
    outputs = set(_renders("Explain it[ briefly|] .", {}))
    assert outputs == {"Explain it briefly .", "Explain it ."}
    assert {tidy(text) for text in outputs} == {"Explain it briefly.", "Explain it."}


def test_a_single_option_is_just_text() -> None:
    assert render("say [hello] twice", {}, random.Random(0)) == "say hello twice"


def test_alternatives_are_resolved_before_slots_so_only_the_chosen_slot_draws() -> None:
    pools = {"x": ("X",), "y": ("Y",)}
    assert set(_renders("[{x}|{y}]", pools)) == {"X", "Y"}


def test_draw_order_is_alternatives_left_to_right_then_slots_left_to_right() -> None:
    # The generated dataset's bytes depend on this order.
    pools = {"fruit": FRUIT, "n": lambda rng: str(rng.randint(1, 1000))}
    for seed in range(20):
        rng = random.Random(seed)
        first, second = rng.choice(["a", "b", "c"]), rng.choice(["x", "y"])
        fruit, n = rng.choice(FRUIT), str(rng.randint(1, 1000))
        expected = f"{first} {fruit} {second} {n}"
        assert render("[a|b|c] {fruit} [x|y] {n}", pools, random.Random(seed)) == expected


# ---------------------------------------------------------------------------------------------- slots


def test_a_slot_draws_from_its_pool() -> None:
    assert set(_renders("I like {fruit}.", {"fruit": FRUIT})) == {f"I like {f}." for f in FRUIT}


def test_a_callable_pool_is_called_with_the_rng() -> None:
    expected = str(random.Random(7).randint(1, 10**9))
    assert render("{n}", {"n": lambda rng: str(rng.randint(1, 10**9))}, random.Random(7)) == expected


def test_a_repeated_slot_repeats_the_same_value() -> None:
    for text in _renders("{fruit} and {fruit}", {"fruit": FRUIT}):
        left, right = text.split(" and ")
        assert left == right


def test_caret_capitalises_only_the_first_letter_of_the_value() -> None:
    assert render("{^thing}!", {"thing": ("mobile app for iPhone",)}, random.Random(0)) == "Mobile app for iPhone!"


def test_caret_and_plain_forms_of_a_slot_are_the_same_draw() -> None:
    for text in _renders("{^fruit} / {fruit}", {"fruit": FRUIT}):
        left, right = text.split(" / ")
        assert left == right.capitalize() and right in FRUIT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a mortgage", "mortgage"),
        ("an API", "API"),
        ("the Cold War", "Cold War"),
        ("The Renaissance", "Renaissance"),  # case-insensitive
        ("another day", "another day"),  # "an" must be a whole word
        ("theory of mind", "theory of mind"),
        ("climate change", "climate change"),
        ("the end of the road", "end of the road"),  # only the leading article
    ],
)
def test_minus_drops_a_leading_article(value: str, expected: str) -> None:
    assert render("{-thing} meaning", {"thing": (value,)}, random.Random(0)) == f"{expected} meaning"


def test_intent_pools_come_before_shared_pools() -> None:
    shared = {"topic": ("shared topic",), "domain": ("shared domain",)}
    text = render("{topic} in {domain}", {"topic": ("own topic",)}, random.Random(0), shared)
    assert text == "own topic in shared domain"


def test_numbered_slots_draw_distinct_values() -> None:
    for text in _renders("{fruit}, {fruit2}, {fruit3}", {"fruit": FRUIT}):
        assert sorted(text.split(", ")) == sorted(FRUIT)


def test_numbered_slots_avoid_repeats_from_callable_pools_too() -> None:
    for text in _renders("{coin} {coin2}", {"coin": lambda rng: rng.choice(("heads", "tails"))}):
        assert text in ("heads tails", "tails heads")


def test_a_numbered_slot_repeated_is_the_same_value_and_differs_from_the_plain_one() -> None:
    for text in _renders("{fruit} {fruit2} {fruit2}", {"fruit": FRUIT}):
        first, second, third = text.split()
        assert second == third != first


def test_a_pool_too_small_for_distinct_draws_repeats_rather_than_hangs() -> None:
    assert render("{only} {only2}", {"only": ("one",)}, random.Random(0)) == "one one"


# --------------------------------------------------------------------------------- template errors


def test_an_unknown_slot_names_the_slot_and_the_template() -> None:
    template = "Tell me about {^topci}."
    with pytest.raises(TemplateError) as caught:
        render(template, {"topic": FRUIT}, random.Random(0), {"domain": FRUIT})
    assert "{^topci}" in str(caught.value) and repr(template) in str(caught.value)
    assert isinstance(caught.value, ValueError)  # the CLI reports ValueErrors as one line, exit 2


def test_check_template_finds_an_unknown_slot_in_any_alternative() -> None:
    template = "[{fruit}|{vegetable}]"
    check_template("[{fruit}|{fruit2}]", {"fruit": FRUIT})
    with pytest.raises(TemplateError, match=r"\{vegetable\}"):
        check_template(template, {"fruit": FRUIT})


@pytest.mark.parametrize("template", ["About {Topic}.", "{fruit12}", "{fruit", "[a|[b|c]] x", "a ] b", "{ fruit }"])
def test_check_template_rejects_what_render_would_leave_as_literal_text(template: str) -> None:
    # render() cannot parse these slots or brackets and would pass them through into the data.
    with pytest.raises(TemplateError, match="stray"):
        check_template(template, {"fruit": FRUIT, "topic": FRUIT})


def test_check_template_accepts_every_slot_form_and_uses_shared_pools() -> None:
    check_template(
        "[A|An] {fruit}, {^fruit2}, {-thing} and {topic}.", {"fruit": FRUIT, "thing": ("a x",)}, {"topic": FRUIT}
    )


def test_frames_builds_tiered_frames() -> None:
    assert frames((0, "Hi {x}."), (2, "Long.")) == (Frame(0, "Hi {x}."), Frame(2, "Long."))


# ----------------------------------------------------------------------------------- the a(n) rule


@pytest.mark.parametrize(
    ("word", "an"),
    [
        ("apple", True),
        ("banana", False),
        ("umbrella", True),
        ("Excel", True),
        # vowel letter, consonant sound
        ("unicorn", False),
        ("user", False),
        ("usual", False),
        ("utility", False),
        ("one-time", False),
        ("eulogy", False),
        ("European", False),
        ("url", False),
        # consonant letter, vowel sound
        ("hour", True),
        ("hourly", True),
        ("Honest", True),
        ("heir", True),
        ("house", False),
        # initialisms are read letter by letter
        ("SQL", True),
        ("HTTP", True),
        ("FAQ", True),
        ("MBA", True),
        ("NBA", True),
        ("X", True),
        ("API", True),
        ("URL", False),
        ("GPU", False),
        ("CSV", False),
        ("B2B", False),
        # numbers are read aloud
        ("8-day", True),
        ("11-hour", True),
        ("18", True),
        ("80", False),
        ("800", False),
        ("1", False),
        ("7", False),
        # leading quotes and brackets are skipped
        ('"easy"', True),
        ("(optional)", True),
        ("'big'", False),
    ],
)
def test_needs_an(word: str, an: bool) -> None:
    assert needs_an(word) is an


def test_tidy_resolves_every_a_n_and_keeps_the_capital() -> None:
    text = tidy('A(n) owl, a(n) cat, a(n) "easy" one and a(n) SQL query at a(n) 8-hour shift')
    assert text == 'An owl, a cat, an "easy" one and an SQL query at an 8-hour shift'


def test_a_n_needs_a_following_word() -> None:
    assert tidy("Banana(n) bread") == "Banana(n) bread"  # not the article: "a(n)" must start a word


# ------------------------------------------------------------------------------------------- tidying


@pytest.mark.parametrize(
    ("raw", "tidied"),
    [
        ("  hello   world  ", "Hello world"),
        ("line one\n\tline two", "Line one line two"),
        ("Hello , world !", "Hello, world!"),
        ("what is it ?", "What is it?"),
        ("one ; two : three .", "One; two: three."),
        ("hi,, there", "Hi, there"),
        ("wow!, ok", "Wow! ok"),
        ("yes,! sure", "Yes! sure"),
        ("why,?", "Why?"),
        ("hello World", "Hello World"),  # only the first letter changes
    ],
)
def test_tidy(raw: str, tidied: str) -> None:
    assert tidy(raw) == tidied


def test_collapse_whitespace() -> None:
    assert collapse_whitespace("\t a \n\n b  ") == "a b"


@pytest.mark.parametrize(
    ("text", "proper", "expected"),
    [
        ("Please help me.", frozenset(), "please help me."),
        ("I need a plan.", frozenset(), "I need a plan."),
        ("I'm stuck.", frozenset(), "I'm stuck."),
        ("SQL question: joins", frozenset(), "SQL question: joins"),  # initialism
        ("Lena asked me.", frozenset({"Lena"}), "Lena asked me."),
        ("Lena asked me.", frozenset(), "lena asked me."),
        ("Python, please.", frozenset({"Python"}), "Python, please."),
        ("Ok", frozenset(), "ok"),
    ],
)
def test_lower_first(text: str, proper: frozenset[str], expected: str) -> None:
    assert lower_first(text, proper) == expected
