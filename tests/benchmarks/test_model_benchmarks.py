"""Benchmarks that time the model alone measure what the server's predictor computes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from benchmarks.batch_ceiling import main as batch_ceiling
from benchmarks.onnx_session import classifier, classify_in_chunks


def test_benchmark_classifier_computes_what_the_predictor_serves(onnx_model: Path) -> None:
    from inference.predictor import OnnxPredictor

    texts = ["translate this sentence into French please", "write a haiku", "plan my week of study, day by day"]
    predictor = OnnxPredictor(onnx_model, precision="int8", intra_op_threads=1)
    for text in texts:  # one text per call: no padding, so the probabilities must agree to float precision
        np.testing.assert_allclose(
            classifier(onnx_model, "int8", 1)([text])[0], predictor.predict_proba([text])[0], atol=1e-6
        )


def test_batch_ceiling_reports_the_cost_per_text_for_each_case(
    onnx_model: Path, small_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ceiling.json"
    assert (
        batch_ceiling(
            [
                "--model-dir",
                str(onnx_model),
                "--threads",
                "1",
                "--lengths",
                "16",
                "--rounds",
                "1",
                "--requests",
                "2",
                "--payloads",
                str(small_dataset),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())["1 threads"]
    assert set(result) == {"real prompts (mixed lengths)", "16 tokens each"}
    real = result["real prompts (mixed lengths)"]
    assert set(real) == {
        "1 text per call",
        "8 texts per call, padded to the longest",
        "8 texts, length-sorted calls (the predictor)",
    }
    assert real["1 text per call"]["gain_vs_one_text_per_call"] == 1.0
    for row in real.values():
        assert row["p50_ms_per_text"] > 0 and abs(row["p50_ms_per_text"] * 8 - row["p50_ms_for_8_texts"]) < 1e-3


def test_classify_in_chunks_runs_every_text_once_in_calls_the_predictor_would_make() -> None:
    from ml.predict import length_chunks

    texts = ["short", "a much much longer prompt than the others " * 4, "tiny", "medium length prompt", "x" * 300]
    calls: list[list[str]] = []
    classify_in_chunks(lambda chunk: calls.append(list(chunk)) or np.zeros((len(chunk), 2)), texts, 2)
    assert sorted(t for call in calls for t in call) == sorted(texts)
    assert calls == [[texts[i] for i in chunk] for chunk in length_chunks(texts, 2)]
    assert all(1 <= len(call) <= 2 for call in calls)


def test_served_server_reports_which_worker_answered_over_which_connections(onnx_model: Path, tmp_path: Path) -> None:
    """A real two-worker server: every invocation is counted once, under the pid of the worker that answered it."""
    from benchmarks.load import LoadConfig, run_load
    from benchmarks.servers import served, traffic_per_worker
    from benchmarks.targets import http_target

    access_log = tmp_path / "server.log"
    with served(onnx_model, precision="int8", workers=2, threads=1, log_path=access_log) as url:
        summary = run_load(
            http_target(url),
            ["write a haiku", "plan my week"],
            LoadConfig(concurrency=4, requests=40, warmup_requests=4),
        ).summary()
    assert summary["errors"] == 0
    per_worker = traffic_per_worker(access_log)
    assert 1 <= len(per_worker) <= 2
    assert sum(w["invocations"] for w in per_worker.values()) == 44  # 4 warm-up + 40 measured
    # Pooled keep-alive connections: the 4 clients opened 4 connections in all, each kept by one worker.
    assert sum(w["connections"] for w in per_worker.values()) == 4


def test_server_cpu_counts_the_workers_and_compare_reports_it_per_request(onnx_model: Path) -> None:
    """A real two-worker server: its CPU is its workers' (the supervisor only waits), reported per request."""
    from benchmarks.compare import compare
    from benchmarks.load import LoadConfig
    from benchmarks.servers import process_cpu_seconds, server_process
    from benchmarks.targets import http_target

    with server_process(onnx_model, precision="int8", workers=2, threads=1) as server:
        session_before, supervisor_before = server.cpu_seconds(), process_cpu_seconds(server.pid)
        result = compare(
            {"server": http_target(server.url)},
            ["write a haiku", "plan my week"],
            LoadConfig(concurrency=4, requests=100, warmup_requests=4),
            rounds=2,
            cpu_probes={"server": server.cpu_seconds},
        )
        session_used = server.cpu_seconds() - session_before
        supervisor_used = process_cpu_seconds(server.pid) - supervisor_before
    summary = result["targets"]["server"]
    assert summary["errors"] == 0
    assert session_used > 0 and supervisor_used < session_used / 2
    # 208 requests sent (2 x 100 measured, 4 + 4 warm-up), each costing the server some CPU and the client some.
    assert summary["server_cpu_ms_per_request"] > 0 and summary["client_cpu_ms_per_request"] > 0


