"""The serving image (no Docker engine here: the Dockerfile is parsed), its requirements, and the `serve` entry."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with line continuations joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def test_dockerfile_runs_the_serve_console_script() -> None:
    instructions = dockerfile_instructions()
    cmd = [args for name, args in instructions if name == "CMD"]
    assert len(cmd) == 1 and json.loads(cmd[0]) == ["serve"], "CMD must be exec form ['serve']"
    # No ENTRYPOINT: `docker run IMAGE serve` then executes the `serve` program itself.
    assert not [args for name, args in instructions if name == "ENTRYPOINT"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("scripts", {})
    assert scripts.get("serve") == "inference.container:main", "pyproject needs serve = \"inference.container:main\""
    from inference.container import main

    assert callable(main)


def test_dockerfile_base_user_port_and_label() -> None:
    instructions = dockerfile_instructions()
    assert re.fullmatch(r"python:3\.11-slim\S*", next(args for name, args in instructions if name == "FROM"))
    users = [args for name, args in instructions if name == "USER"]
    assert users and users[-1] not in ("root", "0"), "the server must not run as root"
    last_run = max(i for i, (name, _) in enumerate(instructions) if name == "RUN")
    assert instructions.index(("USER", users[-1])) > last_run, "switch user after the installs"
    assert ("EXPOSE", "8080") in instructions
    labels = " ".join(args for name, args in instructions if name == "LABEL")
    assert "com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true" in labels
    installs = " ".join(args for name, args in instructions if name == "RUN" and "pip install" in args)
    assert "-r /tmp/requirements.txt" in installs and "--no-deps ." in installs


def test_dockerfile_copies_only_what_exists_and_is_in_the_build_context() -> None:
    allowed = {line[1:].strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    for name, args in dockerfile_instructions():
        if name != "COPY":
            continue
        *sources, _dest = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source {source} does not exist"
            assert source.split("/")[0] in allowed, f"{source} is excluded by .dockerignore"


def test_serving_requirements_are_pinned_ranges_without_torch_or_transformers() -> None:
    lines = [line.strip() for line in (ROOT / "inference" / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    names = set()
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=[\w.]+,<[\w.]+", requirement)
        assert match, f"{requirement!r} is not a pinned range (name>=x,<y)"
        names.add(match[1].lower())
    # httptools: the server's pinned HTTP parser (inference.http_protocol); without it no worker starts.
    assert {"onnxruntime", "tokenizers", "numpy", "uvicorn", "httptools", "starlette", "prometheus-client"} <= names
    assert not names & {"torch", "transformers", "mlflow", "sagemaker", "fastapi"}


def test_serving_imports_nothing_heavy(onnx_model: Path) -> None:
    """The serving code path (server, predictor, tokenizer) never imports torch, transformers, mlflow or boto3."""
    code = (
        "import sys, inference.server, inference.container\n"
        "from inference.predictor import OnnxPredictor\n"
        f"assert OnnxPredictor({str(onnx_model)!r}, intra_op_threads=1).predict(['hi'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'mlflow', 'boto3', 'sagemaker', 'pydantic') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def _container(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "inference.container", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_serve_help_documents_the_environment() -> None:
    result = _container("--help")
    assert result.returncode == 0
    for name in ("SAGEMAKER_BIND_TO_PORT", "INTENT_SERVE_WORKERS", "INTENT_SERVE_BATCH_MAX_SIZE", "INTENT_SERVE_MAX_INPUTS"):
        assert name in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INTENT_SERVE_MODEL_DIR": "/nonexistent/model"}, "model directory not found: /nonexistent/model"),
        ({"INTENT_SERVE_WORKERS": "many"}, "INTENT_SERVE_WORKERS='many' is not an integer"),
    ],
)
def test_serve_fails_clearly_on_bad_configuration(env: dict[str, str], message: str) -> None:
    result = _container(env=env)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_serve_takes_no_arguments() -> None:
    assert _container("--port", "1").returncode == 2
