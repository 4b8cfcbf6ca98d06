"""Serving benchmarks: the ONNX server against PyTorch eager and the raw onnxruntime session, in one run.

1. Single-request latency over HTTP for a base-shaped DeBERTa-v3 (random weights: same compute) at 32, 64 and
   128 tokens, served with PyTorch eager, ORT fp32 and ORT int8, next to the raw onnxruntime session on the
   same inputs, in many short interleaved rounds.
2. Saturation at 64 tokens (int8): server layouts (workers x threads, micro-batching) in a closed loop, then
   the raw session's sustained saturation (one caller per core, one thread each) and, right after it, the
   default layout (no micro-batching) under open-loop load at 90 % of that throughput for as long, then the same
   layout with micro-batching at the same rate.
3. Micro-batching on the tiny model with 8 concurrent clients: off against on, on the real test prompts and on
   16-token prompts, with each server's CPU per request: one worker on a core of its own with the load generator
   on the others (where the machine has two cores or more), then one and two workers sharing all cores with it.

Run: .venv/bin/python -m benchmarks.serving --out docs/serving_benchmark.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.compare import compare
from benchmarks.load import LoadConfig, Target, run_load
from benchmarks.onnx_session import open_session
from benchmarks.report import emit_json
from benchmarks.servers import served, traffic_per_worker
from benchmarks.targets import http_target
from ml.errors import MlopsError
from ml.model import ONNX_FILES

log = logging.getLogger("benchmarks.serving")


# How the cached benchmark graphs were exported; a cache without it (or with other values) is exported again.
GRAPHS_FILE = "bench_graphs.json"


def bench_model(preset: str, root: Path, *, seed: int = 13, slice_positions: bool = True) -> Path:
    """A random-weights model of the preset's shape with ONNX fp32 and int8 exports (built once, then reused).

    slice_positions=False exports the graphs with transformers' attention as is (ml.export_attention), into a
    sibling directory that links to the same weights and tokenizer.
    """
    from ml.data import load_examples, split_examples
    from ml.export import export_fp32, quantize_int8
    from ml.model import ModelInfo, build_preset_model, get_preset, save_model
    from ml.settings import default_data_path
    from ml.taxonomy import INTENTS
    from ml.tokenizer import normalize_text, train_tokenizer

    base = root / preset
    if not (base / "model.safetensors").exists():
        spec = get_preset(preset)
        train = split_examples(load_examples(default_data_path()))["train"]
        tokenizer = train_tokenizer(
            [normalize_text(e.text, lowercase=True) for e in train], vocab_size=spec.tokenizer_vocab_size
        )
        model = build_preset_model(spec, tokenizer, list(INTENTS), seed=seed)
        save_model(model, tokenizer, ModelInfo(max_length=128, source=f"{preset} (random weights, benchmark)"), base)
    out = base if slice_positions else root / f"{preset}-unsliced"
    if out != base:
        out.mkdir(parents=True, exist_ok=True)
        for source in base.iterdir():
            if source.suffix != ".onnx" and source.name != GRAPHS_FILE and not (out / source.name).exists():
                (out / source.name).symlink_to(source.resolve())
    wanted = {"slice_positions": slice_positions}
    marker = out / GRAPHS_FILE
    if (out / ONNX_FILES["int8"]).exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return out
    quantize_int8(export_fp32(out, slice_positions=slice_positions))
    marker.write_text(json.dumps(wanted) + "\n")
    return out


def exact_length_texts(model_dir: Path, length: int, count: int, prompts: list[str] | None = None) -> list[str]:
    """Real prompts (default: the test split) joined and cut so that each tokenises to exactly `length` tokens."""
    from benchmarks.payloads import load_payloads
    from ml.model import ModelInfo
    from ml.predict import encode
    from ml.tokenizer import load_tokenizer

    tokenizer, info = load_tokenizer(model_dir), ModelInfo.load(model_dir)
    prompts = prompts or load_payloads()
    texts: list[str] = []
    for start in range(count):
        words = " ".join(prompts[start:] + prompts[:start]).split()
        low, high = 1, min(len(words), length * 2)
        while low < high:  # the longest word prefix that still fits in `length` tokens
            mid = (low + high + 1) // 2
            if encode(tokenizer, [" ".join(words[:mid])], info, return_tensors="np")["input_ids"].shape[1] <= length:
                low = mid
            else:
                high = mid - 1
        texts.append(" ".join(words[:low]))
    return texts


def raw_session_target(model_dir: Path, precision: str, threads: int, texts: list[str]) -> Target:
    """The onnxruntime session alone (pre-tokenised inputs, no server), created once and warmed up.

    One session serves every calling thread (`run` is thread-safe; with one intra-op thread each call runs on
    its caller, so concurrent callers run in parallel). A session per thread would be rebuilt, cold, whenever the
    load generator starts new threads, and its first runs would be measured.
    """
    from ml.model import ModelInfo
    from ml.predict import encode
    from ml.tokenizer import load_tokenizer

    tokenizer, info = load_tokenizer(model_dir), ModelInfo.load(model_dir)
    session, names = open_session(model_dir, precision, threads)
    feeds = {
        t: {n: np.asarray(encode(tokenizer, [t], info, return_tensors="np")[n], dtype=np.int64) for n in names}
        for t in texts
    }
    for feed in list(feeds.values())[:3]:
        session.run(None, feed)

    def call(text: str) -> None:
        session.run(None, feeds[text])

    return call


def token_lengths(model_dir: Path, texts: list[str]) -> list[int]:
    """How many tokens each text becomes under the model's tokenizer (truncated at its maximum length)."""
    from ml.model import ModelInfo
    from ml.predict import encode
    from ml.tokenizer import load_tokenizer

    tokenizer, info = load_tokenizer(model_dir), ModelInfo.load(model_dir)
    return [int(encode(tokenizer, [t], info, return_tensors="np")["input_ids"].shape[1]) for t in texts]


