"""The training report: the run's result and one history row per epoch."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ml.training import HISTORY_COLUMNS, HISTORY_FILE, RESULT_FILE, TrainResult, write_training_report


def test_result_and_history(tmp_path: Path) -> None:
    history = [
        {"epoch": 1, "train_loss": 2.0, "val_accuracy": 0.5, "val_macro_f1": 0.4},
        {"epoch": 2, "train_loss": 1.0, "val_accuracy": 0.7, "val_macro_f1": 0.65},
    ]
    result = TrainResult(model_dir=tmp_path / "m", best_epoch=2, best_val_macro_f1=0.65, history=history)
    write_training_report(result, tmp_path / "report")
    outcome = json.loads((tmp_path / "report" / RESULT_FILE).read_text())
    assert outcome == {"best_epoch": 2, "best_val_macro_f1": 0.65, "epochs_run": 2}
    with (tmp_path / "report" / HISTORY_FILE).open() as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == HISTORY_COLUMNS
        assert [float(row["val_macro_f1"]) for row in reader] == [0.4, 0.65]


def test_word_dropout_keeps_a_word_and_the_defaults_leave_texts_alone() -> None:
    import random

    from ml.train_config import TrainConfig
    from ml.training import augment, drop_words

    rng = random.Random(0)
    text = "please write a python function that parses dates"
    dropped = [drop_words(text, 0.4, rng) for _ in range(200)]
    assert all(d and set(d.split()) <= set(text.split()) for d in dropped)  # never empty, no new words
    assert any(len(d.split()) < len(text.split()) for d in dropped)
    assert drop_words("hello", 0.49, rng) == "hello"  # a one-word prompt keeps its word
    texts = [text] * 50
    assert augment(texts, TrainConfig(noise_prob=0.0, word_dropout=0.0), rng) == texts
    mixed = augment(texts, TrainConfig(noise_prob=0.0, word_dropout=0.3), random.Random(1))
    assert 0 < sum(t != text for t in mixed) < 50  # about half of a batch is augmented, the rest stays clean


def test_out_of_range_regularisation_is_refused() -> None:
    import pytest

    from ml.errors import ModelError
    from ml.train_config import TrainConfig

    for field in ("word_dropout", "label_smoothing"):
        with pytest.raises(ModelError, match=field):
            TrainConfig(**{field: 0.6})


def test_train_to_directory_returns_where_the_model_is(small_dataset: Path, tmp_path: Path) -> None:
    from ml.model import load_model
    from ml.train_config import TrainConfig
    from ml.training import train_to_directory

    config = TrainConfig(epochs=1, word_dropout=0.1, label_smoothing=0.1)
    result = train_to_directory(config, small_dataset, tmp_path / "model")
    assert result.model_dir == tmp_path / "model"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging directory left behind
    load_model(result.model_dir)


def test_the_weights_average_is_what_is_saved_when_ema_is_on(small_dataset: Path, tmp_path: Path) -> None:
    import pytest
    import torch

    from ml.errors import ModelError
    from ml.model import load_model
    from ml.train_config import TrainConfig
    from ml.training import train_to_directory

    def weights(**changes: float) -> dict[str, torch.Tensor]:
        config = TrainConfig(epochs=2, distill_weight=0.0, **changes)
        out = tmp_path / "-".join(f"{k}{v}" for k, v in changes.items()) / "model"
        model, _, _ = load_model(train_to_directory(config, small_dataset, out).model_dir)
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    plain, tracking, averaged = weights(ema_decay=0.0), weights(ema_decay=1e-12), weights(ema_decay=0.99)
    # An average that forgets at once is the trained weights themselves; a slow one is another model.
    assert all(torch.allclose(plain[k], tracking[k], atol=1e-6) for k in plain)
    assert any(not torch.allclose(plain[k], averaged[k], atol=1e-4) for k in plain)
    with pytest.raises(ModelError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)
    assert TrainConfig(model="tiny").ema_decay > 0 and TrainConfig(model="microsoft/deberta-v3-base").ema_decay == 0
