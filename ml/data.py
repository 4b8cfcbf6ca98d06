"""Load, validate and split the labelled prompt dataset (JSON Lines: text, intent, complexity)."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ml.errors import DataError
from ml.taxonomy import COMPLEXITIES, INTENTS

SPLITS: tuple[str, ...] = ("train", "validation", "test")
# Two prompts whose word sets overlap this much (Jaccard) are one prompt reworded ("hey, how's it going?" and
# "Hey, how's your day going?": 0.57): a held-out prompt's near-duplicate must not be trained on (docs/labeling.md,
# "The evaluation set and feedback").
NEAR_DUPLICATE_JACCARD = 0.5


@dataclass(frozen=True)
class Example:
    """One labelled prompt; `source` names where a row added by `mlops data add` came from (None: generated)."""

    text: str
    intent: str
    complexity: str | None = None
    source: str | None = None

    def to_json(self) -> str:
        """Serialise as one canonical JSON line (no trailing newline)."""
        row = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps(row, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class SplitConfig:
    """Fractions and seed of the deterministic stratified split."""

    validation_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 13

    def __post_init__(self) -> None:
        for name in ("validation_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 < value < 0.5:
                raise DataError(f"{name} must be in (0, 0.5), got {value}")


def normalize_key(text: str) -> str:
    """Key under which two prompts count as duplicates: case-, whitespace- and end-punctuation-insensitive."""
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip(" .!?")


def parse_row(raw: str, where: str) -> Example:
    """Parse and check one JSON line of a dataset (text, intent in the taxonomy, complexity, source); DataError
    naming `where` otherwise."""
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg})", hint="each line must be one JSON object") from exc
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: 'text' must be a non-empty string, got {text!r}")
    intent = row.get("intent")
    if intent not in INTENTS:
        raise DataError(
            f"{where}: intent {intent!r} is not in the taxonomy",
            hint=f"use one of: {', '.join(INTENTS)}",
        )
    complexity = row.get("complexity")
    if complexity is not None and complexity not in COMPLEXITIES:
        raise DataError(
            f"{where}: complexity {complexity!r} is not one of {', '.join(COMPLEXITIES)}",
        )
    source = row.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise DataError(f"{where}: 'source' must be a non-empty string when present, got {source!r}")
    return Example(text=text, intent=intent, complexity=complexity, source=source)


def word_set(text: str) -> frozenset[str]:
    """The lower-cased words of a prompt, the unit of the near-duplicate test."""
    return frozenset(re.findall(r"\w+", text.lower()))


class NearDuplicates:
    """Finds, for a prompt, a reference prompt sharing at least `threshold` of their words' union (Jaccard)."""

    def __init__(self, texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD) -> None:
        self.threshold = threshold
        self._sets = [word_set(t) for t in texts]
        self._texts = list(texts)
        self._by_word: dict[str, list[int]] = defaultdict(list)
        for index, words in enumerate(self._sets):
            for word in words:
                self._by_word[word].append(index)

    def match(self, text: str) -> tuple[str, float] | None:
        """The most similar reference prompt and its similarity when it reaches the threshold, else None."""
        words = word_set(text)
        shared = Counter(i for word in words for i in self._by_word.get(word, ()))
        best: tuple[str, float] | None = None
        for index, common in shared.items():
            similarity = common / len(words | self._sets[index])
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (self._texts[index], similarity)
        return best


def load_examples(path: Path, *, allow_duplicates: bool = False) -> list[Example]:
    """Read and validate a JSONL dataset; raise DataError naming the first bad row."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a directory, expected a .jsonl file")
    if not path.exists():
        raise DataError(
            f"dataset not found: {path}",
            hint="run `mlops data pull` to materialise the DVC-tracked data, or pass --data PATH",
        )
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for lineno, raw in utf8_lines(path):
        if not raw.strip():
            continue
        example = parse_row(raw, f"{path}:{lineno}")
        key = normalize_key(example.text)
        if key in seen and not allow_duplicates:
            raise DataError(
                f"{path}:{lineno}: duplicate of line {seen[key]} ({example.text!r})",
                hint="remove one of the two rows; duplicates would leak between splits",
            )
        seen.setdefault(key, lineno)
        examples.append(example)
    if not examples:
        raise DataError(f"dataset is empty: {path}", hint="it needs at least one labelled row per intent")
    return examples


def load_held_out(path: Path, training: Sequence[Example]) -> list[Example]:
    """Load a held-out evaluation set (validated as any dataset), refusing a prompt that is also in `training`."""
    examples = load_examples(path)
    trained = {normalize_key(e.text) for e in training}
    leaked = [e.text for e in examples if normalize_key(e.text) in trained]
    if leaked:
        raise DataError(
            f"{path}: {len(leaked)} prompt(s) are also in the training data, the first: {leaked[0]!r}",
            hint="a held-out set must be unseen: reword or remove those rows (docs/labeling.md)",
        )
    return examples


def utf8_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of a UTF-8 file; DataError naming the first line that is not UTF-8."""
    try:
        with path.open("rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                try:
                    yield lineno, raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataError(
                        f"{path}:{lineno}: not UTF-8 text ({exc.reason}: {raw[exc.start : exc.start + 1]!r} at byte "
                        f"{exc.start + 1} of the line)",
                        hint="save the dataset as UTF-8 JSON Lines, e.g. `iconv -f LATIN1 -t UTF-8 IN > OUT`",
                    ) from None
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the path and its permissions"
        ) from exc


