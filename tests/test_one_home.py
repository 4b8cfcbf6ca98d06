"""One home per fact: the p95 budget, the registered model's name and the files of a model directory are each written
once, and every other module reads them from there (so changing one is one edit)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from ml.model import EXPORT_REPORT_FILE, METADATA_FILE, ONNX_FILES, PACKAGE_FILE, TOKENIZER_FILE
from ml.settings import P95_BUDGET_MS, REGISTERED_MODEL_NAME
from tests.conftest import ROOT

PACKAGES = ("ml", "inference", "pipelines", "model_registry", "benchmarks", "mlops_cli")
HOMES = {
    REGISTERED_MODEL_NAME: "ml/settings.py",
    **dict.fromkeys(
        (*ONNX_FILES.values(), METADATA_FILE, TOKENIZER_FILE, EXPORT_REPORT_FILE, PACKAGE_FILE), "ml/model.py"
    ),
}


def library_modules() -> Iterator[tuple[str, ast.Module]]:
    """(path relative to the repository, parsed module) of every module of the packages."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the string nodes that are docstrings (prose may name a file)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def test_names_and_file_names_are_written_only_in_their_home() -> None:
    found = []
    for path, tree in library_modules():
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and id(node) not in skip
                and node.value in HOMES
                and HOMES[node.value] != path
            ):
                found.append(f"{path}:{node.lineno} {node.value!r} (its home is {HOMES[node.value]})")
    assert not found, "\n".join(found)


def test_the_p95_budget_is_written_only_in_its_home() -> None:
    """No other module writes the budget's number as a default of anything named for a p95 or a budget."""
    found = []
    for path, tree in library_modules():
        if path == "ml/settings.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, float) and node.value == P95_BUDGET_MS:
                found.append(f"{path}:{node.lineno} {node.value!r}")
            for name, value in _named_values(node):
                if (
                    ("p95" in name or "budget" in name)
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, int | float)
                    and not isinstance(value.value, bool)
                ):
                    found.append(f"{path}:{value.lineno} {name} = {value.value!r}")
    assert not found, "\n".join(found)


def _named_values(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(name, value) of keyword arguments, argument defaults and annotated or plain assignments in `node`."""
    if isinstance(node, ast.keyword) and node.arg:
        yield node.arg.lower(), node.value
    elif isinstance(node, ast.arguments):
        positional = node.posonlyargs + node.args
        for arg, default in zip(positional[len(positional) - len(node.defaults) :], node.defaults, strict=True):
            yield arg.arg.lower(), default
        for arg, kw_default in zip(node.kwonlyargs, node.kw_defaults, strict=True):
            if kw_default is not None:
                yield arg.arg.lower(), kw_default
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        yield node.target.id.lower(), node.value
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id.lower(), node.value


@pytest.mark.parametrize("option", ["--p95-budget-ms", "--max-p95-ms", "--guardrail-p95-ms"])
def test_command_defaults_follow_the_budget(option: str) -> None:
    """Every command option that defaults to the budget shows the one value (a changed budget shows everywhere)."""
    import click

    from mlops_cli.main import cli

    def commands(group: click.Command) -> Iterator[click.Command]:
        yield group
        for sub in getattr(group, "commands", {}).values():
            yield from commands(sub)

    defaults = {p.default for c in commands(cli) for p in c.params if isinstance(p, click.Option) and option in p.opts}
    assert defaults == {P95_BUDGET_MS}


def test_the_model_name_default_follows_its_home() -> None:
    from pipelines.spec import SPEC

    assert SPEC.parameter("RegisteredModelName").default == REGISTERED_MODEL_NAME
    assert SPEC.parameter("P95BudgetMs").default == P95_BUDGET_MS
    assert Path(HOMES[REGISTERED_MODEL_NAME]).name == "settings.py"
