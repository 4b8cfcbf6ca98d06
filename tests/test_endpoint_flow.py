"""`mlops endpoint ...` end to end, as a user runs it: two registry versions (real packages) deployed as A/B
variants, on AWS (a moto server) and on the local A/B endpoint (a real server process loading the packages)."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.conftest import run_cli
from tests.inference.conftest import ServerProcess, start_server

NAME = "intent-classifier"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/intent-serve:1.0"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
# The benchmark step's report the register step passes on: the promotion gates' latency evidence.
BENCH = {
    "summary": {"p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 12.0, "throughput_rps": 100.0, "errors": 0},
    "gate": {"budget_ms": 500.0, "passed": True},
}


@pytest.fixture(scope="module")
def registry(
    tiny_model: Path, small_dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A SQLite registry with v1 (champion) and v2 (challenger), each with its exported model.tar.gz."""
    from ml.data import load_examples
    from ml.export import export_model
    from model_registry.promotion import promote
    from model_registry.registration import Lineage, register_model

    root = tmp_path_factory.mktemp("ab-registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    examples = load_examples(small_dataset)[:40]
    versions = []
    for key in ("one", "two"):
        model_dir = root / key
        shutil.copytree(tiny_model, model_dir)
        info = json.loads((model_dir / "intent_model.json").read_text())
        info["source"] = f"tiny-{key}"  # a different digest, the same weights
        (model_dir / "intent_model.json").write_text(json.dumps(info))
        export_model(model_dir, examples, out_dir=root / f"{key}-onnx")
        lineage = Lineage(
            data_md5="0" * 32,
            git_commit="c" * 40,
            params={"model": "tiny"},
            metrics={"accuracy": 0.9, "macro_f1": 0.9},
            history=[],
            benchmark=BENCH,
        )
        versions.append(register_model(model_dir, lineage, tracking_uri=uri, onnx_dir=root / f"{key}-onnx").version)
    assert promote(versions[0], tracking_uri=uri).ok
    return {"MLFLOW_TRACKING_URI": uri}


def _cli(*args: str, env: dict[str, str]) -> Any:
    proc = run_cli("endpoint", *args, env=env)
    return proc


def _shift_schedule(env: dict[str, str], *options: str) -> Any:
    """`mlops endpoint shift intent-ab` giving the challenger 50 % then 100 %, with these options, as JSON."""
    return _cli("shift", "intent-ab", "--variant", "challenger", "--schedule", "50,100", *options, "--json", env=env)


def _json(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _aliases(env: dict[str, str]) -> dict[str, str]:
    from mlflow import MlflowClient

    aliases = MlflowClient(env["MLFLOW_TRACKING_URI"]).get_registered_model(NAME).aliases
    return {alias: str(version) for alias, version in aliases.items()}


def _weights(env: dict[str, str]) -> dict[str, float]:
    variants = _json(_cli("status", "intent-ab", "--json", env=env))["variants"]
    return {v["variant"]: v["current_weight"] for v in variants}


def _champion(env: dict[str, str]) -> str | None:
    from model_registry.promotion import champion_history

    return champion_history(NAME, tracking_uri=env["MLFLOW_TRACKING_URI"])["champion"]


# ---------------------------------------------------------------------------------------------- AWS (moto)


def test_aws_deploy_uploads_packages_and_creates_two_variants(registry: dict[str, str], moto_server: str) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket="intent-models")
    status = _json(
        _cli(
            "deploy",
            "intent-ab",
            "--image-uri",
            IMAGE,
            "--role",
            ROLE,
            "--bucket",
            "intent-models",
            "--autoscale",
            "1:4:70",
            "--data-capture",
            "s3://intent-models/capture",
            "--instance-type",
            "ml.c5.large",
            "--instance-count",
            "challenger=2",
            "--json",
            env=env,
        )
    )
    variants = {v["variant"]: v for v in status["variants"]}
    assert {n: (v["current_weight"], v["model_version"]) for n, v in variants.items()} == {
        "champion": (90.0, "1"),
        "challenger": (10.0, "2"),
    }
    assert variants["challenger"]["autoscaling"]["max_instances"] == 4 and status["data_capture"]
    assert {n: (v["instance_type"], v["current_instance_count"]) for n, v in variants.items()} == {
        "champion": ("ml.c5.large", 1),
        "challenger": ("ml.c5.large", 2),
    }
    key = "intent-mlops/models/intent-classifier/v2/model.tar.gz"
    uploaded = s3.get_object(Bucket="intent-models", Key=key)["Body"].read()
    assert uploaded[:2] == b"\x1f\x8b"  # the registered gzip package, as SageMaker will download it

    shifted = _json(_cli("shift", "intent-ab", "--weights", "champion=50,challenger=50", "--json", env=env))
    assert shifted["weights"] == {"champion": 50.0, "challenger": 50.0}
    assert "champion" in _cli("status", "intent-ab", env=env).stdout

    # CloudWatch counts whole published minutes: a stepwise shift whose bake may hold none is refused at once.
    short = _cli(
        "shift", "intent-ab", "--variant", "challenger", "--schedule", "50,100", "--bake-seconds", "60", env=env
    )
    assert short.returncode == 1 and "give --bake-seconds 240 or more" in short.stderr, short.stderr
    weights = {
        v["variant"]: v["current_weight"] for v in _json(_cli("status", "intent-ab", "--json", env=env))["variants"]
    }
    assert weights == {"champion": 50.0, "challenger": 50.0}
    # Blue/green guardrails need the variant names kept: a promotion that drops one refuses them before any change.
    sm = boto3.client("sagemaker", endpoint_url=moto_server, region_name="us-east-1")
    configs = sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]
    # (moto publishes no CloudWatch metrics, so the A/B report has no verdict: these promotions are forced.)
    forced = ("--force", "--reason", "moto has no metrics")
    guarded = _cli("promote", "intent-ab", "--variant", "challenger", "--guardrails", "canary", *forced, env=env)
    assert guarded.returncode == 1 and "keep the endpoint's variant names (challenger, champion)" in guarded.stderr
    assert "mlops endpoint shift intent-ab --variant challenger --schedule" in guarded.stderr
    assert sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"] == configs

    # moto has no UpdateEndpoint: the promotion fails there, and must leave the registry and the endpoint as they were.
    unforced = _cli("promote", "intent-ab", "--variant", "challenger", env=env)
    assert unforced.returncode == 1 and "no A/B verdict on challenger" in unforced.stderr, unforced.stderr
    assert "--force --reason" in unforced.stderr
    failed = _cli("promote", "intent-ab", "--variant", "challenger", *forced, env=env)
    assert failed.returncode == 1 and "UpdateEndpoint" in failed.stderr
    assert _champion(registry) == "1"
    assert _json(_cli("status", "intent-ab", "--json", env=env))["endpoint_config"] == status["endpoint_config"]

    # The history holds what changed (not what was refused or failed), and rollback undoes the shift.
    changes = _json(_cli("history", "intent-ab", "--json", env=env))["changes"]
    assert [(c["kind"], c["weights_after"]) for c in changes] == [
        ("shift", {"champion": 50.0, "challenger": 50.0}),
        ("deploy", {"champion": 90.0, "challenger": 10.0}),
    ]
    assert changes[0]["weights_before"] == {"champion": 90.0, "challenger": 10.0}
    rolled = _json(_cli("rollback", "intent-ab", "--json", "--actor", "release-bot", env=env))
    assert (
        rolled["kind"] == "shift"
        and rolled["registry"] is None
        and _weights(env) == {"champion": 90.0, "challenger": 10.0}
    )
    assert _json(_cli("history", "intent-ab", "--json", env=env))["changes"][0]["by"] == "release-bot"
    nothing = _cli("rollback", "intent-ab", env=env)
    assert nothing.returncode == 1 and "nothing left to undo on endpoint 'intent-ab'" in nothing.stderr


