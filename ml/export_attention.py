"""DeBERTa-v3's disentangled attention, rewritten for ONNX export to score only the relative positions in use.

transformers' `DisentangledSelfAttention.disentangled_attention_bias` projects all 2 x position_buckets relative
positions (512 for deberta-v3-*), repeats them for every row of the batch, multiplies every query against all of
them and then gathers the L x L scores it needs. A sequence of L tokens only uses the bucketed distances in
[-m, m], m < min(L, buckets). The rewrite keeps those 2m + 1 positions and broadcasts them over the batch
instead of repeating them; the gathered scores are the same numbers (bit-identical in eager PyTorch, tested).
At 64 tokens that is a quarter of the positions; docs/benchmarks.md has the measured speed-up.

The rewrite is applied only while tracing for export, and only to configurations it was written for
(shared position projections, c2p and p2c); the export's parity check against the unpatched model guards it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)


def supports_span_slicing(config: Any) -> bool:
    """True for the DeBERTa-v2/v3 configurations the rewrite reproduces exactly (every deberta-v3 checkpoint)."""
    pos_att_type = set(getattr(config, "pos_att_type", None) or [])
    return (
        getattr(config, "model_type", None) == "deberta-v2"
        and bool(getattr(config, "relative_attention", False))
        and bool(getattr(config, "share_att_key", False))
        and pos_att_type == {"c2p", "p2c"}
    )


def _span_sliced_bias(
    self: Any, query_layer: Any, key_layer: Any, relative_pos: Any, rel_embeddings: Any, scale_factor: int
) -> Any:
    """disentangled_attention_bias of transformers 5.x, computing c2p and p2c only for the positions in use."""
    import torch
    from transformers.models.deberta_v2 import modeling_deberta_v2 as deberta

    if relative_pos is None:
        relative_pos = deberta.build_relative_position(
            query_layer, key_layer, bucket_size=self.position_buckets, max_position=self.max_relative_positions
        )
    if relative_pos.dim() == 2:
        relative_pos = relative_pos.unsqueeze(0).unsqueeze(0)
    elif relative_pos.dim() == 3:
        relative_pos = relative_pos.unsqueeze(1)
    elif relative_pos.dim() != 4:
        raise ValueError(f"Relative position ids must be of dim 2 or 3 or 4. {relative_pos.dim()}")
    att_span, heads = self.pos_ebd_size, self.num_attention_heads
    relative_pos = relative_pos.to(device=query_layer.device, dtype=torch.long)
    # (heads, 2 * att_span, head_dim): depends on weights only, so the exporter folds it into constants.
    rel_embeddings = rel_embeddings[0 : att_span * 2, :].unsqueeze(0)
    pos_query = self.transpose_for_scores(self.query_proj(rel_embeddings), heads)
    pos_key = self.transpose_for_scores(self.key_proj(rel_embeddings), heads)
    # Row att_span + d of the table is distance d (clamped to the table, as the original clamps its index);
    # keep d in [-m, m]. Index tensors, not Python ints, so the traced graph stays dynamic in the length.
    m = relative_pos.abs().amax()
    keep = torch.arange(2 * m + 1, dtype=torch.long, device=query_layer.device) + (att_span - m)
    keep = keep.clamp(0, att_span * 2 - 1)
    pos_query, pos_key = pos_query.index_select(1, keep), pos_key.index_select(1, keep)

    rows, q_len, k_len = query_layer.size(0), query_layer.size(-2), key_layer.size(-2)
    scale = deberta.scaled_size_sqrt(pos_key, scale_factor)
    # content -> position: (batch, heads, q, d) x (heads, d, 2m+1) broadcasts over the batch, no repeat.
    c2p = torch.matmul(query_layer.view(-1, heads, q_len, query_layer.size(-1)), pos_key.transpose(-1, -2))
    c2p_index = (relative_pos + m).squeeze(0).expand([rows, q_len, relative_pos.size(-1)])
    score = torch.gather(c2p.view(rows, q_len, -1), -1, c2p_index) / scale.to(dtype=c2p.dtype)
    # position -> content (self-attention: the key positions are the query positions).
    p2c = torch.matmul(key_layer.view(-1, heads, k_len, key_layer.size(-1)), pos_query.transpose(-1, -2))
    p2c_index = (-relative_pos + m).squeeze(0).expand([rows, k_len, k_len])
    p2c = torch.gather(p2c.view(rows, k_len, -1), -1, p2c_index).transpose(-1, -2)
    return score + p2c / scale.to(dtype=p2c.dtype)


@contextlib.contextmanager
def span_sliced_attention(model: Any) -> Iterator[bool]:
    """While open, the model's attention scores only the relative positions in use; yields whether it applies."""
    from transformers.models.deberta_v2 import modeling_deberta_v2 as deberta

    if not supports_span_slicing(model.config):
        log.info("exporting DeBERTa attention as is: the span rewrite does not cover this configuration")
        yield False
        return
    attention = deberta.DisentangledSelfAttention
    original = attention.disentangled_attention_bias
    setattr(attention, "disentangled_attention_bias", _span_sliced_bias)  # noqa: B010 - patching a method
    try:
        yield True
    finally:
        setattr(attention, "disentangled_attention_bias", original)  # noqa: B010
