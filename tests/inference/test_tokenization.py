"""The serving tokenizer (tokenizers only) must produce exactly what training's transformers tokenizer does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.tokenization import load_fast_tokenizer
from ml.model import ModelInfo
from ml.predict import encode
from ml.tokenizer import load_tokenizer
from tests.conftest import ROOT

EDGE_CASES = [
    "x",
    "   leading and trailing   ",
    "tabs\tand\nnewlines\r\nand  double  spaces",
    "MiXeD CaSe With ÜMLAUTS and accents: café, naïve, Ångström",
    "emoji 🙂🚀 and CJK 你好世界 and Arabic مرحبا",
    "combining e\u0301 vs precomposed é",
    "punctuation!!! ??? ... --- (brackets) [more] {curly} <angle> 'quotes' \"double\"",
    "numbers 3.14159 1e10 -42 0x1F 1,000,000",
    "code: def f(x): return x ** 2  # comment",
    "[CLS] [SEP] [PAD] [MASK] [UNK] literal special tokens",
    "a very long prompt " * 200,  # far past max_length: truncation
    "\u200b zero width and \u00a0 non-breaking spaces",
]


def _texts(small_dataset: Path) -> list[str]:
    rows = [json.loads(line) for line in small_dataset.read_text().splitlines()]
    natural = [json.loads(line)["text"] for line in (ROOT / "data" / "natural_prompts.jsonl").read_text().splitlines()]
    return [r["text"] for r in rows] + natural + EDGE_CASES


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_fast_tokenizer_matches_transformers(onnx_model: Path, small_dataset: Path, batch_size: int) -> None:
    info = ModelInfo.load(onnx_model)
    reference, fast = load_tokenizer(onnx_model), load_fast_tokenizer(onnx_model)
    texts = _texts(small_dataset)
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        want = encode(reference, batch, info, return_tensors="np")
        got = encode(fast, batch, info, return_tensors="np")
        assert set(got) == {"input_ids", "attention_mask"}
        for key in ("input_ids", "attention_mask"):
            assert got[key].dtype == np.int64
            np.testing.assert_array_equal(got[key], np.asarray(want[key]), err_msg=f"{key} differs for {batch!r}")


@pytest.mark.parametrize("max_length", [8, 16, 128])
def test_truncation_and_padding_match_at_any_length(onnx_model: Path, max_length: int) -> None:
    info = ModelInfo.load(onnx_model)
    info.max_length = max_length
    reference, fast = load_tokenizer(onnx_model), load_fast_tokenizer(onnx_model)
    batch = ["short", "a somewhat longer prompt that needs more tokens than the short one", "word " * 100]
    want, got = encode(reference, batch, info, return_tensors="np"), encode(fast, batch, info, return_tensors="np")
    np.testing.assert_array_equal(got["input_ids"], np.asarray(want["input_ids"]))
    np.testing.assert_array_equal(got["attention_mask"], np.asarray(want["attention_mask"]))
    assert got["input_ids"].shape[1] <= max_length


def test_only_the_arguments_encode_uses_are_supported(onnx_model: Path) -> None:
    fast = load_fast_tokenizer(onnx_model)
    with pytest.raises(ValueError, match="supports only"):
        fast(["x"], padding=True, truncation=True, max_length=8, return_tensors="pt")