def test_aws_deploy_refused_by_sagemaker_leaves_no_models(registry: dict[str, str], moto_server: str) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    sm = boto3.client("sagemaker", endpoint_url=moto_server, region_name="us-east-1")
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(Bucket="intent-refused")
    before = {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]}
    proc = _cli(
        "deploy",
        "intent-refused",
        "--image-uri",
        IMAGE,
        "--role",
        ROLE,
        "--bucket",
        "intent-refused",
        "--instance-type",
        "ml.nope.large",
        env=env,
    )
    assert proc.returncode == 1 and "CreateEndpointConfig failed: ValidationException" in proc.stderr
    assert {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]} == before


def test_aws_deploy_to_a_missing_bucket_is_one_clear_line(registry: dict[str, str], moto_server: str) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    sm = boto3.client("sagemaker", endpoint_url=moto_server, region_name="us-east-1")
    before = {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]}
    proc = _cli(
        "deploy", "intent-nobucket", "--image-uri", IMAGE, "--role", ROLE, "--bucket", "no-such-bucket", env=env
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("Error: S3 bucket no-such-bucket does not exist: nothing was uploaded or created")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 2  # the error and its hint
    assert {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variant", "champion=no-such-alias"], "has no version or alias 'no-such-alias'"),
        (["--variant", "champion_v1=champion"], "variant name 'champion_v1' would be rejected by SageMaker"),
        (["--variant", "a=champion", "--variant", "a=challenger"], "two variants are named 'a'"),
        (["--weights", "champion=0,challenger=0"], "do not sum to a positive number"),
        (["--weights", "champion=90,shadow=10"], "no variant named 'shadow'"),
        (["--variant", "champion"], "is not NAME=MODEL"),
        (["--instance-count", "shadow=2"], "no variant named 'shadow'"),
        (["--instance-count", "two"], "are not valid values"),
        (["--autoscale", "4:1:70"], "1 <= min <= max"),
        (["--autoscale", "1-4"], "is not MIN:MAX:TARGET"),
        (["--autoscale", "1:4:70", "--no-wait"], "autoscaling cannot go with --no-wait"),
        (["--guardrails", "linear", "--guardrail-step", "5"], "AWS's limit for LinearStepSize"),
    ],
)
def test_aws_deploy_bad_input_changes_nothing(
    registry: dict[str, str], moto_server: str, args: list[str], message: str
) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    proc = _cli(
        "deploy", "intent-bad", "--image-uri", IMAGE, "--role", ROLE, "--bucket", "intent-models", *args, env=env
    )
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr
    sm = boto3.client("sagemaker", endpoint_url=moto_server, region_name="us-east-1")
    assert "intent-bad" not in {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]}


