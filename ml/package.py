"""The SageMaker model package: a deterministic model.tar.gz with an accepted ONNX export and what serving needs."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import tarfile
from pathlib import Path
from typing import Any

from ml.export import REPORT_FILE, read_export_report
from ml.model import METADATA_FILE, MODEL_INFO_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, check_model_dir
from ml.parity import sha256_file

log = logging.getLogger(__name__)

# Files of the model directory a server needs besides the ONNX graphs (tokenizer_config.json is optional).
PACKAGE_MODEL_FILES = ("config.json", TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, MODEL_INFO_FILE)
# A fixed timestamp for every archive entry (1980-01-01, the usual reproducible-build epoch): same inputs, same bytes.
PACKAGE_MTIME = 315532800


def _created_by() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"intent-mlops {version('intent-mlops')}"
    except PackageNotFoundError:
        return "intent-mlops"


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, PACKAGE_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def package_model(model_dir: Path, out_path: Path, *, metadata: dict[str, Any], onnx_dir: Path | None = None) -> Path:
    """Write a deterministic model.tar.gz: ONNX graphs, tokenizer, label map, config, report and metadata.json."""
    model_dir = check_model_dir(model_dir)
    onnx_dir = Path(onnx_dir) if onnx_dir is not None else model_dir
    report = read_export_report(onnx_dir)
    entries = {name: model_dir / name for name in PACKAGE_MODEL_FILES if (model_dir / name).is_file()}
    entries.update({name: onnx_dir / name for name in (*report["files"], REPORT_FILE)})
    meta = {
        "created_by": _created_by(),
        **metadata,
        "files": {name: sha256_file(path) for name, path in sorted(entries.items())},
    }
    meta_bytes = (json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n").encode()

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    try:
        # No file name and mtime 0 in the gzip header, fixed owner and mtime per entry, sorted entries:
        # the same inputs give the same bytes (and so the same S3 ETag / checksum).
        with (
            tmp.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
        ):
            for name in sorted([*entries, METADATA_FILE]):
                if name == METADATA_FILE:
                    tar.addfile(_tar_info(name, len(meta_bytes)), io.BytesIO(meta_bytes))
                    continue
                with entries[name].open("rb") as handle:
                    tar.addfile(_tar_info(name, entries[name].stat().st_size), handle)
        tmp.replace(out_path)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("packaged %s (%d files, %d bytes)", out_path, len(entries) + 1, out_path.stat().st_size)
    return out_path
