"""What every Locust process of `mlops bench locust` runs: a user class per kind of target, each user paced to a
fixed arrival rate, and the exact per-request samples of every worker gathered by the master.

Pacing: each user has its own schedule (one request every 1/user_rps seconds, first one at a random offset so the
users' arrivals spread out) and its latency is measured from the request's *scheduled* start, as the in-house open
loop does (benchmarks/load.py): a target that falls behind shows its queueing delay instead of slowing the load down.
Locust's own `constant_throughput` measures from the actual send and would hide it (coordinated omission).

Exact percentiles: Locust's own statistics round response times into buckets. Here each worker streams its raw
samples (latency, dispatch lag, variant, error) to the master in custom messages, and the master writes them all to
the runner's file once every worker has stopped; benchmarks/swarm/runner.py computes the report from them.

Measuring starts one user interval after every user is spawned (each user's first request, which opens its
connection, is not measured, and every user is then on its schedule) and ends when the master stops the test
`duration_s` later; requests in flight then finish and are measured.

Run by benchmarks/swarm/runner.py, never imported by the rest of the project (importing locust patches the
standard library with gevent).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, User, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from benchmarks.payloads import load_payloads
from benchmarks.swarm.settings import (
    DONE_MESSAGE,
    FINISH_MESSAGE,
    FLUSH_EVERY_S,
    MEASURE_MESSAGE,
    SAGEMAKER_PREFIX,
    SAMPLES_MESSAGE,
    USER_RPS_DEST,
    USER_RPS_OPTION,
    SwarmSettings,
    split_url,
)
from benchmarks.targets import VARIANT_HEADER, HttpStatusError

log = logging.getLogger(__name__)
SETTINGS = SwarmSettings.from_env()
TARGET_VARIANT_HEADER = "X-Amzn-SageMaker-Target-Variant"
# Time for the last users' warm-up request, beyond their first interval, before measuring starts.
SETTLE_S = 0.5
# Locust's own message that makes a worker process exit.
LOCUST_QUIT = "quit"
# How long the master waits for the workers' last samples beyond the request timeout.
FINISH_GRACE_S = 30.0


class _Recorder:
    """This worker's samples since the last flush, and its totals."""

    def __init__(self) -> None:
        self.measuring_since: float | None = None  # perf_counter when the master said every user is running
        self.batch: dict[str, list[Any]] = self._empty()
        self.requests = 0
        self.cpu_at_start = 0.0

    @staticmethod
    def _empty() -> dict[str, list[Any]]:
        return {"latency_s": [], "lag_s": [], "variant": [], "error": []}

    def add(self, scheduled: float, sent: float, done: float, variant: str | None, error: str | None) -> None:
        """Keep one request's sample if it was scheduled after measuring began."""
        if self.measuring_since is None or scheduled < self.measuring_since:
            return
        self.batch["latency_s"].append(done - scheduled)
        self.batch["lag_s"].append(sent - scheduled)
        self.batch["variant"].append(variant)
        self.batch["error"].append(error)
        self.requests += 1

    def take(self) -> dict[str, list[Any]]:
        """The samples gathered since the last call."""
        batch, self.batch = self.batch, self._empty()
        return batch


_recorder = _Recorder()
_payloads: list[str] = []


def _payload(index: int) -> str:
    if not _payloads:
        _payloads.extend(load_payloads(Path(SETTINGS.payloads) if SETTINGS.payloads else None))
    return _payloads[index % len(_payloads)]


class _Paced(User):
    """One request every 1/user_rps seconds on the user's own schedule; `call` sends one and names its variant."""

    abstract = True
    interval_s = 1.0 / SETTINGS.user_rps  # replaced in on_start by the master's pace (USER_RPS_OPTION)
    _next = 0.0
    _index = 0

    def call(self, text: str) -> str | None:  # pragma: no cover - each user class defines it
        raise NotImplementedError

    def on_start(self) -> None:
        """Open the connection with one unmeasured request, then wait for a random point of the first interval."""
        self._index = random.randrange(1 << 16)
        # The master's per-user rate, which Locust hands every worker with its users: a worker started elsewhere
        # with another --rate or worker count still paces its users as the master planned them.
        self.interval_s = 1.0 / float(getattr(self.environment.parsed_options, USER_RPS_DEST, SETTINGS.user_rps))
        # The warm-up is not measured; a failing target shows in the measured samples.
        with contextlib.suppress(Exception):
            self.call(_payload(self._index))
        self._next = time.perf_counter() + random.random() * self.interval_s
        time.sleep(max(0.0, self._next - time.perf_counter()))  # gevent's sleep: Locust patched time

    def wait_time(self) -> float:
        """Until this user's next scheduled request (none when it is behind)."""
        return max(0.0, self._next - time.perf_counter())

    @task
    def invoke(self) -> None:
        """Send the scheduled request and record it, measured from its scheduled start."""
        scheduled, self._next = self._next, self._next + self.interval_s
        self._index += 1
        sent = time.perf_counter()
        variant, error = None, None
        try:
            variant = self.call(_payload(self._index))
        except Exception as exc:  # noqa: BLE001 - every failure is a measured error, never a crash of the run
            error = type(exc).__name__
        _recorder.add(scheduled, sent, time.perf_counter(), variant, error)


