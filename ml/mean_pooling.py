"""A DeBERTa-v3 sequence classifier that reads a prompt through the mean of its tokens' last hidden states.

DebertaV2ForSequenceClassification pools the first ([CLS]) token. A tiny model trained from random weights on a
few thousand prompts learns far less through that one token than from all of them: on the natural set, mean pooling
over the same encoder (the same weights and parameter names, so checkpoints, ONNX export and parity are unchanged)
is measured in docs/benchmarks.md, "Hand-written training prompts". The choice is `pooling: mean` in config.json.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import DebertaV2ForSequenceClassification

# The config.json key and value that select this head; a config without them is DeBERTa's own [CLS] head.
POOLING_KEY = "pooling"
MEAN = "mean"


def uses_mean_pooling(config: Any) -> bool:
    """True when a DebertaV2Config asks for the mean-pooled head."""
    return getattr(config, POOLING_KEY, None) == MEAN


@functools.cache
def mean_pooled_class() -> type[DebertaV2ForSequenceClassification]:
    """The mean-pooled subclass of DebertaV2ForSequenceClassification (built on first use: torch is imported lazily)."""
    import torch
    from transformers import DebertaV2ForSequenceClassification
    from transformers.modeling_outputs import SequenceClassifierOutput

    class MeanPooledDebertaV2ForSequenceClassification(DebertaV2ForSequenceClassification):
        """DeBERTa-v3 classifier over the mean of the unpadded tokens' last hidden states."""

        def forward(
            self,
            input_ids: torch.Tensor | None = None,
            attention_mask: torch.Tensor | None = None,
            token_type_ids: torch.Tensor | None = None,
            position_ids: torch.Tensor | None = None,
            inputs_embeds: torch.Tensor | None = None,
            labels: torch.Tensor | None = None,
            output_attentions: bool | None = None,
            output_hidden_states: bool | None = None,
            return_dict: bool | None = None,
            **kwargs: Any,
        ) -> SequenceClassifierOutput:
            """Logits of the mean-pooled prompt; `labels`, when given, add the cross-entropy loss."""
            outputs = self.deberta(
                input_ids,
                token_type_ids=token_type_ids,
                attention_mask=attention_mask,
                position_ids=position_ids,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                return_dict=True,
            )
            hidden = outputs.last_hidden_state
            if attention_mask is None:
                mask = torch.ones(hidden.shape[:2], dtype=hidden.dtype, device=hidden.device)
            else:
                mask = attention_mask.to(hidden.dtype)
            mean = (hidden * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp(min=1.0)
            # The pooler's dense layer and activation, on the mean as a one-token sequence: the same parameters.
            logits = self.classifier(self.dropout(self.pooler(mean.unsqueeze(1))))
            loss = None
            if labels is not None:
                loss = torch.nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
            return SequenceClassifierOutput(
                loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
            )

    return MeanPooledDebertaV2ForSequenceClassification
