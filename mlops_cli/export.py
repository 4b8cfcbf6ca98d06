"""`mlops export`: ONNX export (fp32 + int8) with parity checks, and the SageMaker model package."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_cli.errors import user_errors
from mlops_cli.options import dataset_options, load_selected
from mlops_cli.output import emit, json_option


@click.command("export")
@click.argument("model_dir", type=click.Path(path_type=Path))
@dataset_options("check parity on")
@click.option("--no-int8", "no_int8", is_flag=True, help="Export fp32 only (no dynamically quantised int8 graph).")
@click.option(
    "--package",
    "package_path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="OUT.tar.gz",
    help="Also write the SageMaker model.tar.gz (ONNX, tokenizer, label map, report, metadata.json).",
)
@click.option(
    "--model-version",
    default="unregistered",
    show_default=True,
    help="Version recorded in the package's metadata.json.",
)
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing export in MODEL_DIR and an existing --package file."
)
@json_option
@user_errors
def export(
    model_dir: Path,
    data_path: Path | None,
    split: str,
    split_seed: int | None,
    no_int8: bool,
    package_path: Path | None,
    model_version: str,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Export MODEL_DIR to ONNX (fp32 + int8) next to its weights, checked against PyTorch on held-out prompts.

    The export is written only if it passes: fp32 max |logit diff| <= 1e-4, int8 argmax agreement >= 99% and
    accuracy within one point of fp32 (flips between classes PyTorch scores within 0.02 logits of each other
    are ties, not disagreements). The figures go to MODEL_DIR/export_report.json.
    """
    from ml.data import file_md5
    from ml.errors import ModelError
    from ml.export import EXPORT_FILES, export_model, format_parity
    from ml.model import EXPORT_REPORT_FILE, ModelInfo, check_model_dir
    from ml.package import package_model
    from ml.settings import git_commit, project_root

    check_model_dir(model_dir)
    existing = [name for name in EXPORT_FILES if (model_dir / name).exists()]
    if existing and not overwrite:
        raise ModelError(
            f"{model_dir} already holds an ONNX export ({', '.join(existing)})", hint="pass --overwrite to export again"
        )
    if package_path is not None and package_path.exists() and not overwrite:
        raise ModelError(
            f"{package_path} already exists", hint="pass --overwrite to replace it, or choose another path"
        )
    path, examples = load_selected(data_path, split, split_seed)

    report = export_model(model_dir, examples, quantize=not no_int8)
    payload = {
        "model_dir": str(model_dir),
        "passed": report["passed"],
        "checks": report["checks"],
        "measured": report["measured"],
        "inputs_checked": report["inputs"]["checked"],
        "attention": report["attention"],
        "files": sorted([*report["files"], EXPORT_REPORT_FILE]),
    }
    if package_path is not None:
        info = ModelInfo.load(model_dir)
        metadata = {
            "model_version": model_version,
            # The training data's md5 is not recorded in a model directory; the parity data's is.
            "data_md5": info.extra.get("data_md5"),
            "parity_data_md5": file_md5(path),
            "git_commit": git_commit(project_root()),
        }
        payload["package"] = str(package_model(model_dir, package_path, metadata=metadata))
    lines = [
        f"ONNX export of {model_dir} accepted ({report['inputs']['checked']} inputs checked)",
        *(f"  {part}" for part in format_parity(report).split("; ")),
        f"  attention: {report['attention']}",
    ]
    measured = report["measured"]
    if report["quantized"]:
        # The raw figures too: flips between classes the PyTorch model itself scores as a tie are not gated on.
        lines.append(
            f"  int8 raw: argmax agreement {measured['int8_argmax_agreement']:.4f} "
            f"({measured['int8_flips']:.0f} flips, {measured['int8_tie_flips']:.0f} of them ties), "
            f"accuracy {measured['int8_accuracy']:.4f} vs fp32 {measured['fp32_accuracy']:.4f}"
        )
    lines.append(f"  wrote {', '.join(payload['files'])}")
    if "package" in payload:
        lines.append(f"  package {payload['package']}")
    emit(payload, as_json=as_json, text="\n".join(lines))


COMMANDS: list[click.Command] = [export]