def token_counts(model_dir: Path, texts: list[str]) -> list[int]:
    """The distinct token counts of the texts (reported next to the results)."""
    return sorted(set(token_lengths(model_dir, texts)))


def single_request(model_dir: Path, lengths: list[int], rounds: int, requests: int, threads: int) -> dict[str, Any]:
    """Per length: p50/p95 of one request at a time for raw sessions and the three served backends.

    Many short interleaved rounds spread the machine's noise over the targets. Every target runs alone on the
    machine, as in production: the previous target's spinning threads settle before a round starts, and the
    round's first request (which would find them still waking) is not measured.
    """
    results: dict[str, Any] = {}
    with (
        served(model_dir, precision="torch", workers=1, threads=threads) as torch_url,
        served(model_dir, precision="fp32", workers=1, threads=threads) as fp32_url,
        served(model_dir, precision="int8", workers=1, threads=threads) as int8_url,
        served(model_dir, precision="int8", workers=threads, threads=1) as per_core_url,
    ):
        for length in lengths:
            texts = exact_length_texts(model_dir, length, 16)
            targets = {
                "raw ORT int8 session": raw_session_target(model_dir, "int8", threads, texts),
                "raw ORT fp32 session": raw_session_target(model_dir, "fp32", threads, texts),
                "served ORT int8": http_target(int8_url),
                f"served ORT int8, {threads} workers x 1 thread": http_target(per_core_url),
                "served ORT fp32": http_target(fp32_url),
                "served PyTorch eager": http_target(torch_url),
            }
            config = LoadConfig(concurrency=1, requests=requests, warmup_requests=5)
            result = compare(
                targets, texts, config, rounds=rounds, baseline="served PyTorch eager", settle_s=0.3, round_warmup=1
            )
            result["tokens"] = token_counts(model_dir, texts)
            results[str(length)] = result
            log.info("length %d done", length)
    return results


