"""Crafted model packages: extract_package writes only a bounded tree of files and directories inside its new
destination, and a refused archive leaves nothing behind (no partial directory, nothing outside it)."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml.package import PackageError, PackageLimits, extract_package


def _write(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _outside(root: Path, dest: Path) -> set[str]:
    """Every path under root except dest's tree and the archive: what an extraction must never add to."""
    return {str(p) for p in root.rglob("*") if not p.is_relative_to(dest) and p.suffix != ".gz"}


CRAFTED = {
    "traversal": [_file("../evil")],
    "nested traversal": [_file("model/../../evil")],
    "absolute": [_file("/tmp/evil-absolute")],
    "symlink out": [_special("link", tarfile.SYMTYPE, "/etc/passwd")],
    "symlink then write through it": [_special("d", tarfile.SYMTYPE, ".."), _file("d/evil")],
    "hard link": [_special("h", tarfile.LNKTYPE, "/etc/passwd")],
    "device": [_special("dev", tarfile.CHRTYPE)],
    "fifo": [_special("pipe", tarfile.FIFOTYPE)],
    "duplicate": [_file("a", b"1"), _file("a", b"2")],
    "files after a good one": [_file("intent_model.json", b"{}"), _file("../evil")],
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_archives_are_refused_and_leave_nothing(case: str, tmp_path: Path) -> None:
    archive = _write(tmp_path / "model.tar.gz", CRAFTED[case])
    dest = tmp_path / "out" / "model"
    with pytest.raises(PackageError):
        extract_package(archive, dest)
    assert not dest.exists() and not (tmp_path / "evil").exists()
    assert not Path("/tmp/evil-absolute").exists()


def test_a_size_bomb_stops_at_the_ratio_cap_and_leaves_nothing(tmp_path: Path) -> None:
    # 96 MiB of zeros gzip to about 100 KB: far below max_bytes, far above what such an archive may hold.
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size = 96 * 1024**2
        tar.addfile(info, _Zeros(info.size))
    assert archive.stat().st_size < 1024**2
    with pytest.raises(PackageError, match=r"unpacks to more than \d+ bytes"):
        extract_package(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_size_cap_and_a_file_count_cap(tmp_path: Path) -> None:
    big = _write(tmp_path / "big.tar.gz", [_file("a", os.urandom(4096)), _file("b", os.urandom(4096))])
    with pytest.raises(PackageError, match="unpacks to more than 6000 bytes"):
        extract_package(big, tmp_path / "big", PackageLimits(max_bytes=6000, ratio_floor=0))
    many = _write(tmp_path / "many.tar.gz", [_file(f"f{i}") for i in range(300)])
    with pytest.raises(PackageError, match="holds more than 256 entries"):
        extract_package(many, tmp_path / "many")
    assert not (tmp_path / "big").exists() and not (tmp_path / "many").exists()


def test_a_header_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.tar", [_file("model.onnx", b"y" * 4096)], mode="w")
    truncated = tmp_path / "cut.tar"
    truncated.write_bytes(good.read_bytes()[:1024])  # the header promises 4096 bytes; 512 follow
    with pytest.raises(PackageError):
        extract_package(truncated, tmp_path / "cut")
    assert not (tmp_path / "cut").exists()


def test_the_caps_come_from_the_environment() -> None:
    limits = PackageLimits.from_env({"MLOPS_PACKAGE_MAX_BYTES": "1000", "MLOPS_PACKAGE_MAX_FILES": "3"})
    assert (limits.max_bytes, limits.max_files) == (1000, 3)
    for bad in ("0", "-1", "lots"):
        with pytest.raises(PackageError, match="MLOPS_PACKAGE_MAX_FILES"):
            PackageLimits.from_env({"MLOPS_PACKAGE_MAX_FILES": bad})


class _Zeros(io.RawIOBase):
    """`size` zero bytes, produced as they are read (a bomb's payload without holding it in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


# ------------------------------------------------------------------------------------------------ property

SEGMENTS = st.sampled_from(["model", "onnx", "a", "..", ".", "", "/", "x" * 3, "\\", "ü"])
NAMES = st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join)
KINDS = st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE])
MEMBERS = st.lists(st.tuples(NAMES, KINDS, NAMES, st.binary(max_size=64)), max_size=8)
SMALL = PackageLimits(max_bytes=256, max_files=6, ratio_floor=0, max_ratio=1000)


@given(members=MEMBERS)
def test_any_archive_unpacks_inside_its_bounds_or_leaves_nothing(members: list[tuple[str, bytes, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-package-") as scratch:
        root = Path(scratch)
        entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
        for name, kind, target, data in members:
            if kind == tarfile.REGTYPE:
                entries.append(_file(name, data))
            else:
                entries.append(_special(name, kind, target))
        archive = _write(root / "model.tar.gz", entries)
        dest = root / "out"
        before = _outside(root, dest)
        try:
            model_dir = extract_package(archive, dest, SMALL)
        except PackageError:
            assert not dest.exists()
        else:
            assert model_dir.is_relative_to(dest)
            written = list(dest.rglob("*"))
            assert all(not p.is_symlink() and (p.is_file() or p.is_dir()) for p in written)
            assert len([p for p in written if p.is_file()]) <= SMALL.max_files
            assert sum(p.stat().st_size for p in written if p.is_file()) <= SMALL.max_bytes
        assert _outside(root, dest) == before
