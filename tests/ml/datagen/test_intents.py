"""Every intent table: registered in taxonomy order, every template valid, and it renders clean prompts."""

from __future__ import annotations

import importlib
import random
from collections.abc import Mapping

import pytest

from ml.datagen.engine import IntentSpec, Pool, check_template, render, tidy
from ml.datagen.intents import SPECS
from ml.datagen.slots import SHARED_POOLS
from ml.taxonomy import COMPLEXITIES, INTENTS

RENDERS_PER_FRAME = 25
_NO_BRACKETS = str.maketrans("{}[]", "()()")


def _without_brackets(pools: Mapping[str, Pool]) -> dict[str, Pool]:
    """The same pools (same draws) with brackets in values replaced, so that any left in a prompt is template syntax."""

    def clean(pool: Pool) -> Pool:
        if callable(pool):
            return lambda rng: pool(rng).translate(_NO_BRACKETS)
        return tuple(value.translate(_NO_BRACKETS) for value in pool)

    return {name: clean(pool) for name, pool in pools.items()}


def test_specs_cover_the_taxonomy_in_order() -> None:
    assert tuple(SPECS) == INTENTS


@pytest.mark.parametrize("intent", INTENTS)
def test_intent_table_renders_clean_prompts(intent: str) -> None:
    module = importlib.import_module(f"ml.datagen.intents.{intent}")
    spec = module.SPEC
    assert isinstance(spec, IntentSpec) and SPECS[intent] is spec
    assert len(spec.frames) >= 20
    pools, shared = _without_brackets(spec.pools), _without_brackets(SHARED_POOLS)
    rng = random.Random(intent)
    rendered = 0
    for frame in spec.frames:
        check_template(frame.template, spec.pools, SHARED_POOLS)
        assert 0 <= frame.tier < len(COMPLEXITIES)
        for _ in range(RENDERS_PER_FRAME):
            text = tidy(render(frame.template, pools, rng, shared))
            assert text.strip() and not set(text) & set("{}[]"), (frame.template, text)
            assert "a(n)" not in text.lower(), (frame.template, text)
            rendered += 1
    assert rendered == RENDERS_PER_FRAME * len(spec.frames)
