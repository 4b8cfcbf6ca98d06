"""DeBERTa-v3 model presets, and saving/loading a model directory with its tokenizer and label map."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.errors import ModelError, first_line
from ml.mean_pooling import MEAN, POOLING_KEY, mean_pooled_class, uses_mean_pooling
from ml.taxonomy import INTENTS

if TYPE_CHECKING:
    from transformers import DebertaV2ForSequenceClassification, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

# The files of a model directory (docs/architecture.md#the-model): one home for every name.
MODEL_INFO_FILE = "intent_model.json"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"  # optional: pad token and padding side
REQUIRED_FILES = ("config.json", "model.safetensors", TOKENIZER_FILE, MODEL_INFO_FILE)
# ONNX graphs by numeric precision, written by `ml.export` and served by `inference.predictor`.
ONNX_FILES = {"int8": "model.int8.onnx", "fp32": "model.onnx"}
PRECISIONS = tuple(ONNX_FILES)
EXPORT_REPORT_FILE = "export_report.json"
# The registry version, data md5 and git commit a packaged or downloaded model reports.
METADATA_FILE = "metadata.json"
# The SageMaker model package: ONNX graphs, tokenizer, label map, export report and metadata, in one archive.
PACKAGE_FILE = "model.tar.gz"
# A checkpoint to fine-tune: transformers' model_type of DeBERTa-v2 and v3, and weight files that are pickles.
DEBERTA_MODEL_TYPE = "deberta-v2"
PICKLED_WEIGHT_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_CHECKPOINT_HINT = (
    "pass a preset or a DeBERTa-v2/v3 directory written by save_pretrained "
    "(config.json with model_type deberta-v2, model.safetensors, the tokenizer)"
)

# Shared by every DeBERTa-v3 checkpoint (microsoft/deberta-v3-*): relative attention with
# log-bucketed positions, content<->position attention, no token types.
_DEBERTA_V3_COMMON: dict[str, Any] = {
    "relative_attention": True,
    "pos_att_type": ["p2c", "c2p"],
    "norm_rel_ebd": "layer_norm",
    "share_att_key": True,
    "position_biased_input": False,
    "max_relative_positions": -1,
    "max_position_embeddings": 512,
    "type_vocab_size": 0,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-7,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}


@dataclass(frozen=True)
class Preset:
    """Shape of a randomly initialised DeBERTa-v3 and the tokenizer trained for it."""

    name: str
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    # None: the embedding table is as large as our trained tokenizer; else the real checkpoint's vocabulary.
    vocab_size: int | None
    # The most pieces the trained tokenizer may have (SentencePiece stops at what the corpus yields). The tiny
    # preset asks for more than our data has, so a piece is about a word: a 2-layer model trained from scratch
    # reads real prompts far better from words than from the sub-word pieces of a small vocabulary, at no cost in
    # compute per token (docs/benchmarks.md, "Training settings").
    tokenizer_vocab_size: int
    description: str
    # Log-bucketed relative positions (256 in every microsoft/deberta-v3-* checkpoint). The tiny preset uses 64:
    # attention against relative positions dominates its compute, and its prompts are short.
    position_buckets: int = 256
    # "cls": DeBERTa's own head, over the first token; "mean": over the mean of all tokens (ml.mean_pooling).
    pooling: str = "cls"


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "tiny", 128, 2, 4, 512, None, 16000, "embedded default: trains in a few minutes on 2 CPU cores", 64, "mean"
        ),
        Preset("xsmall", 384, 12, 6, 1536, 128100, 8000, "shape of microsoft/deberta-v3-xsmall"),
        Preset("small", 768, 6, 12, 3072, 128100, 8000, "shape of microsoft/deberta-v3-small"),
        Preset("base", 768, 12, 12, 3072, 128100, 8000, "shape of microsoft/deberta-v3-base"),
    )
}


@dataclass
class ModelInfo:
    """What the model directory needs besides config and weights: labels and input preprocessing."""

    labels: list[str] = field(default_factory=lambda: list(INTENTS))
    lowercase: bool = True
    max_length: int = 128
    source: str = "tiny"
    extra: dict[str, Any] = field(default_factory=dict)

    def save(self, model_dir: Path) -> None:
        """Write intent_model.json into model_dir."""
        (Path(model_dir) / MODEL_INFO_FILE).write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, model_dir: Path) -> ModelInfo:
        """Read intent_model.json from model_dir."""
        data = json.loads((Path(model_dir) / MODEL_INFO_FILE).read_text())
        return cls(**data)


def get_preset(name: str) -> Preset:
    """Return a preset by name, or raise ModelError listing the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ModelError(
            f"unknown preset {name!r}",
            hint=f"use one of {', '.join(PRESETS)}, or a local model directory / hub name",
        ) from None


def is_preset(name: str) -> bool:
    """True when `name` names one of our presets rather than a directory or hub model."""
    return name in PRESETS


def preset_config(preset: Preset, *, vocab_size: int, labels: list[str]) -> Any:
    """Build the DebertaV2Config of a preset for a tokenizer of `vocab_size` tokens."""
    from transformers import DebertaV2Config

    # A plain dict: DebertaV2Config takes DeBERTa's own keys (position_buckets, ...) and the generic ones as **kwargs.
    values: dict[str, Any] = {
        **_DEBERTA_V3_COMMON,
        "vocab_size": max(preset.vocab_size or 0, vocab_size),
        "hidden_size": preset.hidden_size,
        "num_hidden_layers": preset.num_hidden_layers,
        "num_attention_heads": preset.num_attention_heads,
        "intermediate_size": preset.intermediate_size,
        "position_buckets": preset.position_buckets,
        "pad_token_id": 0,
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
    }
    if preset.pooling == MEAN:
        values[POOLING_KEY] = MEAN
    return DebertaV2Config(**values)