class InvocationsUser(_Paced, FastHttpUser):
    """The model server (`mlops serve`): POST {"inputs": text} to its /invocations."""

    abstract = False
    network_timeout = SETTINGS.timeout_s
    connection_timeout = SETTINGS.timeout_s
    _path = split_url(SETTINGS.target)[1] if not SETTINGS.target.startswith(SAGEMAKER_PREFIX) else "/"
    _headers: dict[str, str] = {"Content-Type": "application/json", "Accept": "application/json"}  # noqa: RUF012

    def call(self, text: str) -> str | None:
        """One invocation; the answering variant from the runtime's header, if any."""
        body = json.dumps({"inputs": text})
        with self.client.post(self._path, data=body, headers=self._headers, catch_response=True) as response:
            status = response.status_code
            ok = status is not None and 200 <= status < 300
            if ok:
                response.success()
            else:
                response.failure(f"HTTP {status}")
            variant: str | None = response.headers.get(VARIANT_HEADER) if ok and response.headers else None
        if ok:
            return variant
        # No status: the request never got an answer (refused, reset, timed out); name the network error.
        error = response.error
        raise error if not status and isinstance(error, Exception) else HttpStatusError(f"HTTP {status}")


class EndpointUser(InvocationsUser):
    """The local A/B endpoint's runtime (/endpoints/NAME/invocations): per-variant samples from its
    x-Amzn-Invoked-Production-Variant header; a pinned variant goes in X-Amzn-SageMaker-Target-Variant."""

    _headers = {  # noqa: RUF012
        **InvocationsUser._headers,
        **({TARGET_VARIANT_HEADER: SETTINGS.target_variant} if SETTINGS.target_variant else {}),
    }


_sagemaker_client: Any = None


def _sagemaker() -> Any:
    """One sagemaker-runtime client per worker process (boto3 clients are thread-safe), its pool sized for many
    concurrent users."""
    global _sagemaker_client
    if _sagemaker_client is None:
        from ml.aws import boto3_client

        _sagemaker_client = boto3_client(
            "sagemaker-runtime",
            region=SETTINGS.region,
            endpoint_url=SETTINGS.endpoint_url,
            read_timeout=SETTINGS.timeout_s,
            connect_timeout=5,
            retries={"max_attempts": 1},
            max_pool_connections=1024,
        )
    return _sagemaker_client


class SageMakerUser(_Paced):
    """A SageMaker endpoint through boto3's InvokeEndpoint (signed by botocore; unsigned for a local stand-in)."""

    abstract = False

    def call(self, text: str) -> str | None:
        """One InvokeEndpoint; the answering variant from its InvokedProductionVariant."""
        endpoint = SETTINGS.target.removeprefix(SAGEMAKER_PREFIX)
        extra = {"TargetVariant": SETTINGS.target_variant} if SETTINGS.target_variant else {}
        started = time.perf_counter()
        exception: Exception | None = None
        length = 0
        try:
            response = _sagemaker().invoke_endpoint(
                EndpointName=endpoint,
                ContentType="application/json",
                Accept="application/json",
                Body=json.dumps({"inputs": text}).encode(),
                **extra,
            )
            length = len(response["Body"].read())
            variant: str | None = response.get("InvokedProductionVariant")
            return variant
        except Exception as exc:
            exception = exc
            raise
        finally:  # Locust's own statistics (its console and CSV) see the call too
            self.environment.events.request.fire(
                request_type="InvokeEndpoint",
                name=endpoint,
                response_time=(time.perf_counter() - started) * 1000,
                response_length=length,
                exception=exception,
                context={},
            )


