"""Presets, tokenizer and model save/load round trips, and clear errors for bad models."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ml.errors import ModelError
from ml.model import PRESETS, check_model_dir, get_preset, load_model, preset_config
from ml.predict import predict_logits
from ml.taxonomy import INTENTS

PROMPTS = ["Translate 'good night' into Italian", "write a haiku about rain", "why is my build failing?", "hi!"]


def test_presets_have_the_real_deberta_v3_shapes() -> None:
    base = preset_config(get_preset("base"), vocab_size=1000, labels=list(INTENTS))
    assert (base.hidden_size, base.num_hidden_layers, base.num_attention_heads, base.intermediate_size) == (
        768,
        12,
        12,
        3072,
    )
    assert base.vocab_size == 128100 and base.model_type == "deberta-v2"
    assert base.relative_attention and base.pos_att_type == ["p2c", "c2p"] and base.position_buckets == 256
    assert base.norm_rel_ebd == "layer_norm" and base.type_vocab_size == 0
    xsmall = PRESETS["xsmall"]
    assert (xsmall.hidden_size, xsmall.num_hidden_layers) == (384, 12)
    assert (PRESETS["small"].hidden_size, PRESETS["small"].num_hidden_layers) == (768, 6)
    tiny = preset_config(get_preset("tiny"), vocab_size=900, labels=list(INTENTS))
    assert tiny.vocab_size == 900 and tiny.num_labels == 10 and tiny.id2label[2] == "code_generation"


def test_unknown_preset_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match=r"(?s)unknown preset .huge.*tiny, xsmall, small, base"):
        get_preset("huge")


def test_model_directory_holds_the_contracted_files(tiny_model: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "intent_model.json"):
        assert (tiny_model / name).is_file()


def test_saved_model_reloads_to_identical_predictions(tiny_model: Path, tmp_path: Path) -> None:
    model, tokenizer, info = load_model(tiny_model)
    before = predict_logits(model, tokenizer, info, PROMPTS)
    model.save_pretrained(tmp_path, safe_serialization=True)
    tokenizer.save_pretrained(tmp_path)
    info.save(tmp_path)
    model2, tokenizer2, info2 = load_model(tmp_path)
    assert info2 == info
    assert tokenizer2(PROMPTS)["input_ids"] == tokenizer(PROMPTS)["input_ids"]
    np.testing.assert_array_equal(predict_logits(model2, tokenizer2, info2, PROMPTS), before)


def test_tokenizer_is_trained_on_our_data_and_knows_its_words(tiny_model: Path) -> None:
    _, tokenizer, info = load_model(tiny_model)
    assert info.lowercase and len(tokenizer) <= get_preset("tiny").tokenizer_vocab_size
    ids = tokenizer("translate this email into spanish")["input_ids"]
    assert tokenizer.unk_token_id not in ids


def test_not_a_model_directory(tmp_path: Path, tiny_model: Path) -> None:
    with pytest.raises(ModelError, match="model directory not found"):
        check_model_dir(tmp_path / "missing")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelError, match=r"not an intent model directory: missing model\.safetensors"):
        check_model_dir(broken)


def test_finetuning_from_a_local_directory(tiny_model: Path, small_dataset: Path, tmp_path: Path) -> None:
    """`--model DIR` loads real weights through from_pretrained; a non-DeBERTa dir is refused."""
    from ml.data import load_examples, split_examples
    from ml.train_config import TrainConfig
    from ml.training import train

    splits = split_examples(load_examples(small_dataset))
    result = train(
        TrainConfig(model=str(tiny_model), epochs=1),
        splits["train"][::5],
        splits["validation"],
        tmp_path / "ft",
    )
    assert check_model_dir(result.model_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model directory"):
        train(
            TrainConfig(model=str(tmp_path / "empty"), epochs=1), splits["train"], splits["validation"], tmp_path / "x"
        )


def test_the_tiny_model_pools_the_mean_of_its_tokens_and_padding_changes_nothing(tiny_model: Path) -> None:
    """The tiny preset's head reads every token (ml.mean_pooling), not only [CLS]: a prompt scores the same alone
    and padded in a batch beside a longer one, and a reload keeps the head."""
    import torch

    model, tokenizer, _ = load_model(tiny_model)
    assert type(model).__name__ == "MeanPooledDebertaV2ForSequenceClassification" and model.config.pooling == "mean"
    short, long = "plan my week", "write a long poem about the sea, the wind and the lighthouse keeper's cat"
    with torch.no_grad():
        batch = model(**tokenizer([short, long], padding=True, return_tensors="pt")).logits
        alone = model(**tokenizer([short], return_tensors="pt")).logits
        first_token_only = model.classifier(model.pooler(model.deberta(**tokenizer([short], return_tensors="pt"))[0]))
    torch.testing.assert_close(batch[0], alone[0], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(first_token_only, alone, atol=1e-4)  # not DeBERTa's [CLS] head
    base = preset_config(get_preset("base"), vocab_size=1000, labels=list(INTENTS))
    assert not hasattr(base, "pooling")  # the real checkpoints' shapes keep DeBERTa's own head
