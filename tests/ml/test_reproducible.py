"""Bit-reproducible training on the CPU: the same data, parameters, seed and code give the same bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def digests(model_dir: Path) -> dict[str, str]:
    """sha256 of every file a training run wrote."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(model_dir.iterdir()) if p.is_file()}


def test_training_twice_gives_the_same_weights_byte_for_byte(small_dataset: Path, tmp_path: Path) -> None:
    runs = []
    for hash_seed in ("1", "2"):  # separate processes with different string hashing: no set or dict order leaks in
        out = tmp_path / f"run-{hash_seed}"
        args = ("train", "--data", str(small_dataset), "--epochs", "2", "--out", str(out), "--json")
        proc = run_cli(*args, check=True, env={"PYTHONHASHSEED": hash_seed})
        runs.append((json.loads(proc.stdout), digests(out)))
    (first, first_files), (second, second_files) = runs
    assert first_files == second_files
    assert "model.safetensors" in first_files and "tokenizer.json" in first_files
    for figure in ("best_epoch", "best_val_macro_f1", "epochs_run"):
        assert first[figure] == second[figure]
    assert first["reproducible"].startswith("bitwise")


def test_tokenizer_training_is_a_function_of_the_texts() -> None:
    from ml.tokenizer import SPECIAL_TOKENS, train_tokenizer

    texts = [f"write a {w} function that sorts a list of {n} items" for w in ("python", "rust", "go") for n in "abc"]
    first, second = (train_tokenizer(texts, vocab_size=60) for _ in range(2))
    assert first.backend_tokenizer.to_str() == second.backend_tokenizer.to_str()
    assert first.convert_ids_to_tokens(list(range(len(SPECIAL_TOKENS)))) == list(SPECIAL_TOKENS)
    assert first.unk_token_id == SPECIAL_TOKENS.index("[UNK]")
    assert first.tokenize("write a python function") == second.tokenize("write a python function")


def test_the_record_says_what_reproducibility_a_run_promises() -> None:
    from ml.runtime import TrainingRuntime

    assert TrainingRuntime("cpu", "fp32").describe()["reproducible"].startswith("bitwise")
    assert TrainingRuntime("cpu", "fp32", world_size=2).reproducibility().startswith("not promised")
    assert TrainingRuntime("cuda:0", "bf16").reproducibility().startswith("not promised")
