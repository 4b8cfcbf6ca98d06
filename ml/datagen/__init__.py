"""Deterministic generator of the labelled prompt dataset for the intent classifier.

The data is built compositionally: every intent has many sentence frames (questions, imperatives,
polite requests, first-person needs, context-first prompts, terse keyword prompts, multi-sentence
prompts with background) whose alternatives ``[a|b|]`` and slots ``{name}`` are filled from rich
pools. Generic topics and domains are shared across intents on purpose, so a classifier has to
learn the intent cue (the verb and the structure of the request) rather than topic words.

Package map, from the bottom up (each module imports only those above it in this list):

* ``engine``: the template language (frames, ``[a|b]`` alternatives, ``{name}`` slots and their
  modifiers, the a(n) article rule, tidying) and the ``Frame``/``IntentSpec`` types.
* ``noise``: typos, lower-casing, dropped punctuation and text-speak for a minority of prompts, and
  the casual chat register (all lower-case, no final full stop) for about a quarter of them.
* ``slots``: slot helpers and the pools, passages and sign-offs that several intents share.
* ``intents``: one module per intent table (with the slot generators only that intent uses);
  ``intents.SPECS`` maps intent names to specs in taxonomy order.
* ``generator``: ``generate()`` (complexity labels, acceptance, deduplication) and ``write_jsonl()``.
* ``__main__``: ``python -m ml.datagen --out PATH --seed N --per-intent N``, the DVC stage command.

The DVC stage (``dvc.yaml``, stage ``generate``) depends on this whole directory, and ``dvc.lock``
pins the md5 of its output: any change here that alters a single random draw changes the dataset.
"""

from __future__ import annotations

from ml.datagen.generator import generate, write_jsonl

__all__ = ["generate", "write_jsonl"]
