"""The linear teacher the small model is distilled from: cross-fitted, in the student's label order."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.data import load_examples
from ml.distillation import Teacher, make_teacher
from ml.taxonomy import INTENTS


def _mislabelled(small_dataset: Path) -> tuple[list[str], list[str], int, str]:
    """The sample's prompts and labels with one translation prompt labelled creative_writing."""
    examples = load_examples(small_dataset)
    texts, labels = [e.text for e in examples], [e.intent for e in examples]
    wrong = labels.index("translation")
    labels[wrong] = "creative_writing"
    return texts, labels, wrong, "creative_writing"


def test_the_teacher_scores_a_training_prompt_as_one_it_never_saw(small_dataset: Path) -> None:
    texts, labels, wrong, bad_label = _mislabelled(small_dataset)
    teacher = Teacher.fit(texts, labels, INTENTS, seed=13)
    probs = teacher.probabilities([texts[wrong]], [texts[wrong]])[0]
    # A teacher fitted on every prompt echoes the wrong label it memorised; the cross-fitted one reads the prompt.
    memorised = make_teacher().fit(texts, labels)
    echoed = memorised.predict_proba([texts[wrong]])[0][list(memorised.classes_).index(bad_label)]
    assert INTENTS[int(probs.argmax())] == "translation"
    assert probs[INTENTS.index(bad_label)] < echoed


def test_probabilities_follow_the_students_label_order_for_noisy_copies(small_dataset: Path) -> None:
    examples = load_examples(small_dataset)
    texts, labels = [e.text for e in examples], [e.intent for e in examples]
    order = list(reversed(INTENTS))  # any order the student uses
    teacher = Teacher.fit(texts, labels, order, seed=13)
    sources = texts[:40]
    noisy = [" ".join(t.split()[:-1]) or t for t in sources]  # a copy missing its last word, as augmentation does
    probs = teacher.probabilities(sources, noisy)
    assert probs.shape == (40, len(INTENTS))
    assert probs.sum(axis=1) == pytest.approx([1.0] * 40, abs=1e-5)
    agree = sum(order[int(p.argmax())] == label for p, label in zip(probs, labels[:40], strict=True))
    assert agree >= 30  # the columns are the student's labels: most noisy copies keep their intent


def test_a_clean_prompt_scored_again_gets_the_same_probabilities_and_its_noisy_copy_is_scored_afresh(
    small_dataset: Path,
) -> None:
    examples = load_examples(small_dataset)
    texts, labels = [e.text for e in examples], [e.intent for e in examples]
    teacher = Teacher.fit(texts, labels, INTENTS, seed=13)
    first = teacher.probabilities(texts[:20], texts[:20])
    fresh = Teacher(teacher.models, teacher.fold_of, teacher.label_names)  # the same teachers, nothing remembered
    noisy = [f"{t} please" if i % 2 else t for i, t in enumerate(texts[:20])]  # a batch half clean, half changed
    assert teacher.probabilities(texts[:20], noisy) == pytest.approx(fresh.probabilities(texts[:20], noisy))
    assert teacher.probabilities(texts[:20], texts[:20]) == pytest.approx(first)
    assert set(fresh.clean) == set(texts[:20:2])  # only what was read as it is was remembered


def test_a_distillation_weight_of_one_or_more_is_refused() -> None:
    from ml.errors import ModelError
    from ml.train_config import TrainConfig

    for weight in (1.0, -0.1):
        with pytest.raises(ModelError, match="distill_weight"):
            TrainConfig(distill_weight=weight)


def test_presets_trained_from_scratch_learn_from_the_teacher_and_checkpoints_do_not_by_default() -> None:
    from ml.train_config import PRESET_DISTILL_WEIGHT, TrainConfig

    assert TrainConfig(model="tiny").distill_weight == PRESET_DISTILL_WEIGHT > 0
    assert TrainConfig(model="microsoft/deberta-v3-base").distill_weight == 0.0
    assert TrainConfig(model="microsoft/deberta-v3-base", distill_weight=0.3).distill_weight == 0.3