def classifier_class(config: Any) -> type[DebertaV2ForSequenceClassification]:
    """The sequence-classifier class a config asks for: the mean-pooled head or DeBERTa's own."""
    from transformers import DebertaV2ForSequenceClassification

    return mean_pooled_class() if uses_mean_pooling(config) else DebertaV2ForSequenceClassification


def build_preset_model(preset: Preset, tokenizer: PreTrainedTokenizerBase, labels: list[str], *, seed: int) -> Any:
    """Randomly initialise a DeBERTa-v3 sequence classifier of the preset's shape."""
    import torch

    torch.manual_seed(seed)
    config = preset_config(preset, vocab_size=len(tokenizer), labels=labels)
    config.pad_token_id = tokenizer.pad_token_id
    return classifier_class(config)(config)


def load_pretrained_for_finetuning(name_or_dir: str, labels: list[str]) -> tuple[Any, PreTrainedTokenizerBase]:
    """Load a DeBERTa-v2/v3 checkpoint (directory or hub name) with a fresh classification head for `labels`."""
    from transformers import AutoConfig, AutoTokenizer

    _quiet_transformers()
    path = Path(name_or_dir)
    if path.exists():
        check_checkpoint_dir(path)
    try:
        config = AutoConfig.from_pretrained(name_or_dir)
    except OSError as exc:
        raise ModelError(
            f"cannot load model {name_or_dir!r}: it is not a preset ({', '.join(PRESETS)}), not a local "
            "directory, and not loadable from the Hugging Face hub",
            hint="hub downloads need network access (HF_HUB_OFFLINE unset); offline, pass a preset or a model dir",
        ) from exc
    if config.model_type != DEBERTA_MODEL_TYPE:
        raise ModelError(f"{name_or_dir!r} is a {config.model_type!r} model, not DeBERTa-v2/v3", hint=_CHECKPOINT_HINT)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_dir)
        # use_safetensors: a pickled checkpoint is never loaded, even from the hub (it can run code when unpickled).
        model = classifier_class(config).from_pretrained(  # a tiny model's directory keeps its mean-pooled head
            name_or_dir,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            ignore_mismatched_sizes=True,
            use_safetensors=True,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"cannot load the DeBERTa checkpoint {name_or_dir!r}: {type(exc).__name__}: {first_line(exc)}",
            hint=_CHECKPOINT_HINT,
        ) from exc
    return model, tokenizer


def check_checkpoint_dir(path: Path) -> Path:
    """Raise ModelError unless `path` holds a DeBERTa-v2/v3 config.json and safetensors weights (never a pickle)."""
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelError(f"{path} is not a model directory: it has no config.json", hint=_CHECKPOINT_HINT)
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{config_file} is not a readable JSON config: {first_line(exc)}", hint=_CHECKPOINT_HINT
        ) from exc
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type != DEBERTA_MODEL_TYPE:
        raise ModelError(
            f"{config_file} is not a DeBERTa-v2/v3 config: its model_type is {model_type!r}, "
            f"not {DEBERTA_MODEL_TYPE!r}",
            hint=_CHECKPOINT_HINT,
        )
    if not any(path.glob("*.safetensors")):
        pickles = sorted(p.name for p in path.iterdir() if p.suffix in PICKLED_WEIGHT_SUFFIXES)
        if pickles:
            raise ModelError(
                f"{path} holds its weights as a pickle ({', '.join(pickles)}): only safetensors are accepted, since "
                "unpickling a file can run any code in it",
                hint="convert it where you trust it: load it with transformers and save_pretrained(DIR, "
                "safe_serialization=True), which writes model.safetensors",
            )
        raise ModelError(f"{path} has no weights: no *.safetensors file", hint=_CHECKPOINT_HINT)
    return path


def save_model(model: Any, tokenizer: PreTrainedTokenizerBase, info: ModelInfo, out_dir: Path) -> Path:
    """Write config.json, model.safetensors, tokenizer.json and intent_model.json into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _quiet_transformers()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    info.save(out_dir)
    return out_dir


def check_model_dir(model_dir: Path) -> Path:
    """Raise ModelError unless model_dir holds a complete saved intent model."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"model directory not found: {model_dir}", hint="train one with `mlops train --out DIR`")
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ModelError(
            f"{model_dir} is not an intent model directory: missing {', '.join(missing)}",
            hint="point at a directory written by `mlops train`",
        )
    return model_dir


def _quiet_transformers() -> None:
    # "Loading weights" progress bars on every load would bury the step logs.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def load_model(model_dir: Path) -> tuple[DebertaV2ForSequenceClassification, PreTrainedTokenizerBase, ModelInfo]:
    """Load a saved intent model (eval mode), its tokenizer and its ModelInfo."""
    from transformers import DebertaV2Config

    _quiet_transformers()
    from ml.tokenizer import load_tokenizer

    model_dir = check_model_dir(model_dir)
    model = classifier_class(DebertaV2Config.from_pretrained(str(model_dir))).from_pretrained(str(model_dir))
    model.eval()
    return model, load_tokenizer(model_dir), ModelInfo.load(model_dir)