class _Collector:
    """The master's side: every worker's samples, merged; the measuring clock; the file for the runner."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.samples: dict[str, list[Any]] = _Recorder._empty()
        self.workers: dict[str, dict[str, Any]] = {}
        self.started: float | None = None
        self.done: set[str] = set()  # workers whose final samples are in

    def on_samples(self, environment: Environment, msg: Any, **_: Any) -> None:
        """Append a worker's batch."""
        for key, values in msg.data.items():
            self.samples[key].extend(values)
        worker = self.workers.setdefault(msg.node_id, {"received": 0})
        worker["received"] += len(msg.data["latency_s"])

    def on_done(self, environment: Environment, msg: Any, **_: Any) -> None:
        """A worker's own totals, sent after its last batch."""
        self.workers.setdefault(msg.node_id, {"received": 0}).update(msg.data)
        self.done.add(msg.node_id)

    def on_spawned(self, **_: Any) -> None:
        """Every user runs: measure for duration_s, stop the workers (they send what is left), write, quit."""
        if self.started is not None or self.environment.runner is None:
            return
        self.started = time.perf_counter()
        self.environment.runner.greenlet.spawn(self._measure)

    def _measure(self) -> None:
        runner = self.environment.runner
        if not isinstance(runner, MasterRunner):
            return
        # Users spawned last are still warming up and waiting for their first slot (up to one interval): start
        # measuring once every user is on its schedule, so the measured rate is the whole rate.
        time.sleep(1.0 / SETTINGS.user_rps + SETTLE_S)
        runner.send_message(MEASURE_MESSAGE)
        workers = [client.id for client in runner.clients.all]
        started = time.perf_counter()
        time.sleep(SETTINGS.duration_s or 0.0)
        wall_s = time.perf_counter() - started
        # Not runner.stop(): a worker told "stop" sleeps stop_timeout in its message loop before it reads "quit".
        # FINISH makes each worker stop its users (requests in flight finish) and send its last samples, then DONE.
        runner.send_message(FINISH_MESSAGE)
        deadline = time.monotonic() + SETTINGS.timeout_s + FINISH_GRACE_S
        while not self.done.issuperset(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not self.done.issuperset(workers):
            log.error("workers %s sent no final samples", sorted(set(workers) - self.done))
        elif SETTINGS.out:
            document = {"wall_s": wall_s, "users": runner.target_user_count, "workers": self.workers, **self.samples}
            Path(SETTINGS.out).write_text(json.dumps(document))
        for worker in workers:
            runner.send_message(LOCUST_QUIT, client_id=worker)
        runner.quit()


def _worker_flush(environment: Environment) -> None:
    """Send the gathered samples to the master every FLUSH_EVERY_S."""
    while True:
        time.sleep(FLUSH_EVERY_S)
        _send_samples(environment)


def _send_samples(environment: Environment) -> None:
    batch = _recorder.take()
    if batch["latency_s"] and environment.runner is not None:
        environment.runner.send_message(SAMPLES_MESSAGE, batch)


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    parser.add_argument(USER_RPS_OPTION, type=float, default=SETTINGS.user_rps, help="requests per second per user")


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        collector = _Collector(environment)
        runner.register_message(SAMPLES_MESSAGE, collector.on_samples)
        runner.register_message(DONE_MESSAGE, collector.on_done)
        environment.events.spawning_complete.add_listener(collector.on_spawned)
    elif isinstance(runner, WorkerRunner):
        flusher: list[Any] = []

        def on_measure(**_: Any) -> None:
            if _recorder.measuring_since is None:
                _recorder.measuring_since = time.perf_counter()
                _recorder.cpu_at_start = time.process_time()
                flusher.append(runner.greenlet.spawn(_worker_flush, environment))

        def on_finish(**_: Any) -> None:
            runner.stop()  # gracefully (Locust's stop_timeout): then test_stop sends the last samples

        def on_stop(**_: Any) -> None:
            for greenlet in flusher:
                greenlet.kill(block=True)
            _send_samples(environment)
            cpu_s = time.process_time() - _recorder.cpu_at_start if _recorder.measuring_since is not None else 0.0
            runner.send_message(DONE_MESSAGE, {"requests": _recorder.requests, "cpu_s": cpu_s})

        runner.register_message(MEASURE_MESSAGE, on_measure)
        runner.register_message(FINISH_MESSAGE, on_finish)
        environment.events.test_stop.add_listener(on_stop)