def saturation(model_dir: Path, requests: int, threads_total: int, sustained_s: float) -> dict[str, Any]:
    """Int8 at 64 tokens: server layouts at saturation, then the raw sessions' sustained saturation and, at 90 % of
    it, the default layout (no micro-batching) and the same layout with micro-batching under open-loop load, each
    for `sustained_s`, back to back.

    The raw sessions are measured for as long as an open loop runs, right before them: a few seconds of raw
    throughput catch the machine's best moments, which a minute of arrivals cannot hold to. Every layout names its
    batching explicitly, so the figures do not depend on the server's defaults. Each closed-loop layout records
    the invocations and connections each worker served: with 4 clients a worker can end up with none.
    """
    texts = exact_length_texts(model_dir, 64, 16)
    closed = LoadConfig(concurrency=2 * threads_total, requests=requests, warmup_requests=10)
    per_core: dict[str, Any] = {"workers": threads_total, "threads": 1}
    one: dict[str, Any] = {"workers": 1, "threads": threads_total}
    default, batched = {**per_core, "batch_max_size": 1}, {**per_core, "batch_max_size": 8}
    layouts = {
        f"{threads_total} workers x 1 thread, no batching (default)": default,
        f"{threads_total} workers x 1 thread, batching 8/0ms": batched,
        f"1 worker x {threads_total} threads, batching 8/0ms": {**one, "batch_max_size": 8},
        f"1 worker x {threads_total} threads, batching 8/0ms, no spinning": {**one, "batch_max_size": 8, "spin": "off"},
        f"1 worker x {threads_total} threads, no batching": {**one, "batch_max_size": 1},
        f"1 worker x {threads_total} threads, no batching, no spinning": {**one, "batch_max_size": 1, "spin": "off"},
        f"1 worker x {threads_total} threads, batching 8/5ms": {**one, "batch_max_size": 8, "batch_wait_ms": 5},
    }
    measured = {}
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as logs:
        for index, (name, flags) in enumerate(layouts.items()):
            access_log = Path(logs) / f"layout{index}.log"
            with served(model_dir, precision="int8", log_path=access_log, **flags) as url:
                measured[name] = run_load(http_target(url), texts, closed).summary()
            measured[name]["per_worker"] = traffic_per_worker(access_log)
    raw_target = raw_session_target(model_dir, "int8", 1, texts)
    with (
        served(model_dir, precision="int8", **default) as default_url,
        served(model_dir, precision="int8", **batched) as batched_url,
    ):
        raw = run_load(
            raw_target,
            texts,
            LoadConfig(concurrency=threads_total, requests=None, duration_s=sustained_s, warmup_requests=10),
        ).summary()
        rate = round(0.9 * raw["throughput_rps"], 2)
        # The achieved rate counts the drain of the last queued requests, which a short run would weigh too heavily.
        open_loop = LoadConfig(
            mode="open", rate_rps=rate, concurrency=64, requests=max(int(rate * sustained_s), 100), warmup_requests=10
        )
        default_open = run_load(http_target(default_url), texts, open_loop).summary()
        batched_open = run_load(http_target(batched_url), texts, open_loop).summary()
    return {
        "layouts_closed_loop": measured,
        "raw_sessions_saturation": raw,
        "open_loop_rate_rps": rate,
        "default_layout_open_loop_at_90pct_raw": default_open,
        "default_layout_with_batching_open_loop_at_90pct_raw": batched_open,
    }


# Part 3's layouts, paired off and on per worker count. One intra-op thread each: a lone worker's second thread
# spins between calls and takes the core its event loop needs (the unbatched layout then loses the most, which
# would inflate batching's gain). No wait for a batch to fill: a batch is whatever queued while the last one ran,
# so the event loop answers one batch's clients while the next batch computes; a wait for fuller batches puts the
# clients in lockstep and gains less (docs/benchmarks.md, "Micro-batching").
BATCHING_PAIRS = {
    "1 worker": {
        "1 worker, batching off": {"workers": 1, "threads": 1, "batch_max_size": 1},
        "1 worker, batching 8 / 0 ms": {"workers": 1, "threads": 1, "batch_max_size": 8, "batch_wait_ms": 0},
    },
    "2 workers": {
        "2 workers, batching off (default)": {"workers": 2, "threads": 1, "batch_max_size": 1},
        "2 workers, batching 8 / 0 ms": {"workers": 2, "threads": 1, "batch_max_size": 8, "batch_wait_ms": 0},
    },
}
BATCHING_LAYOUTS = {name: flags for pair in BATCHING_PAIRS.values() for name, flags in pair.items()}
# The pair also measured with the server on a core of its own and the load generator on the rest (benchmarks.affinity).
OWN_CORE_PAIR = "1 worker"


def batching_gain(model_dir: Path, requests: int, rounds: int, prompts: list[str] | None = None) -> dict[str, Any]:
    """Tiny model, 8 concurrent clients: micro-batching off and on, interleaved, with each server's CPU per request.

    Measured on the real test prompts and on prompts of exactly 16 tokens, where the model's fixed cost per call
    weighs most against its cost per token. First the one-worker pair with the server on a core of its own and
    the load generator on the others (`own_core`; skipped where the platform or the core count cannot do it), then
    every layout sharing all cores with the generator. `gains` is batching's throughput ratio for each pair.
    `prompts` defaults to the test split.
    """
    from benchmarks.affinity import split_cores
    from benchmarks.payloads import load_payloads

    prompts = prompts or load_payloads()
    text_sets = {"real prompts": prompts, "16 tokens": exact_length_texts(model_dir, 16, 32, prompts)}
    out: dict[str, Any] = {"layouts": BATCHING_LAYOUTS}
    try:
        cores = split_cores(1)
    except MlopsError as exc:
        log.warning("skipping the comparison with the server on a core of its own: %s", exc)
        out["own_core"] = {"skipped": str(exc)}
    else:
        out["own_core"] = {
            "server_cpus": sorted(cores[0]),
            "load_generator_cpus": sorted(cores[1]),
            **_batching_rounds(model_dir, BATCHING_PAIRS[OWN_CORE_PAIR], text_sets, requests, rounds, cores),
        }
    out.update(_batching_rounds(model_dir, BATCHING_LAYOUTS, text_sets, requests, rounds))
    out["gains"] = {set_name: _batching_gains(out, set_name) for set_name in text_sets}
    return out


