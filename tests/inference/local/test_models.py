"""Loading a variant's model package on the local endpoint: within the package caps, nothing left on failure."""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import pytest

from inference.local.models import LoadedModel, ModelRecord
from inference.serving.config import ServerConfig
from ml.package import PackageError


def test_a_compression_bomb_is_refused_and_leaves_no_directory(tmp_path: Path) -> None:
    # Zeros compress about a thousandfold: a small archive that would unpack far past what its size allows.
    archive = tmp_path / "model.tar.gz"
    size = 96 * 1024**2
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size = size
        tar.addfile(info, io.BufferedReader(io.BytesIO(bytes(size))))
    record = ModelRecord("bomb", archive, ServerConfig(), {}, None, time.time())
    with pytest.raises(PackageError, match="unpacks to more than"):
        LoadedModel.load(record, threads=1, work_dir=tmp_path / "work")
    assert not [p for p in (tmp_path / "work").rglob("*") if p.is_file()]
    assert not list((tmp_path / "work" / "models").iterdir())  # no partial directory to outlive the endpoint
