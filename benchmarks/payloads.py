"""Prompts to send: our test split (real prompts of varied lengths) or a file."""

from __future__ import annotations

import json
from pathlib import Path

from ml.errors import DataError


def load_payloads(path: Path | None = None, *, limit: int | None = None) -> list[str]:
    """Texts of a JSONL file (its "text" field) or of a plain-text file (a prompt per line); default: the test split."""
    if path is None:
        from ml.data import load_examples, split_examples
        from ml.settings import default_data_path

        texts = [e.text for e in split_examples(load_examples(default_data_path()))["test"]]
    else:
        if not Path(path).is_file():
            raise DataError(f"payload file not found: {path}")
        texts = []
        for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                try:
                    texts.append(str(json.loads(line)["text"]))
                except (json.JSONDecodeError, KeyError) as exc:
                    raise DataError(f"{path}:{lineno}: expected a JSON object with a 'text' field") from exc
            else:
                texts.append(line)
    if not texts:
        raise DataError(f"no payloads in {path or 'the test split'}")
    return texts[:limit] if limit else texts
