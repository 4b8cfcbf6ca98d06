"""`mlops registry ...`: registered model versions, their aliases and lineage; reproduction, promotion, rollback and
audit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ml.settings import P95_BUDGET_MS, REGISTERED_MODEL_NAME
from mlops_cli.errors import user_errors
from mlops_cli.output import emit, json_option

if TYPE_CHECKING:
    from model_registry.promotion import PromotionResult

name_option = click.option("--name", default=REGISTERED_MODEL_NAME, show_default=True, help="Registered model name.")


@click.group()
def registry() -> None:
    """Inspect the MLflow registry, promote and roll back the champion (MLFLOW_TRACKING_URI, default: local SQLite)."""


@registry.command("list")
@name_option
@json_option
@user_errors
def list_(name: str, as_json: bool) -> None:
    """List versions with aliases, data md5, git commit and headline metrics."""
    from model_registry.queries import list_versions

    versions = list_versions(name)
    lines = [f"{'version':>7}  {'aliases':<22} {'macro_f1':>8}  {'data_md5':<32}  git_commit"]
    for v in versions:
        f1 = v["metrics"].get("macro_f1")
        lines.append(
            f"{v['version']:>7}  {','.join(v['aliases']) or '-':<22} {f1 if f1 is None else format(f1, '.4f'):>8}  "
            f"{v['data_md5'] or '-':<32}  {(v['git_commit'] or '-')[:12]}"
        )
    emit({"name": name, "versions": versions}, as_json=as_json, text="\n".join(lines))


@registry.command()
@click.argument("ref")
@name_option
@json_option
@user_errors
def show(ref: str, name: str, as_json: bool) -> None:
    """Show one version (number or alias, e.g. 3 or champion): lineage, and the evidence the promotion gates decide
    on (benchmark, ONNX parity, labels, digests), verified against its registering run."""
    from model_registry.queries import get_version

    version = get_version(ref, name, with_evidence=True)
    emit(version, as_json=as_json, text=_version_text(name, version))


def _version_text(name: str, version: dict[str, Any]) -> str:
    """A version for people: lineage, then the gates' evidence (from the verified record, else the tags, marked)."""
    from model_registry.evidence import DIGEST_TAG, LABELS_TAG, PACKAGE_DIGEST, PARITY_TAG

    tags, evidence = version["tags"], version["evidence"]
    lines = [f"{name} version {version['version']}  aliases: {', '.join(version['aliases']) or '-'}"]
    lines += [f"  {key:<11} {version[key]}" for key in ("data_md5", "git_commit", "run_id", "source")]
    record = evidence["record"]
    if evidence["verified"]:
        lines.append(f"  {'evidence':<11} verified (sha256 {evidence['sha256'][:12]}, recorded at registration)")
    else:
        problems = "; ".join(evidence["problems"]) or "unverified"
        lines.append(
            f"  {'evidence':<11} NOT VERIFIED (the evidence gate refuses it as a candidate): {_clip(problems, 300)}"
        )
        source = "the record as registered" if record is not None else "the version tags, which anyone can edit"
        lines.append(f"  {'':<11} (below: {source})")
    if record is not None:
        bench, parity, labels = record.get("benchmark"), record.get("onnx_parity"), record.get("labels")
        model_digest = record.get("model_digest")
    else:
        bench = {k.removeprefix("bench."): v for k, v in tags.items() if k.startswith("bench.")} or None
        parity, model_digest = tags.get(PARITY_TAG), tags.get(DIGEST_TAG)
        labels = tags[LABELS_TAG].split(",") if tags.get(LABELS_TAG) else None
    lines.append(f"  {'benchmark':<11} {_bench_text(bench)}")
    lines.append(f"  {'onnx_parity':<11} {parity or 'missing: no accepted ONNX export was registered'}")
    shown_labels = f"{len(labels)} in id order: {_clip(', '.join(map(str, labels)), 100)}" if labels else "missing"
    lines.append(f"  {'labels':<11} {shown_labels}")
    lines.append(f"  {'model':<11} sha256 {model_digest or '-'}")
    lines.append(
        f"  {'package':<11} {_package_text(tags.get(PACKAGE_DIGEST), version.get('params', {}).get(PACKAGE_DIGEST))}"
    )
    lines += [f"  metric {k:<16} {'-' if v is None else format(v, '.4f')}" for k, v in version["metrics"].items()]
    lines += [f"  env    {k:<16} {v}" for k, v in version["environment"].items()]
    lines += [f"  param  {k:<16} {v}" for k, v in sorted(version.get("params", {}).items())]
    return "\n".join(lines)


def _bench_text(bench: dict[str, Any] | None) -> str:
    if not bench:
        return "missing: registered without a benchmark report (the benchmark gate fails)"
    verdict = {True: "passed", False: "FAILED", "true": "passed", "false": "FAILED"}.get(bench.get("passed"), "?")

    def figure(key: str) -> Any:
        return "?" if bench.get(key) is None else bench[key]

    text = (
        f"p95 {figure('p95_ms')} ms, budget {figure('budget_ms')} ms: {verdict}; p50 {figure('p50_ms')} ms, "
        f"p99 {figure('p99_ms')} ms, {figure('throughput_rps')} req/s, {figure('errors')} errors"
    )
    budget = _float(bench.get("budget_ms"))
    if budget is not None and budget != P95_BUDGET_MS:
        text += f" (promote checks p95 against --p95-budget-ms, default {P95_BUDGET_MS:g} ms)"
    return text


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _package_text(tagged: str | None, recorded: str | None) -> str:
    if not recorded:
        return "none recorded: no SageMaker package, it cannot be deployed from the registry"
    if tagged != recorded:
        return f"sha256 {recorded} (the run's; tag package_sha256={tagged!r} differs: deployment refuses it)"
    return f"sha256 {recorded}"


