"""The `mlops` CLI as a user meets it: fast help on every command, clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

HEAVY = ("torch", "transformers", "sagemaker", "mlflow", "evaluate", "dvc", "onnxruntime", "boto3")


def _commands() -> list[list[str]]:
    from mlops_cli.main import cli

    found: list[list[str]] = []

    def walk(command, path: list[str]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(cli, [])
    return found


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from mlops_cli.main import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]"), out


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "mlops")
def test_every_command_has_help(path: list[str]) -> None:
    from click.testing import CliRunner

    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


# Commands with no --json: servers that run until stopped, and a command whose output is already JSON.
NO_JSON = {("serve",), ("endpoint", "serve-local"), ("loop", "webhook"), ("pipeline", "definition")}


@pytest.mark.parametrize("path", [p for p in _commands() if p], ids=" ".join)
def test_every_command_a_machine_reads_has_json(path: list[str]) -> None:
    import click

    from mlops_cli.main import cli

    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    if isinstance(command, click.Group) or tuple(path) in NO_JSON:
        return
    assert "--json" in [o for p in command.params for o in p.opts], f"`mlops {' '.join(path)}` has no --json"


def test_pipeline_steps_json_lists_the_spec() -> None:
    from pipelines.spec import SPEC

    listed = json.loads(run_cli("pipeline", "steps", "--json", check=True).stdout)
    assert [s["name"] for s in listed["steps"]] == SPEC.step_names()
    assert listed["steps"][1]["inputs"] == ["prepare.splits"]
    text = run_cli("pipeline", "steps", check=True).stdout.splitlines()
    assert [line.split()[0] for line in text] == SPEC.step_names()


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "mlops"
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "pipeline" in proc.stdout


def test_train_with_missing_data(tmp_path: Path) -> None:
    proc = run_cli("train", "--data", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "m"))
    assert proc.returncode == 1
    assert "dataset not found" in proc.stderr and "mlops data pull" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "m").exists()


def test_train_with_unknown_preset(small_dataset: Path, tmp_path: Path) -> None:
    proc = run_cli("train", "--data", str(small_dataset), "--model", "gigantic", "--out", str(tmp_path / "m"))
    assert proc.returncode == 1 and "cannot load model 'gigantic': it is not a preset (tiny, xsmall" in proc.stderr


def test_train_with_a_distillation_weight_out_of_range(small_dataset: Path, tmp_path: Path) -> None:
    proc = run_cli("train", "--data", str(small_dataset), "--distill-weight", "1", "--out", str(tmp_path / "m"))
    assert proc.returncode == 2 and "--distill-weight" in proc.stderr and "0<=x<1" in proc.stderr
    proc = run_cli("train", "--data", str(small_dataset), "--ema-decay", "1", "--out", str(tmp_path / "m"))
    assert proc.returncode == 2 and "--ema-decay" in proc.stderr and "0<=x<1" in proc.stderr
    assert not (tmp_path / "m").exists()


def test_train_with_empty_dataset(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_text("")
    proc = run_cli("train", "--data", str(tmp_path / "e.jsonl"), "--out", str(tmp_path / "m"))
    assert proc.returncode == 1 and "dataset is empty" in proc.stderr


def test_train_with_label_outside_taxonomy(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text(json.dumps({"text": "hello", "intent": "gossip"}) + "\n")
    proc = run_cli("data", "validate", str(tmp_path / "bad.jsonl"))
    assert proc.returncode == 1 and "bad.jsonl:1: intent 'gossip' is not in the taxonomy" in proc.stderr
    proc = run_cli("train", "--data", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "m"))
    assert proc.returncode == 1 and "'gossip' is not in the taxonomy" in proc.stderr


def test_evaluate_with_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    proc = run_cli("evaluate", "--model", str(tmp_path))
    assert proc.returncode == 1 and "is not an intent model directory" in proc.stderr


def test_train_refuses_to_overwrite_without_flag(tiny_model: Path, small_dataset: Path) -> None:
    before = (tiny_model / "model.safetensors").read_bytes()
    proc = run_cli("train", "--data", str(small_dataset), "--out", str(tiny_model))
    assert proc.returncode == 1 and "already exists" in proc.stderr and "--overwrite" in proc.stderr
    assert (tiny_model / "model.safetensors").read_bytes() == before


def test_train_then_evaluate_end_to_end(small_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    settings = ("--epochs", "2", "--distill-weight", "0.3", "--ema-decay", "0.9")
    proc = run_cli("train", "--data", str(small_dataset), "--out", str(out), *settings, "--json")
    assert proc.returncode == 0, proc.stderr
    trained = json.loads(proc.stdout)
    assert trained["model_dir"] == str(out) and 1 <= trained["epochs_run"] <= 2
    recorded = json.loads((out / "intent_model.json").read_text())["extra"]["train_config"]
    # The settings travel with the model (and into MLflow's parameters).
    assert recorded["distill_weight"] == 0.3 and recorded["ema_decay"] == 0.9
    proc = run_cli(
        "evaluate", "--model", str(out), "--data", str(small_dataset), "--out", str(tmp_path / "ev"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert 0.0 <= report["metrics"]["macro_f1"]["value"] <= 1.0
    assert report["num_examples"] == 40  # 10% of 40 per intent
    assert json.loads((tmp_path / "ev" / "evaluation.json").read_text()) == report
    assert "confusion matrix" in (tmp_path / "ev" / "evaluation.txt").read_text()


def test_bad_training_parameter(small_dataset: Path, tmp_path: Path) -> None:
    proc = run_cli("train", "--data", str(small_dataset), "--out", str(tmp_path / "m"), "--learning-rate", "5")
    assert proc.returncode == 1 and "learning_rate=5.0" in proc.stderr


def _shown_commands(markdown: str) -> list[list[str]]:
    """Every `mlops ...` command line of a document's code blocks, continuation lines joined, comments dropped."""
    import re
    import shlex

    commands = []
    for block in re.findall(r"```(?:bash)?\n(.*?)```", markdown, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|>")  # quoted ; and | stay in their word
            lexer.whitespace_split, lexer.commenters = True, "#"
            command: list[str] = []
            for word in [*lexer, ";"]:
                if word.strip(";&|>"):
                    command.append(word)
                    continue
                if command[:1] == ["mlops"]:  # a command ends at ; && | or >; what a > redirects to is not one
                    commands.append(command[1:])
                command = [] if word != ">" else ["redirect"]
    return commands


@pytest.mark.parametrize("document", ["README.md", "docs/aws.md"])
def test_every_command_the_aws_docs_show_is_one_the_cli_accepts(document: str) -> None:
    """Each command shown parses: the command exists, and every option and value is one it takes."""
    import click

    from mlops_cli.main import cli
    from tests.conftest import ROOT

    text = (ROOT / document).read_text()
    if document == "README.md":
        text = text[text.index("## Pointing it at real AWS") :]
    shown = _shown_commands(text)
    assert len(shown) >= 3, shown
    for args in shown:
        args = [a.replace("$(mlops pipeline images --tag cpu)", "x") for a in args]
        command: click.Command = cli
        ctx = cli.make_context("mlops", list(args), resilient_parsing=True)
        rest = list(args)
        while isinstance(command, click.Group):
            name, sub, rest = command.resolve_command(ctx, rest)
            assert sub is not None, f"{document}: no command `mlops {' '.join(args)}`"
            command, ctx = sub, sub.make_context(name or "", list(rest), parent=ctx, resilient_parsing=True)
        try:
            command.make_context(command.name or "", list(rest), parent=ctx.parent)
        except click.UsageError as exc:
            pytest.fail(f"{document}: `mlops {' '.join(args)}` is refused: {exc.format_message()}")
        except click.exceptions.Exit:
            pass


def test_the_readme_pipeline_definition_passes_the_offline_checks(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    (shown,) = [c for c in _shown_commands(readme) if c[:2] == ["pipeline", "definition"] and "--role" in c]
    result = run_cli(*shown, "--out", str(tmp_path / "p.json"))
    assert result.returncode == 0, result.stderr
    assert "offline checks passed" in result.stderr and json.loads((tmp_path / "p.json").read_text())["Steps"]
