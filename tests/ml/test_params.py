"""params.yaml, the one home of the tunable parameters: read, typed and checked, with errors that name the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ml.params import ParamsError, load_params, params_file, parse_params
from tests.conftest import ROOT


def project_raw() -> dict:
    """The project's params.yaml, parsed."""
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_the_project_file_is_found_and_read_as_written() -> None:
    assert params_file() == ROOT / "params.yaml"
    raw = project_raw()
    written = {f"{section}.{key}": value for section, values in raw.items() for key, value in values.items()}
    assert load_params().flat() == written


def test_a_number_yaml_reads_as_text_is_still_a_number() -> None:
    raw = project_raw()
    raw["train"]["learning_rate"] = "2e-05"  # YAML 1.1 reads `2e-05` as text; DVC (YAML 1.2) writes it so
    assert parse_params(raw).train.learning_rate == pytest.approx(2e-5)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda raw: raw["train"].update(epochs="many"), r"train\.epochs must be an integer, got 'many'"),
        (lambda raw: raw["train"].update(epochs=True), r"train\.epochs must be an integer"),
        (lambda raw: raw["train"].update(model=""), r"train\.model must be a non-empty string"),
        (lambda raw: raw["evaluate"].update(min_macro_f1="high"), r"evaluate\.min_macro_f1 must be a number"),
        (lambda raw: raw["train"].pop("seed"), r"missing key train\.seed"),
        (lambda raw: raw["train"].update(epoch=3), r"unknown key train\.epoch"),
        (lambda raw: raw.update(serve={"port": 1}), r"unknown section\(s\) serve"),
        (lambda raw: raw.pop("evaluate"), r"section 'evaluate' is missing"),
    ],
)
def test_a_bad_file_says_which_key_is_wrong(edit: Callable[[dict], object], message: str) -> None:
    raw = project_raw()
    edit(raw)
    with pytest.raises(ParamsError, match=message):
        parse_params(raw)


def test_a_missing_or_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="not found: the training and gate parameters' defaults live there"):
        load_params(tmp_path / "params.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match="is not valid YAML"):
        load_params(broken)
    broken.write_text("- a list\n")
    with pytest.raises(ParamsError, match="must map sections to values, got list"):
        load_params(broken)
