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
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ModelError(f"invalid training parameter(s): {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")
        if is_preset(self.model):
            get_preset(self.model)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the parameters (for MLflow and hyperparameters)."""
        return asdict(self)
