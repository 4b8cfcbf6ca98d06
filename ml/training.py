"""Train a DeBERTa-v3 intent classifier: a plain PyTorch loop with noise augmentation and early stopping."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ml.data import Example
from ml.errors import DataError
from ml.model import (
    ModelInfo,
    build_preset_model,
    check_checkpoint_dir,
    get_preset,
    is_preset,
    load_pretrained_for_finetuning,
    save_model,
)
from ml.predict import encode, predict_logits
from ml.progress import Progress, ProgressCallback, report
from ml.runtime import TrainingRuntime
from ml.scores import classification_scores
from ml.taxonomy import INTENTS
from ml.tokenizer import normalize_text, train_tokenizer
from ml.train_config import TrainConfig

log = logging.getLogger(__name__)

_NOISE_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class TrainResult:
    """What a training run produced."""

    model_dir: Path
    best_epoch: int
    best_val_macro_f1: float
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    parameters: int = 0
    runtime: TrainingRuntime | None = None


# What `write_training_report` writes: the run's result and its per-epoch history (DVC's metrics and plots).
RESULT_FILE = "result.json"
HISTORY_FILE = "history.csv"
HISTORY_COLUMNS = ("epoch", "train_loss", "val_accuracy", "val_macro_f1")


def write_training_report(result: TrainResult, out_dir: Path) -> None:
    """Write the run's result (best epoch, its validation macro-F1, epochs run) and one CSV row per epoch."""
    import csv
    import json

    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = {
        "best_epoch": result.best_epoch,
        "best_val_macro_f1": result.best_val_macro_f1,
        "epochs_run": len(result.history),
    }
    (out_dir / RESULT_FILE).write_text(json.dumps(outcome, indent=2, sort_keys=True) + "\n")
    with (out_dir / HISTORY_FILE).open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(result.history)


def add_char_noise(text: str, prob: float, rng: random.Random) -> str:
    """Randomly drop, swap or substitute characters with probability `prob` each."""
    chars = list(text)
    out: list[str] = []
    i = 0
    while i < len(chars):
        c = chars[i]
        if c.isalpha() and rng.random() < prob:
            op = rng.randrange(3)
            if op == 0:
                i += 1
                continue
            if op == 1 and i + 1 < len(chars):
                out.extend((chars[i + 1], c))
                i += 2
                continue
            out.append(rng.choice(_NOISE_ALPHABET))
        else:
            out.append(c)
        i += 1
    return "".join(out) or text


def drop_words(text: str, prob: float, rng: random.Random) -> str:
    """Drop each word with probability `prob`, keeping at least one: no single template word can decide a label."""
    words = text.split()
    kept = [w for w in words if rng.random() >= prob]
    return " ".join(kept) if kept else rng.choice(words) if words else text


def augment(texts: list[str], config: TrainConfig, rng: random.Random) -> list[str]:
    """Half of a batch gets word dropout then character noise (each when configured); the other half stays clean."""
    if not (config.noise_prob or config.word_dropout):
        return texts
    out = []
    for text in texts:
        if rng.random() < 0.5:
            if config.word_dropout:
                text = drop_words(text, config.word_dropout, rng)
            if config.noise_prob:
                text = add_char_noise(text, config.noise_prob, rng)
        out.append(text)
    return out


def length_bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length examples: far less padding than random batches, still random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 20
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _check_examples(train: Sequence[Example], validation: Sequence[Example], labels: Sequence[str]) -> None:
    if not train:
        raise DataError("the training split is empty")
    if not validation:
        raise DataError("the validation split is empty")
    missing = sorted(set(labels) - {e.intent for e in train})
    if missing:
        raise DataError(f"the training split has no examples of: {', '.join(missing)}")