def write_examples(examples: list[Example], path: Path) -> None:
    """Write examples as canonical JSON Lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(e.to_json() + "\n" for e in examples), encoding="utf-8")


def split_examples(examples: list[Example], config: SplitConfig | None = None) -> dict[str, list[Example]]:
    """Split deterministically into train / validation / test: generated rows stratified by intent, added rows
    (those with a `source`) by a stable hash of their text, so adding rows never moves a row to another side."""
    config = config or SplitConfig()
    by_intent: dict[str, list[Example]] = defaultdict(list)
    added: list[Example] = []
    for example in examples:
        if example.source is None:
            by_intent[example.intent].append(example)
        else:
            added.append(example)
    added_intents = {e.intent for e in added}
    rng = random.Random(config.seed)
    splits: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for intent in INTENTS:
        # Sorting first makes the split independent of the file's row order.
        group = sorted(by_intent.get(intent, []), key=lambda e: e.text)
        if not group and intent in added_intents:
            continue  # only added rows for this intent: their hashes place them
        if not group:
            raise DataError(f"intent {intent!r} has no examples", hint="every intent needs examples in every split")
        rng.shuffle(group)
        n_val = max(1, round(len(group) * config.validation_fraction))
        n_test = max(1, round(len(group) * config.test_fraction))
        if len(group) < n_val + n_test + 1:
            raise DataError(f"intent {intent!r} has {len(group)} examples; at least 3 are needed to split it")
        splits["validation"].extend(group[:n_val])
        splits["test"].extend(group[n_val : n_val + n_test])
        splits["train"].extend(group[n_val + n_test :])
    # The stratified shuffle above reshuffles a whole intent when its group grows (adding 10 rows once moved 258 of
    # 400 old test rows into training), so added rows stay out of it: each goes where its own hash says, whatever
    # else the dataset holds (docs/architecture.md, "Feedback and data versions").
    for example in added:
        splits[hashed_split(example.text, config)].append(example)
    check_disjoint(splits)
    return splits


def hashed_split(text: str, config: SplitConfig | None = None) -> str:
    """The split an added row belongs to: a uniform draw from sha256(seed, normalised text) against the fractions."""
    config = config or SplitConfig()
    digest = hashlib.sha256(f"{config.seed}\0{normalize_key(text)}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    if draw < config.validation_fraction:
        return "validation"
    if draw < config.validation_fraction + config.test_fraction:
        return "test"
    return "train"


def select_split(examples: list[Example], split: str, seed: int) -> list[Example]:
    """One split of the deterministic stratified split at `seed`; 'all': every example."""
    return examples if split == "all" else split_examples(examples, SplitConfig(seed=seed))[split]


def check_disjoint(splits: dict[str, list[Example]]) -> None:
    """Raise DataError if any prompt appears in two splits."""
    owner: dict[str, str] = {}
    for name, rows in splits.items():
        for example in rows:
            key = normalize_key(example.text)
            if key in owner and owner[key] != name:
                raise DataError(f"prompt {example.text!r} is in both {owner[key]!r} and {name!r} splits")
            owner[key] = name


def write_splits(splits: dict[str, list[Example]], out_dir: Path, *, source_md5: str | None = None) -> dict:
    """Write `<split>.jsonl` files and a `manifest.json` (counts, md5s, source data md5); return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"source_md5": source_md5, "splits": {}}
    for name, rows in splits.items():
        path = out_dir / f"{name}.jsonl"
        write_examples(rows, path)
        manifest["splits"][name] = {
            "rows": len(rows),
            "md5": file_md5(path),
            "per_intent": dict(sorted(Counter(e.intent for e in rows).items())),
        }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def read_split(split_dir: Path, name: str) -> list[Example]:
    """Load one split written by `write_splits`."""
    if name not in SPLITS:
        raise DataError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
    return load_examples(Path(split_dir) / f"{name}.jsonl")


def read_manifest(split_dir: Path) -> dict:
    """Load the manifest written next to the splits."""
    path = Path(split_dir) / "manifest.json"
    if not path.exists():
        raise DataError(
            f"no manifest.json in {split_dir}", hint="produce the splits with `mlops data split` or the prepare step"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def file_md5(path: Path) -> str:
    """MD5 of a file's bytes, the same digest DVC 3 records for a single file."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
