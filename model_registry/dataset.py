"""The training data as an MLflow dataset: its source names the DVC remote URL of the exact bytes and the git revision
whose `dvc.lock` pins them; its digest is the DVC md5, so MLflow's dataset view names the exact DVC version."""

from __future__ import annotations

from typing import Any

from mlflow.data.dataset_source import DatasetSource
from mlflow.data.meta_dataset import MetaDataset

DATASET_NAME = "intent-prompts"


class DvcDatasetSource(DatasetSource):
    """A file DVC versions: where its remote keeps it (`url`, empty when unknown), its `path` in the repository and
    the git revision (`rev`) that pins it."""

    def __init__(self, url: str, path: str, rev: str) -> None:
        self.url, self.path, self.rev = url, path, rev

    @staticmethod
    def _get_source_type() -> str:
        return "dvc"

    def load(self, dst_path: str | None = None) -> str:
        """Download the file from the DVC remote; return its local path."""
        import mlflow

        if not self.url:
            raise ValueError(f"no DVC remote URL recorded for {self.path}: `dvc pull` it at git revision {self.rev}")
        return str(mlflow.artifacts.download_artifacts(artifact_uri=self.url, dst_path=dst_path))

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False  # built from a lineage record, never guessed from a string

    @classmethod
    def _resolve(cls, raw_source: Any) -> DvcDatasetSource:
        raise NotImplementedError("a DVC dataset source is built from its URL, path and revision")

    def to_dict(self) -> dict[str, Any]:
        """The source as MLflow records it: url, path, rev."""
        return {"url": self.url, "path": self.path, "rev": self.rev}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> DvcDatasetSource:
        """The source of a recorded to_dict()."""
        return cls(str(source_dict.get("url", "")), str(source_dict["path"]), str(source_dict.get("rev", "")))


def training_dataset(*, url: str, path: str, rev: str, md5: str) -> MetaDataset:
    """The MLflow dataset of the training data: the DVC source and the md5 as digest."""
    # MetaDataset is concrete at run time; mlflow's annotations say otherwise.
    return MetaDataset(DvcDatasetSource(url, path, rev), name=DATASET_NAME, digest=md5)  # type: ignore[abstract]