def train(
    config: TrainConfig,
    train_examples: Sequence[Example],
    validation_examples: Sequence[Example],
    out_dir: Path,
    *,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train, early-stop on validation macro-F1, and save the best model into out_dir; `on_progress` hears each
    batch (on the main process only).

    On a GPU when there is one, in mixed precision; under torchrun, one process per GPU (`ml.runtime`): rank 0
    evaluates, decides for all and saves.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    runtime = TrainingRuntime.detect()
    labels = list(INTENTS)
    _check_examples(train_examples, validation_examples, labels)
    seed_everything(config.seed)
    runtime.make_deterministic()
    started = time.perf_counter()

    if is_preset(config.model):
        preset = get_preset(config.model)
        texts = [normalize_text(e.text, lowercase=config.lowercase) for e in train_examples]
        vocab_size = config.tokenizer_vocab_size or preset.tokenizer_vocab_size
        tokenizer = runtime.from_main(lambda: train_tokenizer(texts, vocab_size=vocab_size))
        model = build_preset_model(preset, tokenizer, labels, seed=config.seed)
    else:
        model, tokenizer = load_pretrained_for_finetuning(config.model, labels)
    info = ModelInfo(labels=labels, lowercase=config.lowercase, max_length=config.max_length, source=config.model)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("training %s (%.2fM parameters) on %d examples", config.model, n_params / 1e6, len(train_examples))
    trained = runtime.wrap(model)

    label_ids = {label: i for i, label in enumerate(labels)}
    train_texts = [e.text for e in train_examples]
    train_labels = [label_ids[e.intent] for e in train_examples]
    val_texts = [e.text for e in validation_examples]
    val_labels = [label_ids[e.intent] for e in validation_examples]

    optimizer = torch.optim.AdamW(trained.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = (len(train_texts) + config.batch_size - 1) // config.batch_size // runtime.world_size
    total_steps = max(1, steps_per_epoch * config.epochs)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total_steps * config.warmup_ratio), total_steps)
    scaler = runtime.grad_scaler()
    order_rng = random.Random(config.seed)  # the same on every process: each takes its share of the same order
    noise_rng = random.Random(config.seed + 1 + runtime.rank)

    teacher, weight = None, config.distill_weight or 0.0
    if weight:
        from ml.distillation import Teacher

        report(on_progress if runtime.is_main else None, Progress("training", "fitting the teacher"))
        teacher = Teacher.fit(train_texts, [e.intent for e in train_examples], labels, seed=config.seed)

    ema = None
    if config.ema_decay:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay))
    evaluated = model if ema is None else ema.module  # what is validated and saved

    train_lengths = [len(t) for t in train_texts]
    history: list[dict[str, float]] = []
    best_f1, best_epoch, best_state, stale = -1.0, 0, None, 0
    for epoch in range(1, config.epochs + 1):
        trained.train()
        batches = runtime.shard(length_bucketed_batches(train_lengths, config.batch_size, order_rng))
        running = 0.0
        show = on_progress if runtime.is_main else None
        for step, idx in enumerate(batches):
            sources = [train_texts[i] for i in idx]
            texts = augment(sources, config, noise_rng)
            batch = {k: v.to(runtime.device) for k, v in encode(tokenizer, texts, info).items()}
            targets = torch.tensor([train_labels[i] for i in idx], device=runtime.device)
            soft = None if teacher is None else torch.from_numpy(teacher.probabilities(sources, texts))
            with runtime.autocast():
                logits = trained(**batch).logits
                loss = torch.nn.functional.cross_entropy(logits, targets, label_smoothing=config.label_smoothing)
                if soft is not None:  # the teacher's probabilities for what this batch reads, beside its labels
                    soft_loss = torch.nn.functional.cross_entropy(logits, soft.to(runtime.device))
                    loss = (1 - weight) * loss + weight * soft_loss
            (scaler.scale(loss) if scaler else loss).backward()
            if scaler:
                scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(trained.parameters(), 1.0)
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            if ema is not None:
                ema.update_parameters(model)
            running += loss.item()
            figures = f"loss {running / (step + 1):.4f}"
            report(show, Progress("training", f"epoch {epoch}/{config.epochs}", step + 1, len(batches), figures))
        mean_loss = running / max(1, len(batches))

        def validate(epoch: int = epoch, mean_loss: float = mean_loss) -> dict[str, float]:
            preds = predict_logits(evaluated, tokenizer, info, val_texts).argmax(axis=1)
            val = classification_scores(preds.tolist(), val_labels, labels)
            return {
                "epoch": epoch,
                "train_loss": mean_loss,
                "val_accuracy": val["accuracy"],
                "val_macro_f1": val["macro_f1"],
            }

        row = runtime.from_main(validate)  # rank 0's figures decide for every process
        history.append(row)
        log.info("epoch %d: loss %.4f, val macro-F1 %.4f", epoch, row["train_loss"], row["val_macro_f1"])
        if on_epoch_end:
            on_epoch_end(epoch, row)
        if row["val_macro_f1"] > best_f1:
            best_f1, best_epoch, stale = row["val_macro_f1"], epoch, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in evaluated.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                log.info("early stopping after epoch %d (best epoch %d)", epoch, best_epoch)
                break

    if best_state is None:  # unreachable: the first epoch always sets it
        raise RuntimeError("no epoch finished")
    figures = f"validation macro-F1 {best_f1:.4f}"
    report(show, Progress("training", f"best epoch {best_epoch} of {len(history)}", detail=figures, done=True))
    model.to("cpu").load_state_dict(best_state)
    info.extra = {"train_config": config.to_dict(), "best_epoch": best_epoch, "runtime": runtime.describe()}
    if runtime.is_main:
        save_model(model, tokenizer, info, out_dir)
    runtime.finish()
    return TrainResult(
        model_dir=Path(out_dir),
        best_epoch=best_epoch,
        best_val_macro_f1=best_f1,
        history=history,
        seconds=time.perf_counter() - started,
        parameters=n_params,
        runtime=runtime,
    )


def train_to_directory(
    config: TrainConfig,
    data_path: Path,
    out: Path,
    *,
    split_seed: int | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train on `data_path`'s train split (early stopping on its validation split) into the model directory `out`.

    The split's seed is the config's seed unless `split_seed` says otherwise, as in a pipeline run (`Seed`).

    Training runs in a sibling staging directory that replaces `out` only at the end: a failed run leaves an
    existing model untouched, and an existing model is replaced only with `overwrite`.
    """
    import shutil
    import tempfile

    from ml.data import SplitConfig, load_examples, split_examples
    from ml.errors import ModelError, first_line

    if out.exists() and not out.is_dir():
        raise ModelError(f"{out} is a file, not a model directory", hint="choose another --out")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ModelError(f"{out} already exists", hint="pass --overwrite to replace it, or choose another --out")
    if not is_preset(config.model) and Path(config.model).exists():
        check_checkpoint_dir(Path(config.model))  # before minutes of loading and training
    # The staging directory is made first: an --out that cannot be written fails now, not after training.
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        blocker = next((p for p in out.parents if p.exists()), out.parent)
        reason = f"{blocker} is not a directory" if not blocker.is_dir() else exc.strerror or first_line(exc)
        raise ModelError(
            f"cannot write the model to {out}: {reason}", hint="choose an --out in a directory you can write to"
        ) from exc
    try:
        seed = config.seed if split_seed is None else split_seed
        splits = split_examples(load_examples(data_path), SplitConfig(seed=seed))
        result = train(config, splits["train"], splits["validation"], staging, on_progress=on_progress)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
        result.model_dir = out  # where the model now is, not the staging directory it was written to
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result
