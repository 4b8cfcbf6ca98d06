"""The models the local endpoint serves: where a CreateModel call's files are, and a variant's loaded predictor."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tarfile
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.local.api import arn
from inference.predictor import OnnxPredictor, onnx_path
from inference.serving.config import ServerConfig
from inference.serving.payload import Limits
from inference.variants import DeploymentError
from ml.package import PackageLimits, extract_package

log = logging.getLogger(__name__)

# What DescribeEndpoint reports as the image when CreateModel names none.
DEFAULT_IMAGE = "local/intent-onnxruntime"


def model_path_from_url(url: str) -> Path:
    """`file:///abs/path` or `/abs/path` -> Path; anything else (s3://, relative paths) is an DeploymentError."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise DeploymentError(f"ModelDataUrl {url!r} names a remote host", hint="use file:///absolute/path")
        path = Path(urllib.parse.unquote(parsed.path))
    elif parsed.scheme == "":
        path = Path(url)
    else:
        raise DeploymentError(
            f"ModelDataUrl {url!r} is not a local path: the local endpoint serves file paths only",
            hint="download the model.tar.gz and pass file:///absolute/path/model.tar.gz",
        )
    if not path.is_absolute():
        raise DeploymentError(
            f"ModelDataUrl {url!r} is a relative path", hint="use an absolute path or file:///absolute/path"
        )
    return path


def check_model_source(path: Path, precision: str = "int8") -> Path:
    """A model directory with the ONNX graph, or a tar archive (checked on load), else ModelError/DeploymentError."""
    path = Path(path)
    if path.is_dir():
        onnx_path(path, precision)
    elif path.is_file():
        if not tarfile.is_tarfile(path):
            raise DeploymentError(f"{path} is neither a model directory nor a model.tar.gz", hint="pass either of them")
    else:
        raise DeploymentError(f"model not found: {path}", hint="pass an exported model directory or its model.tar.gz")
    return path


def extract_model(archive: Path, dest: Path) -> Path:
    """Unpack a SageMaker model.tar.gz into the new directory dest within the package limits (MLOPS_PACKAGE_MAX_*);
    return its model directory. A refused or failed extraction leaves nothing behind (ml.package.extract_package)."""
    return extract_package(archive, dest, PackageLimits.from_env())


@dataclass(frozen=True)
class ModelRecord:
    """A CreateModel call: where the model is and how its container would be configured."""

    name: str
    source: Path
    config: ServerConfig
    container: Mapping[str, Any]
    execution_role: str | None
    created: float

    @property
    def arn(self) -> str:
        """The model's ARN."""
        return arn("model", self.name)

    @property
    def limits(self) -> Limits:
        """The request limits the model's container would apply."""
        return self.config.limits

    @property
    def image(self) -> str:
        """The container image as CreateModel named it."""
        return str(self.container.get("Image") or DEFAULT_IMAGE)


class LoadedModel:
    """One variant's predictor and its own inference thread (never the event loop), retired once no request uses it."""

    def __init__(self, record: ModelRecord, predictor: OnnxPredictor, extracted: Path | None) -> None:
        self.record = record
        self.predictor = predictor
        self.loaded_at = time.time()
        # One inference at a time per variant: onnxruntime already spreads a call over the intra-op threads.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"variant-{record.name}")
        self.in_flight = 0
        self.retired = False
        self._extracted = extracted

    @classmethod
    def load(cls, record: ModelRecord, threads: int, work_dir: Path) -> LoadedModel:
        """Extract (for an archive), load and warm up; runs on a loader thread."""
        extracted = None
        model_dir = record.source
        if record.source.is_file():
            extracted = work_dir / "models" / f"{record.name}-{uuid.uuid4().hex[:8]}"
            model_dir = extract_model(record.source, extracted)
        try:
            c = record.config
            predictor = OnnxPredictor(
                model_dir,
                precision=c.precision,
                intra_op_threads=threads,
                max_length=c.max_length,
                max_batch=c.max_inputs,
                # Variants share the cores: idle spinning threads of one would steal the CPU the others need.
                allow_spinning=False,
            )
            predictor.warmup()
        except BaseException:
            if extracted is not None:
                shutil.rmtree(extracted, ignore_errors=True)
            raise
        return cls(record, predictor, extracted)

    @property
    def model_version(self) -> str:
        """The version the model directory reports."""
        return self.predictor.model_version

    async def classify(self, texts: list[str]) -> list[dict[str, Any]]:
        """Predict on this variant's inference thread."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.predictor.predict, texts)

    def acquire(self) -> None:
        """A request starts using this model (call right after routing, before any await)."""
        self.in_flight += 1

    def release(self) -> None:
        """A request is done with it; the last one out closes a retired model."""
        self.in_flight -= 1
        if self.retired and self.in_flight == 0:
            self._close()

    def retire(self) -> None:
        """No new request will be routed here; close now or when the in-flight ones finish."""
        if not self.retired:
            self.retired = True
            if self.in_flight == 0:
                self._close()

    def _close(self) -> None:
        self.executor.shutdown(wait=False)
        if self._extracted is not None:
            shutil.rmtree(self._extracted, ignore_errors=True)
        log.info("variant model released", extra={"model_name": self.record.name, "model_version": self.model_version})
