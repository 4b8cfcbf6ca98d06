"""Typed, serialisable training hyperparameters with offline defaults (importable without torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ml.errors import ModelError
from ml.model import get_preset, is_preset


@dataclass
class TrainConfig:
    """Hyperparameters of one training run; every value has an offline default."""

    model: str = "tiny"
    seed: int = 13
    learning_rate: float = 1e-3
    epochs: int = 12
    batch_size: int = 32
    max_length: int = 128
    patience: int = 3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    lowercase: bool = True
    # Character noise (drops, swaps, substitutions) on half of each batch makes a small model robust to
    # typos and unseen spellings; see docs/architecture.md.
    noise_prob: float = 0.05
    tokenizer_vocab_size: int | None = None

    def __post_init__(self) -> None:
        checks = {
            "learning_rate": 0 < self.learning_rate < 1,
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "max_length": 8 <= self.max_length <= 512,
            "patience": self.patience >= 1,
            "noise_prob": 0 <= self.noise_prob < 0.5,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ModelError(f"invalid training parameter(s): {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")
        if is_preset(self.model):
            get_preset(self.model)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the parameters (for MLflow and hyperparameters)."""
        return asdict(self)