def test_aws_needs_image_role_and_an_existing_endpoint(registry: dict[str, str], moto_server: str) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    assert "no serving image" in _cli("deploy", "intent-x", "--role", ROLE, env=env).stderr
    assert "not an IAM role ARN" in _cli("deploy", "intent-x", "--image-uri", IMAGE, "--role", "admin", env=env).stderr
    for args in (
        ["shift", "no-such-ep", "--weights", "a=1"],
        ["status", "no-such-ep"],
        ["rollback", "no-such-ep"],
        ["history", "no-such-ep"],
        ["promote", "no-such-ep", "--variant", "a"],
    ):
        proc = _cli(*args, env=env)
        assert proc.returncode == 1 and "endpoint 'no-such-ep' does not exist" in proc.stderr, (args, proc.stderr)
    assert "give either --weights or --schedule" in _cli("shift", "x", env=env).stderr
    assert "increasing percentages" in _cli("shift", "x", "--variant", "a", "--schedule", "50,10", env=env).stderr


# ------------------------------------------------------------------------------------------ the local endpoint


@pytest.fixture(scope="module")
def local_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`mlops endpoint serve-local`, started empty: endpoints are created through its SageMaker API."""
    log = tmp_path_factory.mktemp("local-endpoint") / "server.log"
    server = start_server(["-m", "mlops_cli", "endpoint", "serve-local"], log)
    yield server
    server.kill()


def _runtime(url: str) -> Any:
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


class Traffic:
    """Client threads invoking the endpoint until stopped; counts answers per variant and failures."""

    def __init__(self, url: str, endpoint: str, clients: int = 2) -> None:
        self.runtime = _runtime(url)
        self.endpoint = endpoint
        self.variants: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(clients)]

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                response = self.runtime.invoke_endpoint(
                    EndpointName=self.endpoint,
                    ContentType="application/json",
                    Body=json.dumps({"inputs": "write a haiku about autumn"}),
                )
                response["Body"].read()
                self.variants[response["InvokedProductionVariant"]] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                self.failures.append(repr(exc))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def test_local_ab_flow_deploy_report_shift_promote_rollback(
    registry: dict[str, str], local_endpoint: ServerProcess, small_dataset: Path
) -> None:
    env = {**registry, "MLOPS_LOCAL_ENDPOINT": local_endpoint.url}
    deployed = _cli("deploy", "intent-ab", "--json", env=env)
    status = _json(deployed)
    assert status["status"] == "InService"
    # Off a terminal, the wait is plain lines on stderr: the status while the models load, then how long it took.
    config = status["endpoint_config"]
    assert f"endpoint intent-ab: Creating (0s) - config {config}\n" in deployed.stderr, deployed.stderr
    assert "endpoint intent-ab: InService (done in " in deployed.stderr and "\x1b" not in deployed.stderr
    assert {v["variant"]: (v["current_weight"], v["model_version"]) for v in status["variants"]} == {
        "champion": (90.0, "1"),
        "challenger": (10.0, "2"),
    }

    # Traffic through the benchmark harness (boto3 sagemaker-runtime), reported per variant.
    bench = run_cli(
        "bench",
        "run",
        "--endpoint",
        "intent-ab",
        "--requests",
        "300",
        "--concurrency",
        "2",
        "--payloads",
        "data/natural_prompts.jsonl",
        "--json",
        env=env,
    )
    assert bench.returncode == 0, bench.stderr
    per_variant = json.loads(bench.stdout)["summary"]["variants"]
    assert set(per_variant) == {"champion", "challenger"}

    report = _json(_cli("report", "intent-ab", "--json", env=env))
    counts = {n: v["invocations"] for n, v in report["variants"].items()}
    assert counts["champion"] + counts["challenger"] >= 300 and counts["challenger"] > 0
    assert report["candidate"] == "challenger" and report["baseline"] == "champion"
    # The two versions share their weights: they agree everywhere and are equally accurate.
    assert report["agreement"] == 1.0 and report["sample_size"] >= 50
    assert report["tests"]["accuracy"]["difference"] == 0.0
    assert sum(report["variants"]["champion"]["prediction_distribution"].values()) == pytest.approx(1.0, abs=1e-3)
    # But the challenger's 10 % of 300 requests cannot show an error rate under 1 %: the report says how many more.
    assert report["verdict"] == "inconclusive"
    need = report["required"]["live_requests"] - counts["challenger"]
    assert any(f"need {need} more live requests on challenger" in line for line in report["evidence"])
    checked = _cli("report", "intent-ab", "--check", env=env)
    assert checked.returncode == 1 and "verdict: INCONCLUSIVE" in checked.stdout
    assert "a decision needs (95% confidence, 80% power)" in checked.stdout
    assert "verdict is inconclusive, not promote" in checked.stderr
    bad = _cli("report", "intent-ab", "--confidence", "1.5", env=env)
    assert bad.returncode == 2 and "Invalid value for '--confidence'" in bad.stderr

    # No traffic is no evidence: the first step bakes on to --max-bake-seconds, then every weight goes back.
    starved = _shift_schedule(env, "--bake-seconds", "0.5", "--max-bake-seconds", "1")
    assert starved.returncode == 1 and "insufficient evidence after 1 s" in starved.stderr, starved.stderr
    assert "challenger served 0 of the 30 requests a step needs" in starved.stderr
    assert json.loads(starved.stdout)["final_weights"] == {"champion": 90.0, "challenger": 10.0}

    # A stepwise shift whose guard is crossed (p95 over 0.001 ms) stops at its first step and reverts.
    with Traffic(local_endpoint.url, "intent-ab") as traffic:
        reverted = _shift_schedule(env, "--bake-seconds", "1", "--max-p95-ms", "0.001")
    assert reverted.returncode == 1 and "reverted at 50%" in reverted.stderr, reverted.stderr
    outcome = json.loads(reverted.stdout)
    assert len(outcome["steps"]) == 1 and outcome["final_weights"] == {"champion": 90.0, "challenger": 10.0}
    assert traffic.failures == []

    # A healthy schedule runs to the end while traffic flows, dropping nothing.
    with Traffic(local_endpoint.url, "intent-ab") as traffic:
        healthy = _shift_schedule(env, "--bake-seconds", "1")
    done = _json(healthy)
    assert done["completed"] and done["final_weights"] == {"champion": 0.0, "challenger": 100.0}
    # Each bake is a plain line with the traffic so far and the guard; the schedule's end says how long it took.
    baking = r"shift intent-ab: challenger at 50% \(step 1/2\): baking 0/1 \(0s\) - champion \d+ req \d+ err p95 "
    assert re.search(baking + r".*, challenger \d+ req \d+ err p95 ", healthy.stderr), healthy.stderr
    assert "judged on >= 30 req each, errors <= 1.0%, p95 <= 500 ms" in healthy.stderr
    assert "shift intent-ab: challenger at 100% (done in " in healthy.stderr and "\x1b" not in healthy.stderr
    assert traffic.failures == [] and traffic.variants["challenger"] > 0

    # Promote needs the A/B report's promote verdict: the second of traffic since the last step and 50 labelled
    # prompts are not enough.
    refused = _cli("promote", "intent-ab", "--variant", "challenger", "--sample-size", "50", env=env)
    assert refused.returncode == 1 and "the A/B report's verdict on challenger is inconclusive" in refused.stderr
    assert "--force --reason" in refused.stderr
    unexplained = _cli("promote", "intent-ab", "--variant", "challenger", "--force", env=env)
    assert unexplained.returncode == 1 and "--force needs --reason" in unexplained.stderr
    assert _weights(env) == {"champion": 0.0, "challenger": 100.0} and _aliases(registry) == {
        "champion": "1",
        "challenger": "2",
    }
    # With enough traffic on it and a labelled sample large enough for the tolerance, the verdict is promote.
    payloads = ["--payloads", "data/natural_prompts.jsonl"]
    bench = run_cli("bench", "run", "--endpoint", "intent-ab", "--requests", "450", *payloads, env=env)
    assert bench.returncode == 0, bench.stderr
    evidence = ("--inputs", str(small_dataset), "--sample-size", "200")

    # Promote: the challenger takes everything as the variant `champion`, the old champion leaves the endpoint, the
    # champion alias follows and the challenger alias leaves the version that is now the champion.
    with Traffic(local_endpoint.url, "intent-ab") as traffic:
        promoted = _json(_cli("promote", "intent-ab", "--variant", "challenger", *evidence, "--json", env=env))
    assert promoted["ab_verdict"] == {**promoted["ab_verdict"], "verdict": "promote", "forced": False}
    assert promoted["removed"] == ["champion"] and promoted["registry"]["moved"] and promoted["variant"] == "champion"
    assert traffic.failures == []
    assert _aliases(registry) == {"champion": "2"}
    status = _json(_cli("status", "intent-ab", "--json", env=env))
    assert [(v["variant"], v["model_version"]) for v in status["variants"]] == [("champion", "2")]
    bench = run_cli("bench", "run", "--endpoint", "intent-ab", "--requests", "20", *payloads, "--json", env=env)
    assert bench.returncode == 0 and set(json.loads(bench.stdout)["summary"]["variants"]) == {"champion"}

    # Every change is in the endpoint's history, newest first: each step of the three schedules and their reverts.
    changes = _json(_cli("history", "intent-ab", "--json", env=env))["changes"]
    assert [c["kind"] for c in changes] == ["promote", "shift", "shift", "revert", "shift", "revert", "shift", "deploy"]
    assert changes[0]["promoted_version"] == "2"
    assert changes[0]["weights_before"] == {"champion": 0.0, "challenger": 100.0}
    assert changes[3]["undoes"] == [4] and changes[4]["undone_by"] == 5

    # Rollback undoes the promotion: the two variants with the weights they had, and both aliases.
    rolled = _json(_cli("rollback", "intent-ab", "--json", env=env))
    assert rolled["kind"] == "promote" and rolled["registry"]["moved"]
    assert _aliases(registry) == {"champion": "1", "challenger": "2"}
    assert _weights(env) == {"champion": 0.0, "challenger": 100.0}
    # Each rollback goes one change further back: the completed schedule's steps, then past the reverted ones.
    stepped = _cli("rollback", "intent-ab", env=env)
    assert stepped.returncode == 0, stepped.stderr
    assert "undid change #7 (shift): weights champion=0,challenger=100 -> champion=50,challenger=50" in stepped.stdout
    assert _json(_cli("rollback", "intent-ab", "--json", env=env))["undoes"] == 6
    assert _weights(env) == {"champion": 90.0, "challenger": 10.0}
    nothing = _cli("rollback", "intent-ab", env=env)
    assert nothing.returncode == 1 and "nothing left to undo on endpoint 'intent-ab'" in nothing.stderr
    assert "mlops endpoint history intent-ab" in nothing.stderr and "Traceback" not in nothing.stderr
    assert _aliases(registry) == {"champion": "1", "challenger": "2"}
    listing = _cli("history", "intent-ab", env=env).stdout
    assert "rollback" in listing and "promoted v2" in listing and "(undone by #9)" in listing

    # The report's window starts when the endpoint's config or weights last changed: a shift starts a new one.
    _json(_cli("shift", "intent-ab", "--weights", "champion=80,challenger=20", "--json", env=env))
    fresh = _json(_cli("report", "intent-ab", "--json", env=env))
    assert {n: v["invocations"] for n, v in fresh["variants"].items()} == {"champion": 0, "challenger": 0}

    # A forced promotion past that inconclusive verdict goes through, and both the endpoint's history and the
    # registry's audit say so, with why.
    forced = _json(
        _cli("promote", "intent-ab", "--variant", "challenger", "--force", "--reason", "hotfix", "--json", env=env)
    )
    assert forced["ab_verdict"]["forced"] and forced["ab_verdict"]["verdict"] == "inconclusive"
    assert _json(_cli("history", "intent-ab", "--json", env=env))["changes"][0]["forced"] is True
    audit = json.loads(run_cli("registry", "audit", "--json", env=env).stdout)
    latest = max(audit["events"], key=lambda event: event["at"])
    assert latest["action"] == "promote" and latest["to_version"] == "2"
    assert latest["reason"] == "forced past the A/B verdict (inconclusive) on endpoint intent-ab: hotfix"
    # And it rolls back like any other: the registry is left as the flow found it.
    assert _json(_cli("rollback", "intent-ab", "--json", env=env))["kind"] == "promote"
    assert _aliases(registry) == {"champion": "1", "challenger": "2"}


def test_local_endpoint_bad_input(registry: dict[str, str], local_endpoint: ServerProcess) -> None:
    env = {**registry, "MLOPS_LOCAL_ENDPOINT": local_endpoint.url}
    for args, message in [
        (["deploy", "intent-bad", "--variant", "a=no-such-alias"], "has no version or alias 'no-such-alias'"),
        (
            ["deploy", "intent-bad", "--variant", "a=champion", "--variant", "a=challenger"],
            "two variants are named 'a'",
        ),
        (["deploy", "intent-bad", "--variant", "a.b=champion"], "would be rejected by SageMaker"),
        (["deploy", "intent-bad", "--weights", "champion=0,challenger=0"], "do not sum to a positive number"),
        (["deploy", "intent-bad", "--autoscale", "1:2:70"], "not on the local endpoint"),
        (["deploy", "intent-bad", "--guardrails", "canary"], "not on the local endpoint"),
        (["promote", "intent-ab", "--variant", "shadow"], "no variant named 'shadow'"),
        (["shift", "no-such-endpoint", "--weights", "a=1"], "endpoint 'no-such-endpoint' does not exist"),
        (["report", "no-such-endpoint"], "endpoint 'no-such-endpoint' does not exist"),
    ]:
        proc = _cli(*args, env=env)
        assert proc.returncode == 1 and message in proc.stderr, (args, proc.stderr)
    # No AWS region or credentials configured (a fresh laptop): the local endpoint still works.
    bare = {**env, "AWS_DEFAULT_REGION": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    proc = run_cli(
        "bench",
        "run",
        "--endpoint",
        "intent-ab",
        "--requests",
        "5",
        "--payloads",
        "data/natural_prompts.jsonl",
        env=bare,
    )
    assert proc.returncode == 0, proc.stderr
    assert _cli("status", "intent-ab", env=bare).returncode == 0
    unreachable = _cli("status", "intent-ab", env={**env, "MLOPS_LOCAL_ENDPOINT": "http://127.0.0.1:9"})
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr


# ---------------------------------------------------------------------------------------------- model resolution


def test_resolving_variants_looks_each_version_up_once_and_reuses_its_package(
    registry: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.artifacts

    import model_registry.queries as queries
    from pipelines.release import resolve_models

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry["MLFLOW_TRACKING_URI"])
    lookups: list[tuple] = []
    downloads: list[str] = []
    real_lookup, real_download = queries.get_version, mlflow.artifacts.download_artifacts
    monkeypatch.setattr(queries, "get_version", lambda *a, **k: lookups.append(a) or real_lookup(*a, **k))
    monkeypatch.setattr(
        mlflow.artifacts,
        "download_artifacts",
        lambda *a, **k: downloads.append(k["artifact_uri"]) or real_download(*a, **k),
    )
    pairs = [("champion", f"models:/{NAME}@champion"), ("challenger", f"models:/{NAME}/2")]

    first = resolve_models(pairs, model_name=NAME, local=True)
    assert [(m.variant, m.model_version) for m in first] == [("champion", "1"), ("challenger", "2")]
    assert all(m.local_path.name == "model.tar.gz" and m.local_path.is_file() for m in first)
    assert len(lookups) == 2 and len(downloads) == 2  # one registry lookup and one download per variant

    again = resolve_models(pairs, model_name=NAME, local=True)
    assert [m.local_path for m in again] == [m.local_path for m in first]
    assert len(lookups) == 4 and len(downloads) == 2  # versions are immutable: their packages are reused
