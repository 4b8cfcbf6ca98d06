"""download_model: a registered version's files, by alias or version, to a local directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model_registry.artifacts import cached_package, download_model, download_package, parse_model_ref
from model_registry.registration import Lineage, register_model
from model_registry.tracking import RegistryError
from tests.model_registry.standins import NAME, client, register_standin

LINEAGE = Lineage(
    data_md5="0" * 32, git_commit="c0ffee" * 6, params={"model": "tiny"}, metrics={"macro_f1": 0.9}, history=[]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/intent-classifier@champion", ("intent-classifier", "champion")),
        ("models:/other-model/3", ("other-model", "3")),
        ("champion", ("intent-classifier", "champion")),
        ("@challenger", ("intent-classifier", "challenger")),
        ("12", ("intent-classifier", "12")),
    ],
)
def test_parse_model_ref(text: str, expected: tuple[str, str]) -> None:
    assert parse_model_ref(text) == expected


@pytest.mark.parametrize("text", ["models:/", "models:/name", "models:/name/latest/1", "models:/name@", "a/b", ""])
def test_unparseable_refs_are_registry_errors(text: str) -> None:
    with pytest.raises(RegistryError, match="cannot parse"):
        parse_model_ref(text)


def test_download_by_alias_and_by_version(tiny_model: Path, tmp_path: Path) -> None:
    registration = register_model(tiny_model, LINEAGE)
    by_alias = download_model("models:/intent-classifier@challenger", tmp_path / "a")
    by_version = download_model(f"models:/intent-classifier/{registration.version}", tmp_path / "b")
    for local in (by_alias, by_version):
        assert local.is_relative_to(tmp_path)
        assert (local / "model.safetensors").read_bytes() == (tiny_model / "model.safetensors").read_bytes()
        metadata = json.loads((local / "metadata.json").read_text())
        assert metadata["model_name"] == "intent-classifier" and metadata["model_version"] == registration.version
        assert metadata["aliases"] == ["challenger"] and metadata["run_id"] == registration.run_id
    assert download_model("challenger", tmp_path / "c").name == by_alias.name


def test_unknown_alias_version_or_model_is_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    register_model(tiny_model, LINEAGE)
    with pytest.raises(RegistryError, match="no version or alias 'champion'"):
        download_model("models:/intent-classifier@champion", tmp_path)
    with pytest.raises(RegistryError, match="no version or alias '99'"):
        download_model("models:/intent-classifier/99", tmp_path)
    with pytest.raises(RegistryError, match="no registered model 'nope'"):
        download_model("models:/nope@champion", tmp_path)


# ------------------------------------------------------------------------------------------- packages


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A registry with v1 (its package and digest, as the pipeline registers it) and v2 (registered before package
    digests were recorded: a package logged under its run, no package_sha256); yields uri and root."""
    root = tmp_path_factory.mktemp("packages")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_STATE_DIR", str(root))
        assert register_standin(root, "packaged", tracking_uri=uri) == "1"
        old = register_standin(root, "old", parity=False, tracking_uri=uri)
        mlflow_client = client(uri)
        run_id = mlflow_client.get_model_version(NAME, old).run_id
        package = root / "model.tar.gz"
        package.write_bytes(b"an old package")
        mlflow_client.log_artifact(run_id, str(package), artifact_path="package")
        artifact_uri = mlflow_client.get_run(run_id).info.artifact_uri
        mlflow_client.set_model_version_tag(NAME, old, "package_uri", f"{artifact_uri}/package/model.tar.gz")
        yield {"uri": uri, "root": str(root)}


def _version(packaged: dict[str, str], ref: str) -> dict[str, Any]:
    from model_registry.queries import get_version

    return get_version(ref, NAME, tracking_uri=packaged["uri"])


@pytest.mark.parametrize(
    ("tag", "value", "message"),
    [
        ("package_uri", "file:///etc/shadow", "is not the package its registration logged"),
        ("package_uri", "s3://someone-elses-bucket/model.tar.gz", "is not the package its registration logged"),
        ("package_sha256", "0" * 64, "does not match the run's"),
    ],
)
def test_a_package_the_registry_did_not_produce_is_never_read(
    packaged: dict[str, str], private_state: Path, tag: str, value: str, message: str
) -> None:
    version = _version(packaged, "1")
    version["tags"][tag] = value  # as a forged tag reads back from the registry
    with pytest.raises(RegistryError, match=message):
        cached_package(NAME, version, tracking_uri=packaged["uri"])
    assert not any(private_state.rglob("*.tar.gz")) and not any(private_state.rglob("shadow"))


def test_a_package_changed_in_the_store_or_the_cache_is_refused_or_replaced(
    packaged: dict[str, str], tmp_path: Path
) -> None:
    version = _version(packaged, "1")
    cached = cached_package(NAME, version, tracking_uri=packaged["uri"])
    good = cached.read_bytes()
    cached.write_bytes(b"tampered copy")
    assert cached_package(NAME, version, tracking_uri=packaged["uri"]).read_bytes() == good  # downloaded again

    stored = Path(version["tags"]["package_uri"].removeprefix("file://"))
    stored.write_bytes(b"tampered in the artifact store")
    try:
        with pytest.raises(RegistryError, match=r"not the .* recorded at registration"):
            download_package(NAME, version, tmp_path / "dl", tracking_uri=packaged["uri"])
    finally:
        stored.write_bytes(good)
    assert not (tmp_path / "dl").exists()


def test_a_package_registered_without_its_digest_is_refused_with_how_to_fix(packaged: dict[str, str]) -> None:
    with pytest.raises(RegistryError, match="recorded no package_sha256") as info:
        cached_package(NAME, _version(packaged, "2"), tracking_uri=packaged["uri"])
    assert "re-register" in str(info.value)