def _print_result(result: PromotionResult, as_json: bool) -> None:
    """Emit a PromotionResult; exit 1 (after printing every failed gate) when the promotion was refused."""
    head = f"{result.action} {result.name} v{result.candidate}"
    before = f"v{result.champion_before}" if result.champion_before else "(none)"
    lines = [f"{head}  (champion before: {before}{', dry run' if result.dry_run else ''})"]
    lines += [f"  {'PASS' if g.passed else 'FAIL'} {g.name:<12} {g.detail}" for g in result.gates]
    lines.append(result.message.splitlines()[0] if result.message else "")
    lines += [f"warning: {w}" for w in result.warnings]
    emit(result.to_dict(), as_json=as_json, text="\n".join(lines))
    if not result.ok:
        failed = ", ".join(g.name for g in result.failed_gates)
        # The numbers are in the listing above (stdout, or --json); stderr says what CI should flag.
        click.echo(
            f"error: promotion of v{result.candidate} refused ({len(result.failed_gates)} of {len(result.gates)} "
            f"gates failed: {failed}); champion unchanged ({before})",
            err=True,
        )
        click.get_current_context().exit(1)


@registry.command()
@click.option("--candidate", default="challenger", show_default=True, help="Alias or version number to promote.")
@click.option(
    "--tolerance",
    type=float,
    default=0.01,
    show_default=True,
    help="How far macro_f1/accuracy may fall below the champion's.",
)
@click.option(
    "--p95-budget-ms", type=float, default=P95_BUDGET_MS, show_default=True, help="Benchmark p95 latency budget."
)
@click.option("--dry-run", is_flag=True, help="Evaluate the gates and report; change nothing (exit 1 if refused).")
@click.option("--reason", default=None, help="Why (kept in the audit record; default: the gates' summary).")
@click.option("--actor", default=None, help="Who (default: MLOPS_ACTOR, GITHUB_ACTOR in CI, else the OS user).")
@name_option
@json_option
@user_errors
def promote(
    candidate: str,
    tolerance: float,
    p95_budget_ms: float,
    dry_run: bool,
    reason: str | None,
    actor: str | None,
    name: str,
    as_json: bool,
) -> None:
    """Move the champion alias to CANDIDATE if metrics, ONNX parity, benchmark and labels gates all pass."""
    from model_registry import promotion

    result = promotion.promote(
        candidate,
        name=name,
        tolerance=tolerance,
        p95_budget_ms=p95_budget_ms,
        dry_run=dry_run,
        actor=actor,
        reason=reason,
    )
    _print_result(result, as_json)


@registry.command()
@click.option("--dry-run", is_flag=True, help="Report what would be restored; change nothing.")
@click.option("--reason", default=None, help="Why (kept in the audit record).")
@click.option("--actor", default=None, help="Who (default: MLOPS_ACTOR, GITHUB_ACTOR in CI, else the OS user).")
@name_option
@json_option
@user_errors
def rollback(dry_run: bool, reason: str | None, actor: str | None, name: str, as_json: bool) -> None:
    """Give the champion alias back to the previous champion (undo with `mlops registry promote --candidate N`)."""
    from model_registry import promotion

    _print_result(promotion.rollback(name=name, actor=actor, reason=reason, dry_run=dry_run), as_json)


@registry.command()
@name_option
@json_option
@user_errors
def audit(name: str, as_json: bool) -> None:
    """Show every promotion and rollback: when, who, from and to which version, and why."""
    from model_registry.promotion import audit_log, champion_history

    events = audit_log(name)
    history = champion_history(name)
    lines = [f"{'at (UTC)':<27} {'action':<9} {'from':>5} -> {'to':<5} {'actor':<16} reason"]
    for e in events:
        from_v = e.get("from_version") or "-"
        lines.append(
            f"{e.get('at', ''):<27} {e.get('action', ''):<9} {from_v:>5} -> {e.get('to_version', ''):<5} "
            f"{e.get('actor', '')!s:<16} {_clip(str(e.get('reason', '')), 100)}"
        )
    if not events:
        lines.append("(no promotions recorded)")
    previous = ", ".join(f"v{v}" for v in history["previous"]) or "-"
    champion = f"v{history['champion']}" if history["champion"] else "(none)"
    lines.append(f"champion: {champion}   previous champions (rollback order, last first): {previous}")
    emit({**history, "events": events}, as_json=as_json, text="\n".join(lines))


@registry.command()
@click.argument("ref")
@name_option
@json_option
@user_errors
def reproduce(ref: str, name: str, as_json: bool) -> None:
    """Retrain version REF from its record (data md5, commit, parameters, threads); compare weights and scores."""
    from pipelines.reproduce import format_reproduction
    from pipelines.reproduce import reproduce as rebuild

    result = rebuild(ref, name=name)
    emit(result.to_dict(), as_json=as_json, text=format_reproduction(result))
    if not result.match:
        caveat = f" ({result.caveat})" if result.caveat else ""
        click.echo(
            f"error: {name} v{result.version} rebuilt differently: {len(result.differences)} difference(s){caveat}",
            err=True,
        )
        click.get_current_context().exit(1)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
