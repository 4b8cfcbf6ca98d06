"""Commands given bad input fail in one line: non-zero exit, what is wrong and how to fix it, never a traceback.

A dataset that is not UTF-8, a model directory that is not a DeBERTa checkpoint or holds pickled weights, an --out
that cannot be written, a registry reference where a model is taken; and `mlops data validate` fuzzed with
arbitrary bytes (in process, so that many files cost little)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mlops_cli.data import data as data_commands
from tests.conftest import ROOT, run_cli

DATA = ROOT / "data" / "natural_prompts.jsonl"  # a labelled file in git: no DVC pull needed


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit 1 with `Error: ...` naming each expected phrase, and no traceback."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "\nError: " in "\n" + proc.stderr, proc.stderr  # after any library's log lines
    for phrase in expected:
        assert phrase in proc.stderr, proc.stderr


def test_data_validate_names_the_line_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    row = {"text": "Traduis « bonjour » en espagnol", "intent": "translation"}
    path.write_bytes((json.dumps(row) + "\n").encode() + (json.dumps(row, ensure_ascii=False) + "\n").encode("latin-1"))
    assert_clean_failure(
        run_cli("data", "validate", str(path)), f"{path}:2: not UTF-8", "hint: save the dataset as UTF-8"
    )


def _checkpoint(root: Path, config: str, *weights: str) -> Path:
    root.mkdir()
    (root / "config.json").write_text(config)
    for name in weights:
        (root / name).write_bytes(b"\x80\x04K\x01.")  # a pickle
    return root


@pytest.mark.parametrize(
    ("config", "weights", "expected"),
    [
        ('{"model_type": "bert"}', ("model.safetensors",), "model_type is 'bert', not 'deberta-v2'"),
        ('{"model_type": "pwned"}', ("model.safetensors",), "model_type is 'pwned', not 'deberta-v2'"),
        ("not json", ("model.safetensors",), "is not a readable JSON config"),
        ("[1, 2]", ("model.safetensors",), "model_type is None"),
        ('{"model_type": "deberta-v2"}', ("pytorch_model.bin",), "only safetensors are accepted"),
        ('{"model_type": "deberta-v2"}', (), "no *.safetensors file"),
    ],
    ids=["bert", "unknown-type", "not-json", "not-an-object", "pickle", "no-weights"],
)
def test_train_refuses_a_checkpoint_it_cannot_use(
    tmp_path: Path, config: str, weights: tuple[str, ...], expected: str
) -> None:
    model = _checkpoint(tmp_path / "checkpoint", config, *weights)
    proc = run_cli("train", "--data", str(DATA), "--model", str(model), "--out", str(tmp_path / "out"))
    assert_clean_failure(proc, expected, "hint: ")
    assert not (tmp_path / "out").exists()


def test_train_refuses_an_out_it_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    proc = run_cli("train", "--data", str(DATA), "--out", str(tmp_path / "a-file" / "model"))
    assert_clean_failure(proc, f"cannot write the model to {tmp_path / 'a-file' / 'model'}", "is not a directory")


@pytest.mark.parametrize(
    "command",
    [
        ("bench", "compare", "--backends", "torch", "--model-dir"),
        ("evaluate", "--data", str(DATA), "--split", "all", "--model"),
    ],
    ids=["bench-compare", "evaluate"],
)
def test_a_registry_reference_is_looked_up_in_the_registry(command: tuple[str, ...]) -> None:
    # The private state directory's registry is empty: the reference is resolved there, not read as a path.
    proc = run_cli(*command, "models:/intent-classifier@champion")
    assert_clean_failure(proc, "no registered model 'intent-classifier' in the registry")


@given(content=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-16")))
def test_commands_data_validate_never_raises(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "data.jsonl"
    path.write_bytes(content)
    result = CliRunner().invoke(data_commands, ["validate", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
