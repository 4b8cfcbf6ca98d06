"""Data, tokenizer, model presets, training, evaluation and export for the intent classifier."""
