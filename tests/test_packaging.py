"""The project builds as a wheel with no warning from the build backend (SPDX license, license files)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("ml", "inference", "pipelines", "model_registry", "benchmarks", "mlops_cli")


def test_the_wheel_builds_with_warnings_as_errors_and_carries_the_license(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    code = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    # -W error: any deprecation the backend reports (a license table, say) fails the build.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, str(tmp_path / "dist")],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    wheel = tmp_path / "dist" / result.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("intent_mlops-0.1.0.dist-info/METADATA").decode()
        assert "License-Expression: Apache-2.0" in metadata
        assert archive.read("intent_mlops-0.1.0.dist-info/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        # Data the library reads at run time travels with it (`mlops capacity plan` reads the price table).
        assert "inference/deploy/prices/sagemaker_realtime.json" in archive.namelist()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
