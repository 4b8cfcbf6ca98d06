"""The serving image (no Docker engine here: the Dockerfile is parsed, and what it copies is run as the image would run
it), its requirements, and its one command, `serve`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest

from tests.conftest import ROOT, free_port

REQUIREMENTS = ROOT / "inference" / "serving" / "requirements.txt"
LOCK = ROOT / "inference" / "serving" / "requirements.lock"


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


def image_tree(dest: Path) -> Path:
    """Copy what the Dockerfile's COPY instructions put under its WORKDIR into dest; return that WORKDIR there."""
    workdir = PurePosixPath("/")
    for name, args in dockerfile_instructions():
        if name == "WORKDIR":
            workdir = workdir / args
        if name != "COPY" or workdir == PurePosixPath("/"):
            continue
        *sources, target = args.split()
        into = dest / (workdir / target).relative_to("/")
        for source in sources:
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, into, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
            else:
                into.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, into / path.name if target.endswith("/") else into)
    return dest / workdir.relative_to("/")


def requirement_names() -> set[str]:
    """The distributions the serving requirements name."""
    lines = [line.strip() for line in REQUIREMENTS.read_text().splitlines()]
    return {
        re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower() for line in lines if line and not line.startswith("#")
    }


def locked() -> dict[str, str]:
    """The distributions the image installs (its lock): name -> version."""
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", LOCK.read_text(), flags=re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_dockerfile_runs_serve_and_serve_runs_the_container_module() -> None:
    instructions = dockerfile_instructions()
    cmd = [args for name, args in instructions if name == "CMD"]
    assert len(cmd) == 1 and json.loads(cmd[0]) == ["serve"], "CMD must be exec form ['serve']"
    # No ENTRYPOINT: `docker run IMAGE serve` then executes the `serve` program itself.
    assert not [args for name, args in instructions if name == "ENTRYPOINT"]
    script = " ".join(args for name, args in instructions if name == "RUN" and "/usr/local/bin/serve" in args)
    assert "exec python -m inference.serving.container" in script, "serve must exec Python so that it gets SIGTERM"
    # The same command for pip installs of the project.
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["serve"] == "inference.serving.container:main"


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
    assert "--require-hashes --no-deps -r /tmp/requirements.lock" in installs, "the image installs its lock, hashed"
    assert " . " not in f"{installs} ", "the image installs no project"