def test_batching_comparison_pins_the_own_core_pair_and_reports_every_gain(
    onnx_model: Path, small_dataset: Path
) -> None:
    """Part 3 of benchmarks.serving, small: real servers, the own-core pair where the machine can pin, every layout."""
    from benchmarks.affinity import can_pin
    from benchmarks.payloads import load_payloads
    from benchmarks.serving import BATCHING_LAYOUTS, BATCHING_PAIRS, batching_gain

    result = batching_gain(onnx_model, requests=16, rounds=1, prompts=load_payloads(small_dataset))
    pinning = can_pin() and len(os.sched_getaffinity(0)) >= 2
    own_core = result["own_core"]
    assert ("skipped" not in own_core) == pinning
    sets = ("real prompts", "16 tokens")
    compared = [(result[s], BATCHING_LAYOUTS) for s in sets]
    if pinning:
        assert set(own_core["server_cpus"]).isdisjoint(own_core["load_generator_cpus"])
        compared += [(own_core[s], BATCHING_PAIRS["1 worker"]) for s in sets]
    for comparison, layouts in compared:
        assert list(comparison["targets"]) == list(layouts) and comparison["baseline"] == next(iter(layouts))
        for summary in comparison["targets"].values():
            assert summary["errors"] == 0 and summary["ok"] == 16
            assert sum(w["invocations"] for w in summary["per_worker"].values()) == 16 + 20  # measured + warm-up
    for set_name in sets:
        gains = result["gains"][set_name]
        assert set(gains) == {"1 worker", "2 workers"} | ({"1 worker, server on its own core"} if pinning else set())
        targets = result[set_name]["targets"]
        assert gains["2 workers"] == round(
            targets["2 workers, batching 8 / 0 ms"]["throughput_rps"]
            / targets["2 workers, batching off (default)"]["throughput_rps"],
            3,
        )


def test_batching_gains_leave_out_the_own_core_pair_when_it_was_skipped() -> None:
    """Where the server could not be pinned (one core, not Linux), the gains are those of the shared-core pairs only."""
    from benchmarks.serving import BATCHING_LAYOUTS, _batching_gains

    rps = dict(zip(BATCHING_LAYOUTS, (100.0, 150.0, 200.0, 220.0), strict=True))
    shared = {"targets": {name: {"throughput_rps": value} for name, value in rps.items()}}
    result = {"own_core": {"skipped": "cannot give a server 1 core(s) of its own"}, "16 tokens": shared}
    assert _batching_gains(result, "16 tokens") == {"1 worker": 1.5, "2 workers": 1.1}
    result["own_core"] = {
        "16 tokens": {
            "targets": {
                name: {"throughput_rps": rps[name] * (2 if "8" in name else 1)} for name in list(BATCHING_LAYOUTS)[:2]
            }
        }
    }
    assert _batching_gains(result, "16 tokens")["1 worker, server on its own core"] == 3.0


def test_served_models_gives_each_model_its_own_exact_token_cut_and_the_natural_prompts(onnx_model: Path) -> None:
    """Two real servers side by side: each answered every request, cut to the asked token count, and the
    natural-prompt set reports its mean token count per model; the first model is the baseline."""
    from benchmarks.served_models import render, side_by_side

    models = {"before": onnx_model, "after": onnx_model}
    natural = ["write a haiku about rain", "why is the sky blue", "plan my week please"]
    results = side_by_side(models, tokens=16, natural=natural, rounds=2, requests=3, threads=1)
    exact, prompts = results["16 tokens"], results["natural prompts"]
    # Whole words up to the count: a cut lands on 16 tokens or a word boundary just under it.
    assert all(max(counts) == 16 and min(counts) >= 12 for counts in exact["tokens"].values())
    for result in (exact, prompts):
        assert result["baseline"] == "before"
        for summary in result["targets"].values():
            assert summary["errors"] == 0 and summary["requests"] == 6
        assert result["targets"]["before"]["ratios_vs_baseline"]["p50_ms"] == 1.0
    assert prompts["mean_tokens"]["before"] == prompts["mean_tokens"]["after"] > 3
    assert "| after |" in render(results)