def _batching_rounds(
    model_dir: Path,
    layouts: dict[str, dict[str, Any]],
    text_sets: dict[str, list[str]],
    requests: int,
    rounds: int,
    cores: tuple[frozenset[int], frozenset[int]] | None = None,
) -> dict[str, Any]:
    """One server per layout, compared on each text set (baseline: the first layout), with traffic per worker.

    `cores` (server cores, load generator cores) pins every server to the first set and this process, which
    generates the load, to the second, for the duration.
    """
    from benchmarks.affinity import pin_processes, pinned
    from benchmarks.servers import server_process

    out: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="serving-bench-")))
        log_paths = {name: logs / f"{index}.log" for index, name in enumerate(layouts)}
        servers = {
            name: stack.enter_context(server_process(model_dir, precision="int8", log_path=log_paths[name], **flags))
            for name, flags in layouts.items()
        }
        if cores is not None:
            for server in servers.values():
                pin_processes(server.pids(), cores[0])  # threads the workers start later (the executor's) inherit it
            stack.enter_context(pinned(cores[1]))
        seen: dict[str, dict[str, dict[str, int]]] = {name: {} for name in servers}
        config = LoadConfig(concurrency=8, requests=requests, warmup_requests=20)
        for set_name, texts in text_sets.items():
            # New clients per set: new keep-alive connections, which the workers may share out differently.
            out[set_name] = compare(
                {name: http_target(server.url) for name, server in servers.items()},
                texts,
                config,
                rounds=rounds,
                cpu_probes={name: server.cpu_seconds for name, server in servers.items()},
            )
            for name in servers:
                summary = out[set_name]["targets"][name]
                sent = summary["ok"] + summary["errors"] + config.warmup_requests
                before = sum(counts["invocations"] for counts in seen[name].values())
                total = traffic_per_worker(log_paths[name], at_least=before + sent)
                out[set_name]["targets"][name]["per_worker"] = {
                    pid: {key: counts[key] - seen[name].get(pid, {}).get(key, 0) for key in counts}
                    for pid, counts in total.items()
                }
                seen[name] = total
    return out


def _batching_gains(result: dict[str, Any], set_name: str) -> dict[str, float]:
    """Batching's throughput ratio (on / off) for each pair on one text set, the own-core pair first when measured."""

    def gain(targets: dict[str, Any], pair: dict[str, Any]) -> float:
        off, on = pair  # each pair lists its layout without batching first
        return round(targets[on]["throughput_rps"] / targets[off]["throughput_rps"], 3)

    gains = {}
    if set_name in result["own_core"]:
        gains[f"{OWN_CORE_PAIR}, server on its own core"] = gain(
            result["own_core"][set_name]["targets"], BATCHING_PAIRS[OWN_CORE_PAIR]
        )
    gains.update({workers: gain(result[set_name]["targets"], pair) for workers, pair in BATCHING_PAIRS.items()})
    return gains


def main(argv: list[str] | None = None) -> int:
    """Run the selected parts and print (and optionally write) one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="base")
    parser.add_argument(
        "--cache", type=Path, default=None, help="where the benchmark models live (default <state>/bench)"
    )
    parser.add_argument(
        "--tiny-model", type=Path, default=None, help="a trained tiny model dir with ONNX exports (part 3)"
    )
    parser.add_argument("--lengths", default="32,64,128")
    # Many short rounds: the machine's slow spells last seconds, and with rounds of 10 requests one spell on one
    # target's round was 10 samples of 200, that target's whole p95; rounds of 3 spread the spells evenly.
    parser.add_argument("--requests", type=int, default=3, help="measured requests per target per round (part 1)")
    parser.add_argument("--single-rounds", type=int, default=67, help="interleaved rounds per length (part 1)")
    parser.add_argument(
        "--sustained-s", type=float, default=60.0, help="raw saturation and open-loop duration (part 2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=8, help="interleaved rounds of the micro-batching comparison (part 3)"
    )
    parser.add_argument("--batching-requests", type=int, default=200, help="requests per server per round (part 3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parts", default="1,2,3")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from ml.settings import state_dir

    parts = set(args.parts.split(","))
    model_dir = bench_model(args.preset, args.cache or state_dir() / "bench")
    out: dict[str, Any] = {"preset": args.preset, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if "1" in parts:
        out["single_request"] = single_request(
            model_dir, [int(x) for x in args.lengths.split(",")], args.single_rounds, args.requests, args.threads
        )
    if "2" in parts:
        out["saturation_64_tokens_int8"] = saturation(model_dir, 150, args.threads, args.sustained_s)
    if "3" in parts and args.tiny_model:
        out["micro_batching_tiny"] = batching_gain(args.tiny_model, args.batching_requests, args.rounds)
    emit_json(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
