"""The export's attention rewrite: transformers' scores at every length, only where it applies, undone after."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ml.export_attention import span_sliced_attention, supports_span_slicing

# The tiny preset has 64 position buckets: 100 and 300 tokens reach the log-bucketed distances and go past the
# bucket table (512, the longest distance DeBERTa-v3 buckets, reaches its last row); 1 token is the degenerate span.
LENGTHS = (1, 9, 40, 100, 300, 512)


def _inputs(length: int, rows: int = 3, seed: int = 0) -> tuple:
    """Random token ids with the last row half padding, so the attention mask does work."""
    import torch

    generator = torch.Generator().manual_seed(seed + length)
    ids = torch.randint(5, 900, (rows, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[-1, max(1, length // 2) :] = 0
    return ids, mask


def test_rewrite_gives_the_same_logits_as_transformers_at_every_length(tiny_model: Path) -> None:
    import torch

    from ml.model import load_model

    model, _, _ = load_model(tiny_model)
    with torch.inference_mode():
        for length in LENGTHS:
            ids, mask = _inputs(length)
            reference = model(input_ids=ids, attention_mask=mask).logits
            with span_sliced_attention(model) as applied:
                rewritten = model(input_ids=ids, attention_mask=mask).logits
            assert applied is True
            assert torch.equal(rewritten, reference), f"{length} tokens: max diff {(rewritten - reference).abs().max()}"


def test_rewrite_is_undone_on_exit_and_on_error(tiny_model: Path) -> None:
    from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention

    from ml.model import load_model

    model, _, _ = load_model(tiny_model)
    original = DisentangledSelfAttention.disentangled_attention_bias
    with span_sliced_attention(model):
        assert DisentangledSelfAttention.disentangled_attention_bias is not original
    assert DisentangledSelfAttention.disentangled_attention_bias is original
    with pytest.raises(RuntimeError), span_sliced_attention(model):
        raise RuntimeError("export failed")
    assert DisentangledSelfAttention.disentangled_attention_bias is original


@pytest.mark.parametrize(
    ("change", "supported"),
    [
        ({}, True),
        ({"share_att_key": False}, False),
        ({"pos_att_type": ["c2p"]}, False),
        ({"relative_attention": False}, False),
        ({"model_type": "bert"}, False),
    ],
)
def test_rewrite_applies_only_to_the_configurations_it_reproduces(change: dict, supported: bool) -> None:
    config = SimpleNamespace(
        **{
            "model_type": "deberta-v2",
            "relative_attention": True,
            "share_att_key": True,
            "pos_att_type": ["p2c", "c2p"],
            **change,
        }
    )
    assert supports_span_slicing(config) is supported
    model = SimpleNamespace(config=config)
    if not supported:
        from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention

        original = DisentangledSelfAttention.disentangled_attention_bias
        with span_sliced_attention(model) as applied:
            assert applied is False and DisentangledSelfAttention.disentangled_attention_bias is original


def test_every_preset_gets_the_rewrite() -> None:
    from ml.model import PRESETS, preset_config
    from ml.taxonomy import INTENTS

    for preset in PRESETS.values():
        assert supports_span_slicing(preset_config(preset, vocab_size=1000, labels=list(INTENTS))), preset.name


def test_rewritten_graph_is_dynamic_and_matches_pytorch_past_the_traced_length(
    onnx_model: Path, tmp_path: Path
) -> None:
    """The graph was traced on one short two-row batch; it must hold for other batch sizes and every length."""
    import onnx
    import onnxruntime as ort
    import torch

    from ml.export import export_fp32
    from ml.model import load_model

    model, _, _ = load_model(onnx_model)
    rewritten = ort.InferenceSession(str(onnx_model / "model.onnx"), providers=["CPUExecutionProvider"])
    for length, rows in zip(LENGTHS, (1, 3, 2, 5, 1, 2), strict=True):
        ids, mask = _inputs(length, rows)
        with torch.inference_mode():
            reference = model(input_ids=ids, attention_mask=mask).logits.numpy()
        got = rewritten.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        assert np.abs(got - reference).max() <= 1e-4, length

    # transformers' attention repeats all 2 x buckets position rows for every batch row (Tile); the rewrite does not.
    as_is = export_fp32(onnx_model, tmp_path / "as_is.onnx", slice_positions=False)
    ops = {
        path: {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
        for path in (onnx_model / "model.onnx", as_is)
    }
    assert "Tile" in ops[as_is] and "Tile" not in ops[onnx_model / "model.onnx"]
