"""Execute notebooks/inference_benchmark.ipynb top to bottom, headless, with the command it documents.

`jupyter nbconvert` starts a real kernel that inherits os.environ: MLOPS_STATE_DIR (the private state with the
registry prepared here) and the BENCH_* parameters that keep the run small.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "inference_benchmark.ipynb"


def _lineage(version: str) -> Any:
    from model_registry.registration import Lineage

    return Lineage(
        data_md5="0123456789abcdef0123456789abcdef",
        git_commit=(version * 40)[:40],
        params={"model": "tiny", "epochs": 4},
        metrics={"accuracy": 0.9, "macro_f1": 0.9},
        history=[{"epoch": 1, "train_loss": 1.0, "val_macro_f1": 0.9}],
    )


@pytest.fixture(scope="module")
def exported_models(tiny_model: Path, small_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two copies of the tiny model with ONNX graphs next to the weights, differing only in intent_model.json."""
    from ml.data import load_examples
    from ml.export import export_model

    root = tmp_path_factory.mktemp("nb-models")
    champion = root / "champion"
    shutil.copytree(tiny_model, champion)
    export_model(champion, load_examples(small_dataset)[:40])
    challenger = root / "challenger"
    shutil.copytree(champion, challenger)
    info_path = challenger / "intent_model.json"
    info = json.loads(info_path.read_text())
    info["source"] = f"{info.get('source', 'tiny')}-challenger"  # a different model digest, same weights
    info_path.write_text(json.dumps(info, indent=2))
    return {"champion": champion, "challenger": challenger}


def documented_command() -> list[str]:
    """The headless command the notebook's first cell documents, as argv."""
    intro = nbformat.read(NOTEBOOK, as_version=4).cells[0].source
    match = re.search(r"^jupyter nbconvert .*$", intro, re.MULTILINE)
    assert match, "the notebook no longer documents its headless command"
    return shlex.split(match.group(0))


def _execute(monkeypatch: pytest.MonkeyPatch, out_dir: Path) -> Any:
    """Run the documented command from the project root, the executed copy written to `out_dir`."""
    for name, value in {"BENCH_REQUESTS": "20", "BENCH_ROUNDS": "1", "BENCH_WARMUP": "2"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BENCH_FIGURES_DIR", str(out_dir / "figures"))
    argv = documented_command()
    argv[0] = str(Path(sys.executable).parent / argv[0])  # this environment's jupyter
    argv[argv.index("--output-dir") + 1] = str(out_dir)  # not the project's .mlops/
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return nbformat.read(out_dir / NOTEBOOK.name, as_version=4)


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def _text(nb: Any) -> str:
    return "".join(out.get("text", "") for out in _outputs(nb) if out.get("output_type") == "stream")


def test_documented_command_executes_the_notebook_into_ignored_state() -> None:
    argv = documented_command()
    assert argv[:4] == ["jupyter", "nbconvert", "--to", "notebook"] and "--execute" in argv
    assert argv[argv.index("--execute") + 1] == str(NOTEBOOK.relative_to(ROOT))
    out = argv[argv.index("--output-dir") + 1]
    ignored = subprocess.run(["git", "check-ignore", "-q", f"{out}/{NOTEBOOK.name}"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{out} is not git-ignored: an executed copy would show up as a change"


def _pngs(outputs: list[dict[str, Any]]) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in outputs if "image/png" in o.get("data", {})]


def test_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebook_benchmarks_champion_and_challenger(
    exported_models: dict[str, Path], private_state: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from model_registry.registration import register_model

    first = register_model(exported_models["champion"], _lineage("a"), alias="champion")
    second = register_model(exported_models["challenger"], _lineage("b"), alias="challenger")
    assert first.created and second.created and first.version != second.version

    nb = _execute(monkeypatch, tmp_path)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = _text(nb)
    assert str(private_state / "mlflow.db") in text  # the kernel saw this test's state directory
    for name in ("champion onnx-int8", "challenger onnx-int8", "challenger torch", "challenger onnx-fp32"):
        assert name in text
    assert "p95 gate verdict for challenger (onnx-int8): " in text
    assert "p95 gate verdict for champion (onnx-int8): " in text
    # One figure per comparison, shown inline and saved: champion against challenger, PyTorch against ONNX.
    pngs = _pngs(outputs)
    assert len(pngs) == 2 and all(png.startswith(b"\x89PNG") for png in pngs)
    saved = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert saved == ["PyTorch_vs_ONNX.png", "champion_vs_challenger.png"]


def test_notebook_without_a_registered_model_explains_and_skips(
    private_state: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    nb = _execute(monkeypatch, tmp_path)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = _text(nb)
    assert "nothing to benchmark" in text
    assert "make run" in text and "mlops registry promote --candidate challenger" in text
    assert "p95 gate: skipped" in text
    assert not _pngs(outputs) and not (tmp_path / "figures").exists()
