"""Drift of captured traffic against the training data of the model that serves it (`mlops monitor drift`).

`against` names the reference:
- a registry model (`models:/NAME@ALIAS`, `models:/NAME/VERSION`, `NAME/VERSION`, a bare version or alias;
  default the champion): its files, and the data version its `data_md5` lineage tag names;
- a data version (a DVC md5) or a JSON Lines data file: that data, with the model given as `model=` (a model
  directory or a registry reference; default the champion).

The reference sample is the held-out part (validation + test) of that data's split at the model's seed: texts the
model did not train on, so its confidence and embeddings there are what it shows on new, undrifted traffic. The
training split's label mix is drawn in the plot next to the intents check. The statistics live in
`inference.monitoring.drift`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from inference.monitoring.captures import CaptureError, CaptureSet, read_captures
from inference.monitoring.drift import (
    DEFAULT_ALPHA,
    DEFAULT_MIN_SAMPLES,
    DEFAULT_PERMUTATIONS,
    DRIFT,
    INSUFFICIENT,
    MMD_MAX_TEXTS,
    NO_DRIFT,
    DriftReport,
    Sample,
    compare,
    plot,
)
from ml.data import SplitConfig, file_md5, load_examples, split_examples
from ml.errors import DataError, MlopsError
from ml.settings import REGISTERED_MODEL_NAME, project_root

__all__ = [
    "DRIFT",
    "INSUFFICIENT",
    "NO_DRIFT",
    "CaptureError",
    "DriftReport",
    "Reference",
    "drift_report",
    "resolve_reference",
]

log = logging.getLogger(__name__)

CHAMPION_REF = f"models:/{REGISTERED_MODEL_NAME}@champion"
_MD5 = re.compile(r"^[0-9a-f]{32}$")
REFERENCE_SPLITS = ("validation", "test")


@dataclass
class Reference:
    """The reference of a drift report: the training data file, the model directory, and how they were found."""

    data_file: Path
    model_dir: Path
    seed: int
    description: dict[str, Any] = field(default_factory=dict)


def drift_report(
    capture: str,
    *,
    against: str | None = None,
    endpoint: str | None = None,
    variant: str | None = None,
    since: datetime | None = None,
    alpha: float = DEFAULT_ALPHA,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    out: Path | None = None,
    s3_client: Any = None,
    model: str | Path | None = None,
    repo: Path | None = None,
    permutations: int = DEFAULT_PERMUTATIONS,
) -> DriftReport:
    """Compare captured traffic with the reference `against` names; write the plot to `out` (a PNG) when given.

    model: the model directory or registry reference for a data-version `against` (default the champion).
    repo: the DVC repository holding the data versions (default the project root).
    """
    if not 0.0 < alpha < 1.0:
        raise MlopsError(f"alpha must be between 0 and 1, got {alpha}", hint="a usual choice is 0.01 or 0.05")
    if min_samples < 2:
        raise MlopsError(f"min_samples must be at least 2, got {min_samples}")
    captures = read_captures(capture, endpoint=endpoint, variant=variant, since=since, s3_client=s3_client)
    with resolve_reference(against, model=model, repo=repo) as reference:
        report = _compare(captures, reference, alpha=alpha, min_samples=min_samples, permutations=permutations)
    if out is not None:
        report.plot_path = plot(report, Path(out))
    log.info("drift report: %s (%d texts against %d)", report.verdict, report.current_size, report.reference_size)
    return report


def _compare(
    captures: CaptureSet, reference: Reference, *, alpha: float, min_samples: int, permutations: int
) -> DriftReport:
    from inference.monitoring.features import Featurizer

    splits = split_examples(load_examples(reference.data_file), SplitConfig(seed=reference.seed))
    held_out = [e.text for name in REFERENCE_SPLITS for e in splits[name]]
    featurizer = Featurizer(reference.model_dir)
    ref_predictions = featurizer.predict(held_out)
    ref_features = featurizer.features(held_out, embed_limit=MMD_MAX_TEXTS)
    texts, predictions = captures.texts(), captures.predictions()
    cur_features = featurizer.features(texts, embed_limit=MMD_MAX_TEXTS)
    report = compare(
        Sample(
            intents=[p["intent"] for p in ref_predictions],
            confidences=np.array([p["confidence"] for p in ref_predictions], dtype=float),
            lengths=ref_features.lengths,
            unknown=ref_features.unknown,
            embeddings=ref_features.embeddings,
        ),
        Sample(
            intents=[p["intent"] for p in predictions],
            confidences=np.array([float(p["confidence"]) for p in predictions], dtype=float),
            lengths=cur_features.lengths,
            unknown=cur_features.unknown,
            embeddings=cur_features.embeddings,
        ),
        labels=featurizer.predictor.labels,
        alpha=alpha,
        min_samples=min_samples,
        permutations=permutations,
        training_labels=[e.intent for e in splits["train"]],
    )
    report.reference = {
        **reference.description,
        "split_seed": reference.seed,
        "reference_splits": list(REFERENCE_SPLITS),
        "precision": featurizer.precision,
        "representation": featurizer.representation,
    }
    report.capture = captures.summary()
    return report


@contextlib.contextmanager
def resolve_reference(
    against: str | None, *, model: str | Path | None = None, repo: Path | None = None
) -> Iterator[Reference]:
    """The data file and model directory `against` names (see the module docstring); a registry model is
    downloaded to a temporary directory, removed when the block ends."""
    from model_registry.artifacts import materialized

    repo = Path(repo) if repo is not None else project_root()
    text = (against or CHAMPION_REF).strip()
    description: dict[str, Any] = {"against": text}
    if _MD5.match(text) or Path(text).is_file():
        data_file = _data_file(repo, text) if _MD5.match(text) else Path(text)
        local_model = model is not None and Path(model).is_dir()
        model_ref = str(model) if local_model else _registry_uri(None if model is None else str(model), what="model")
        description.update({"data_md5": file_md5(data_file), "data_file": str(data_file), "model": model_ref})
        seed = SplitConfig().seed
        if model_ref.startswith("models:/"):
            seed = _version_seed(model_ref)[1]
        with materialized(model_ref) as model_dir:
            yield Reference(data_file, model_dir, seed, description)
        return
    uri = _registry_uri(text)
    version, seed = _version_seed(uri)
    md5 = version.get("data_md5")
    if not md5:
        raise DataError(
            f"{uri} (version {version['version']}) has no data_md5 lineage tag: its training data is unknown",
            hint="pass the data version with --against MD5 and the model with --model",
        )
    data_file = _data_file(repo, md5)
    description.update(
        {
            "model": f"models:/{uri[len('models:/') :].split('@')[0].split('/')[0]}/{version['version']}",
            "data_md5": md5,
            "data_file": str(data_file),
        }
    )
    with materialized(uri) as model_dir:
        yield Reference(data_file, model_dir, seed, description)


def _registry_uri(text: str | None, *, what: str = "against") -> str:
    """`models:/NAME@ALIAS` or `models:/NAME/VERSION` for any registry reference form (default the champion)."""
    from model_registry.artifacts import is_registry_ref, parse_model_ref

    if text is None:
        return CHAMPION_REF
    if is_registry_ref(text):
        parse_model_ref(text)  # RegistryError for a malformed URI
        return text
    if text.count("/") == 1 and not text.startswith("/"):
        name, version = text.split("/")
        if name and version.isdigit():
            return f"models:/{name}/{version}"
    if ("/" in text or text.endswith((".json", ".jsonl"))) and what == "model":
        raise MlopsError(
            f"--model {text!r} is neither a model directory nor a registry model",
            hint="give a directory written by `mlops train`, models:/NAME@ALIAS, models:/NAME/VERSION or NAME/VERSION",
        )
    if "/" in text or text.endswith((".json", ".jsonl")):
        raise MlopsError(
            f"--against {text!r} is neither a data file, a data version (md5) nor a registry model",
            hint="use a DVC md5, a JSON Lines file, models:/NAME@ALIAS, models:/NAME/VERSION or NAME/VERSION",
        )
    name, ref = parse_model_ref(text)
    return f"models:/{name}/{ref}" if ref.isdigit() else f"models:/{name}@{ref}"


def _version_seed(uri: str) -> tuple[dict[str, Any], int]:
    from model_registry.artifacts import parse_model_ref
    from model_registry.queries import get_version

    name, ref = parse_model_ref(uri)
    version = get_version(ref, name)
    params = version.get("params") or {}
    raw = params.get("seed", params.get("Seed"))
    try:
        seed = int(raw) if raw is not None else SplitConfig().seed
    except ValueError:
        seed = SplitConfig().seed
    return version, seed


def _data_file(repo: Path, md5: str) -> Path:
    """The file of data version `md5`: the workspace copy when it is that version, else DVC's cache or remote."""
    from ml.dvc_data import DATA_PATH, stored_copy

    workspace = repo / DATA_PATH
    if workspace.is_file() and file_md5(workspace) == md5:
        return workspace
    if not (repo / ".dvc").is_dir():
        raise DataError(
            f"cannot find data version {md5}: {repo} is not a DVC repository",
            hint="run from the project root, or pass --against with a data file",
        )
    found = stored_copy(repo, md5)
    if found is None:
        raise DataError(
            f"data version {md5} is neither in the workspace, DVC's cache nor the default remote",
            hint="`dvc pull` the revision that pinned it (or `mlops data pull`), then run again",
        )
    return found