def test_dockerfile_copies_only_what_exists_and_is_in_the_build_context() -> None:
    allowed = [
        line[1:].strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    copied = []
    for name, args in dockerfile_instructions():
        if name == "COPY":
            *sources, _dest = args.split()
            copied += sources
    for source in copied:
        assert (ROOT / source).exists(), f"COPY source {source} does not exist"
        assert any(source == a or source.startswith(f"{a}/") for a in allowed), f"{source} is excluded by .dockerignore"
    # Nothing but the serving code and the core: no deployer, local endpoint, client, CLI, pipelines or datagen.
    code = [s for s in copied if not s.endswith(".txt")]
    assert not [
        s
        for s in code
        if s.startswith(
            (
                "inference/deploy",
                "inference/local",
                "inference/client",
                "mlops_cli",
                "pipelines",
                "model_registry",
                "benchmarks",
                "ml/datagen",
            )
        )
    ]


def test_serving_requirements_are_pinned_ranges_without_torch_or_transformers() -> None:
    lines = [line.strip() for line in REQUIREMENTS.read_text().splitlines()]
    for requirement in [line for line in lines if line and not line.startswith("#")]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+>=[\w.]+,<[\w.]+", requirement), f"{requirement!r} is not a pinned range"
    assert not requirement_names() & {"torch", "transformers", "mlflow", "sagemaker", "boto3", "pydantic"}
    # The lock pins each of them, with hashes, and nothing heavy comes in underneath.
    pins = locked()
    assert requirement_names() <= set(pins) and "--hash=sha256:" in LOCK.read_text()
    assert not set(pins) & {"torch", "transformers", "mlflow", "sagemaker", "boto3", "pydantic"}


@pytest.fixture(scope="module")
def image_server(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen]]:
    """`serve` run from exactly the files the image gets, with no project on the path (no editable install, no cwd)."""
    root = tmp_path_factory.mktemp("image")
    program = image_tree(root)
    port = free_port()
    paths = sysconfig.get_paths()
    # -S: no site module, so no .pth file (the project's editable install among them) adds anything to the path; the
    # installed libraries come in as plain directories, the project only from the image tree.
    code = (
        "import json, sys\n"
        f"sys.path += [{paths['purelib']!r}, {paths['platlib']!r}]\n"
        "from inference.serving.container import main\n"
        "code = main(sys.argv[1:])\n"
        "files = {m: getattr(mod, '__file__', None) for m, mod in list(sys.modules.items())}\n"
        "print('MODULES ' + json.dumps(files), flush=True)\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "INTENT_SERVE_"))}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-S",
            "-c",
            code,
            str(onnx_model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=program,
        env={**env, "PYTHONPATH": str(program)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _answers(f"http://127.0.0.1:{port}/ping"):
            assert proc.poll() is None, (
                f"serve exited with {proc.returncode}:\n{proc.stdout.read() if proc.stdout else ''}"
            )
            assert time.monotonic() < deadline, "serve did not come up within 90 s"
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def test_the_server_runs_from_exactly_the_files_the_image_gets(
    image_server: tuple[str, subprocess.Popen], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url, proc = image_server
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps({"inputs": ["translate hello"]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 200 and json.loads(resp.read())["predictions"][0]["intent"]
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    files: dict[str, str | None] = json.loads(out.split("MODULES ", 1)[1].splitlines()[0])
    ours = {m: f for m, f in files.items() if m.split(".")[0] in ("ml", "inference")}
    assert ours and all(f is None or str(ROOT) not in f for f in ours.values()), "imported from the repository"
    assert "inference.serving.server" in ours and not [
        m for m in ours if m.startswith(("inference.deploy", "inference.local"))
    ]
    # Every library the server imported is one the image installs (its lock).
    provided = set(locked())
    by_module = metadata.packages_distributions()
    third_party = {m.split(".")[0] for m, f in files.items() if f and "site-packages" in f} - set(
        sys.stdlib_module_names
    )
    missing = {
        m: by_module.get(m)
        for m in third_party
        if not {d.lower().replace("_", "-") for d in by_module.get(m, [m])} & provided
    }
    assert not missing, f"imported but not in inference/serving/requirements.lock: {missing}"
    assert not third_party & {"torch", "transformers", "mlflow", "boto3", "sagemaker", "pydantic"}


def _container(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inference.serving.container", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_serve_help_lists_every_flag_with_its_variable() -> None:
    result = _container("--help")
    assert result.returncode == 0
    for text in (
        "--port",
        "SAGEMAKER_BIND_TO_PORT",
        "--workers",
        "INTENT_SERVE_WORKERS",
        "--batch-max-size",
        "INTENT_SERVE_BATCH_MAX_SIZE",
        "--precision",
        "INTENT_SERVE_PRECISION",
        "MODEL_DIR",
    ):
        assert text in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {"INTENT_SERVE_MODEL_DIR": "/nonexistent/model"}, "model directory not found: /nonexistent/model"),
        ((), {"INTENT_SERVE_WORKERS": "many"}, "INTENT_SERVE_WORKERS='many' is not an integer"),
        (("--workers", "many"), {}, "--workers='many' is not an integer"),
        (("/nonexistent/model",), {}, "model directory not found: /nonexistent/model"),
    ],
)
def test_serve_fails_clearly_on_bad_configuration(args: tuple[str, ...], env: dict[str, str], message: str) -> None:
    result = _container(*args, env=env)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_unknown_flags_and_torch_where_there_is_none() -> None:
    assert _container("--no-such-flag", "1").returncode == 2
    code = (
        "import sys; sys.modules['torch'] = None\n"  # as in the image: torch cannot be imported
        "from inference.serving.container import main; sys.exit(main(['--precision', 'torch']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "needs torch, which is not installed here" in result.stderr, result.stderr
