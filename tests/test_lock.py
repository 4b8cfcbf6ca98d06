"""The environment is the locked one: requirements.lock pins every package (with hashes) within pyproject.toml's
ranges, and the environment the tests run in was installed from it (`make setup`)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

LOCK = ROOT / "requirements.lock"
# The extras `make setup` installs (and `make lock` resolves).
EXTRAS = ("test", "lint", "offline", "notebook", "bench")


def pins(path: str = "requirements.lock") -> dict[str, str]:
    """name -> version of a lock file."""
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / path).read_text(), flags=re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def requirements() -> list[Requirement]:
    """pyproject.toml's dependencies and those of the installed extras (not the project's own extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = [Requirement(r) for r in project["dependencies"]]
    for extra in EXTRAS:
        out += [Requirement(r) for r in project["optional-dependencies"].get(extra, [])]
    return [r for r in out if canonicalize_name(r.name) != "intent-mlops"]


def test_every_pyproject_requirement_is_locked_within_its_range_with_hashes() -> None:
    locked = pins()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements.lock: run `make lock`"
        assert Version(locked[name]) in requirement.specifier.__class__(str(requirement.specifier), prereleases=True), (
            f"requirements.lock pins {name}=={locked[name]}, outside pyproject.toml's {requirement}: run `make lock`"
        )
    text = LOCK.read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry.split("\n")[0])


def test_the_environment_is_the_locked_one() -> None:
    """`make setup` installs the lock: every locked package is installed at its locked version."""
    wrong = {}
    for name, version in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or Version(installed) != Version(version):
            wrong[name] = (version, installed)
    assert not wrong, f"installed packages differ from requirements.lock (locked, installed): {wrong}"


def test_the_serving_lock_pins_the_serving_requirements() -> None:
    locked = pins("inference/serving/requirements.lock")
    lines = (ROOT / "inference" / "serving" / "requirements.txt").read_text().splitlines()
    for requirement in [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]:
        assert Version(locked[canonicalize_name(requirement.name)]) in requirement.specifier, requirement
