"""The SageMaker model package: a deterministic model.tar.gz with an accepted ONNX export and what serving needs;
and its safe extraction (bounded in size and entries, nothing outside its directory, nothing left on failure)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import logging
import lzma
import os
import shutil
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.errors import ModelError
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


def served_files(model_dir: Path, onnx_dir: Path | None = None) -> dict[str, Path]:
    """What serving reads, by file name: the model directory's PACKAGE_MODEL_FILES and the accepted export's graphs
    and report (in onnx_dir, default the model directory); ModelError without an accepted export."""
    model_dir = check_model_dir(model_dir)
    onnx_dir = Path(onnx_dir) if onnx_dir is not None else model_dir
    report = read_export_report(onnx_dir)
    files = {name: model_dir / name for name in PACKAGE_MODEL_FILES if (model_dir / name).is_file()}
    files.update({name: onnx_dir / name for name in (*report["files"], REPORT_FILE)})
    return files


def package_model(model_dir: Path, out_path: Path, *, metadata: dict[str, Any], onnx_dir: Path | None = None) -> Path:
    """Write a deterministic model.tar.gz: ONNX graphs, tokenizer, label map, config, report and metadata.json."""
    entries = served_files(model_dir, onnx_dir)
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


# ---------------------------------------------------------------------------------------------- extraction

MAX_BYTES_ENV = "MLOPS_PACKAGE_MAX_BYTES"
MAX_FILES_ENV = "MLOPS_PACKAGE_MAX_FILES"
MAX_RATIO_ENV = "MLOPS_PACKAGE_MAX_RATIO"
_CHUNK = 1 << 20


class PackageError(ModelError):
    """A model package that cannot be unpacked safely: unreadable, too large, or holding what no package holds."""


@dataclass(frozen=True)
class PackageLimits:
    """How much an unpacked model package may hold: uncompressed bytes, and entries (files and directories)."""

    # The largest preset's package (base: fp32 and int8 graphs) unpacks to about 1 GB; four times that leaves room
    # for larger from_pretrained models (docs/operations.md#failure-modes).
    max_bytes: int = 4 * 1024**3
    # package_model writes about ten entries; hundreds come only from a crafted archive.
    max_files: int = 256
    # ONNX weights barely compress; beyond ratio_floor bytes, unpacking to more than this many times the archive's
    # size is a compression bomb, however far below max_bytes it stays.
    max_ratio: int = 50
    ratio_floor: int = 64 * 1024**2

    def allowed_bytes(self, archive_bytes: int) -> int:
        """How many bytes an archive of `archive_bytes` may unpack to."""
        return min(self.max_bytes, max(self.ratio_floor, self.max_ratio * archive_bytes))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PackageLimits:
        """The defaults, overridden by MLOPS_PACKAGE_MAX_BYTES / _MAX_FILES / _MAX_RATIO (positive integers)."""
        env = os.environ if environ is None else environ
        values = {}
        variables = (("max_bytes", MAX_BYTES_ENV), ("max_files", MAX_FILES_ENV), ("max_ratio", MAX_RATIO_ENV))
        for field_name, variable in variables:
            text = env.get(variable, "").strip()
            if not text:
                continue
            try:
                values[field_name] = int(text)
            except ValueError:
                values[field_name] = 0
            if values[field_name] <= 0:
                raise PackageError(f"{variable}={text!r} is not a positive integer", hint=f"e.g. {variable}=1000")
        return cls(**values)


def extract_package(archive: Path, dest: Path, limits: PackageLimits | None = None) -> Path:
    """Unpack a model.tar.gz into the new directory dest and return its model directory; PackageError if unsafe.

    Only regular files and directories with relative names inside dest are written, counted against `limits`
    before their bytes are read; links, devices, absolute or `..` names, duplicates and archives over a limit are
    refused, and a refused or failed extraction removes dest.
    """
    archive, dest = Path(archive), Path(dest)
    limits = limits or PackageLimits.from_env()
    dest.mkdir(parents=True)
    try:
        _extract(archive, dest, limits)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    if (dest / MODEL_INFO_FILE).is_file():
        return dest
    # Archives made with `tar -C parent model/` hold the model one directory down.
    children = [p for p in dest.iterdir() if p.is_dir()]
    if len(children) == 1 and (children[0] / MODEL_INFO_FILE).is_file():
        return children[0]
    return dest


class _Bounded(io.RawIOBase):
    """A decompressed stream that refuses to yield more than `limit` bytes: a compression bomb stops here."""

    def __init__(self, raw: io.BufferedIOBase, limit: int, what: str) -> None:
        self.raw, self.limit, self.what, self.total = raw, limit, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        self.total += len(data)
        if self.total > self.limit:
            raise PackageError(
                f"{self.what} decompresses to more than {self.limit} bytes",
                hint=f"a model package this large is refused; raise {MAX_BYTES_ENV} / {MAX_RATIO_ENV} if it is genuine",
            )
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def _tar_stream(archive: Path, limits: PackageLimits) -> Iterator[tarfile.TarFile]:
    with ExitStack() as stack:
        raw = stack.enter_context(archive.open("rb"))
        magic = raw.read(6)
        raw.seek(0)
        stream: io.BufferedIOBase = raw
        if magic.startswith(b"\x1f\x8b"):
            stream = stack.enter_context(gzip.GzipFile(fileobj=raw))
        elif magic.startswith(b"BZh"):
            stream = stack.enter_context(bz2.BZ2File(raw))
        elif magic.startswith(b"\xfd7zXZ"):
            stream = stack.enter_context(lzma.LZMAFile(raw))
        # Headers and padding: at most a few blocks per entry besides the files' bytes.
        allowed = limits.allowed_bytes(archive.stat().st_size)
        bounded = _Bounded(stream, allowed + 64 * 1024 * (limits.max_files + 16), archive.name)
        yield stack.enter_context(tarfile.open(fileobj=io.BufferedReader(bounded, _CHUNK), mode="r|"))


def _extract(archive: Path, dest: Path, limits: PackageLimits) -> None:
    entries = total = 0
    allowed = limits.allowed_bytes(archive.stat().st_size)
    seen: set[tuple[str, ...]] = set()
    try:
        with _tar_stream(archive, limits) as tar:
            for member in tar:
                entries += 1
                if entries > limits.max_files:
                    raise PackageError(
                        f"{archive.name} holds more than {limits.max_files} entries",
                        hint=f"a model package holds about ten; raise {MAX_FILES_ENV} if this one is genuine",
                    )
                parts = _safe_parts(archive, member)
                if not parts:
                    continue  # "./": the archive's own root
                if parts in seen:
                    raise PackageError(f"{archive.name} holds {member.name!r} twice")
                seen.add(parts)
                target = dest.joinpath(*parts)
                if member.isdir():
                    target.mkdir(mode=0o755, parents=True, exist_ok=True)
                    continue
                total += member.size
                if total > allowed:
                    raise PackageError(
                        f"{archive.name} ({archive.stat().st_size} bytes) unpacks to more than {allowed} bytes "
                        f"({member.name!r} alone is {member.size})",
                        hint=f"a model package this large is refused; raise {MAX_BYTES_ENV} (and {MAX_RATIO_ENV}, "
                        f"for an archive that unpacks to over {limits.max_ratio} times its size) if it is genuine",
                    )
                target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                _write(tar, member, target)
    except PackageError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise PackageError(
            f"{archive.name} cannot be unpacked: {type(exc).__name__}: {exc}",
            hint="deploy a model.tar.gz made by `mlops export --package` or the pipeline",
        ) from exc


def _safe_parts(archive: Path, member: tarfile.TarInfo) -> tuple[str, ...]:
    """The member's path components under dest; PackageError for any entry a package never holds."""
    name = member.name
    # Only what package_model writes (REGTYPE; AREGTYPE from other tars): no links, devices, FIFOs, sparse files.
    if not (member.isdir() or member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)):
        kinds = {tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hard link", tarfile.CHRTYPE: "character device"}
        kinds.update({tarfile.BLKTYPE: "block device", tarfile.FIFOTYPE: "FIFO", tarfile.GNUTYPE_SPARSE: "sparse file"})
        kind = kinds.get(member.type, f"entry of type {member.type!r}")
        raise PackageError(f"{archive.name}: {name!r} is a {kind}; a model package holds only files and directories")
    if member.size < 0:
        raise PackageError(f"{archive.name}: {name!r} declares a negative size")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or ".." in parts:
        raise PackageError(
            f"{archive.name}: {name!r} is not a relative path inside the package",
            hint="a model package holds relative names only (no absolute paths, no '..')",
        )
    if not parts and not member.isdir():
        raise PackageError(f"{archive.name}: a file entry has no name ({name!r})")
    return parts


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    """Copy one member's bytes into a new file (never through an existing path or link)."""
    source = tar.extractfile(member)
    if source is None:
        raise PackageError(f"{member.name!r} has no data")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with source, os.fdopen(fd, "wb") as out:
        written = 0
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            out.write(chunk)
    if written != member.size:
        raise PackageError(f"{member.name!r} holds {written} bytes, its header says {member.size}")
