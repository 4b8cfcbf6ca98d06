"""Typed, serialisable training hyperparameters with offline defaults (importable without torch)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ml.errors import ModelError
from ml.model import get_preset, is_preset
from ml.params import load_params


def _from_params(name: str) -> Any:
    """A field whose default is params.yaml's `train.<name>`, read when a config leaves it out."""
    factory: Callable[[], Any] = lambda: getattr(load_params().train, name)  # noqa: E731
    return field(default_factory=factory)


# The distillation weight of a preset trained from random weights: it beat labels alone on the natural prompts, and
# 0.7 did worse (docs/benchmarks.md, "Distillation from a linear teacher").
PRESET_DISTILL_WEIGHT = 0.5
# The weights' moving-average decay of a preset trained from random weights: it lifted the weakest intent on the
# natural prompts at every seed measured (docs/benchmarks.md, "Averaged weights").
PRESET_EMA_DECAY = 0.998


@dataclass
class TrainConfig:
    """Hyperparameters of one training run; every value has an offline default (the `train` ones: params.yaml)."""

    model: str = _from_params("model")
    seed: int = _from_params("seed")
    learning_rate: float = _from_params("learning_rate")
    epochs: int = _from_params("epochs")
    batch_size: int = _from_params("batch_size")
    max_length: int = _from_params("max_length")
    patience: int = 3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    lowercase: bool = True
    # Character noise (drops, swaps, substitutions) on half of each batch makes a small model robust to
    # typos and unseen spellings; see docs/architecture.md.
    noise_prob: float = 0.05
    # Word dropout on the same half of each batch (after it, the character noise): measured in docs/benchmarks.md,
    # "Generalization"; 0 turns it off.
    word_dropout: float = 0.0
    # Cross-entropy label smoothing: 0.2 raised macro-F1 on the hand-written natural prompts by 2.4-4.4 points over
    # plain cross-entropy at each of three training seeds, with the generated test split unchanged
    # (docs/benchmarks.md, "Generalization"). 0 = plain cross-entropy.
    label_smoothing: float = 0.2
    tokenizer_vocab_size: int | None = None
    # Weight of the distillation loss: the student learns the cross-fitted linear teacher's probabilities
    # (ml.distillation) beside the labels; 0 = labels only (no teacher is fitted). None: PRESET_DISTILL_WEIGHT
    # for a preset trained from random weights, 0 for a pretrained checkpoint (which starts out reading more than
    # a linear model can teach it; unmeasured here).
    distill_weight: float | None = None
    # Exponential moving average of the weights (Polyak averaging), updated after every step with this decay; the
    # average is what is validated and saved. 0 = off; None: PRESET_EMA_DECAY for a preset, 0 for a checkpoint.
    ema_decay: float | None = None

    def __post_init__(self) -> None:
        checks = {
            "learning_rate": 0 < self.learning_rate < 1,
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "max_length": 8 <= self.max_length <= 512,
            "patience": self.patience >= 1,
            "noise_prob": 0 <= self.noise_prob < 0.5,
            "word_dropout": 0 <= self.word_dropout < 0.5,
            "label_smoothing": 0 <= self.label_smoothing < 0.5,
            "distill_weight": self.distill_weight is None or 0 <= self.distill_weight < 1,
            "ema_decay": self.ema_decay is None or 0 <= self.ema_decay < 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ModelError(f"invalid training parameter(s): {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")
        if is_preset(self.model):
            get_preset(self.model)
        if self.distill_weight is None:
            self.distill_weight = PRESET_DISTILL_WEIGHT if is_preset(self.model) else 0.0
        if self.ema_decay is None:
            self.ema_decay = PRESET_EMA_DECAY if is_preset(self.model) else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the parameters (for MLflow and hyperparameters)."""
        return asdict(self)
