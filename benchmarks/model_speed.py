"""Model-side speed (issue #19.5): onnxruntime's transformer fusions and int8 variants, side by side, with parity.

Per preset (a random-weights model of the preset's shape, as `benchmarks.attention_export` builds it), six graphs
of the same model run the same 64-token inputs in interleaved rounds, one model call per request, at batch 1 and
8, on 1 and 2 intra-op threads (the predictor's settings, `inference/predictor.py`):

- fp32 and dynamic int8 as `mlops export` writes them today (the baseline is the current int8);
- fp32 through `onnxruntime.transformers.optimizer` (model_type "bert"), and dynamic int8 over that fused graph;
- dynamic int8 with per-channel weight scales;
- static QDQ int8, per-channel weights, activations calibrated on our training prompts.

Parity per variant: on a trained model (`--trained-model`, the tiny preset) against PyTorch on held-out labelled
prompts, with ml.parity's own gate (`check_parity`, the bounds every export must meet) and the raw top-1 agreement
and max |probability diff|; on the random-weights presets against the current fp32 graph (top-1 agreement there is
noise-prone: an untrained model's classes are near ties, so its max |probability diff| is the figure to read).

Run: .venv/bin/python -m benchmarks.model_speed [--presets tiny,base] [--trained-model DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.compare import compare
from benchmarks.load import LoadConfig, Target
from benchmarks.report import emit_json
from ml.model import ONNX_FILES

log = logging.getLogger(__name__)

CURRENT_FP32 = "fp32 (current)"
CURRENT_INT8 = "int8 dynamic (current)"
FUSED_FP32 = "fp32 + fusions"
FUSED_INT8 = "int8 dynamic over fusions"
PER_CHANNEL_INT8 = "int8 dynamic per-channel"
STATIC_INT8 = "int8 static QDQ per-channel"
VARIANTS = (CURRENT_FP32, CURRENT_INT8, FUSED_FP32, FUSED_INT8, PER_CHANNEL_INT8, STATIC_INT8)
# Variant -> file name inside the model directory (the current two are the export's own files).
VARIANT_FILES = {
    CURRENT_FP32: ONNX_FILES["fp32"],
    CURRENT_INT8: ONNX_FILES["int8"],
    FUSED_FP32: "bench.fused.onnx",
    FUSED_INT8: "bench.fused.int8.onnx",
    PER_CHANNEL_INT8: "bench.int8.per_channel.onnx",
    STATIC_INT8: "bench.int8.static_qdq_weights.onnx",
}
FP32_VARIANTS = (CURRENT_FP32, FUSED_FP32)
CALIBRATION_PROMPTS = 200


# ------------------------------------------------------------------------------------------ the variants


def fuse(fp32_path: Path, out_path: Path, model_dir: Path) -> Path:
    """Run onnxruntime's BERT optimizer (its fusions only) over fp32_path."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text())
    # opt_level 0: the optimizer's own Python fusions only; onnxruntime's graph optimizations still run when the
    # session opens, as they do for the current graphs, so both sides get them.
    optimized = optimize_model(
        str(fp32_path),
        model_type="bert",
        num_heads=config["num_attention_heads"],
        hidden_size=config["hidden_size"],
        opt_level=0,
        use_gpu=False,
    )
    optimized.save_model_to_file(str(out_path))
    return out_path


def fused_operators(path: Path) -> dict[str, int]:
    """onnxruntime's contrib operators (com.microsoft domain) in a graph on disk, by type: what a fusion put in."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return dict(collections.Counter(n.op_type for n in graph.node if n.domain == "com.microsoft").most_common())


def quantize_dynamic_int8(fp32_path: Path, out_path: Path, *, per_channel: bool = False) -> Path:
    """Dynamic int8 as the export's (QInt8 weights); per_channel: one weight scale per output channel."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from ml.export import quiet_quantization

    with quiet_quantization():
        quantize_dynamic(
            str(fp32_path),
            str(out_path),
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            # The fused graph's com.microsoft operators (BiasGelu, SkipLayerNormalization) defeat ONNX shape
            # inference; their outputs are float, as every activation in this graph.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    return out_path


def calibration_feeds(model_dir: Path, texts: Sequence[str]) -> list[dict[str, np.ndarray]]:
    """One feed per prompt (batch 1, its own length), tokenised as the predictor does."""
    from ml.model import ModelInfo
    from ml.predict import encode
    from ml.tokenizer import load_tokenizer

    tokenizer, info = load_tokenizer(model_dir), ModelInfo.load(model_dir)
    feeds = []
    for text in texts:
        encoded = encode(tokenizer, [text], info, return_tensors="np")
        feeds.append({name: np.asarray(encoded[name], dtype=np.int64) for name in ("input_ids", "attention_mask")})
    return feeds


def quantize_static_qdq(fp32_path: Path, out_path: Path, feeds: Sequence[dict[str, np.ndarray]]) -> Path:
    """Static int8 in QDQ format: per-channel int8 weights, uint8 activations with MinMax ranges from `feeds`."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from ml.export import quiet_quantization

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds: Iterator[dict[str, np.ndarray]] = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    import onnx

    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    constants = {i.name for i in graph.initializer} | {
        o for n in graph.node if n.op_type == "Constant" for o in n.output
    }
    # The weight products only, as the dynamic int8 quantises them (the MatMulConstBOnly option is not honoured in
    # QDQ format). Quantising the attention's activation products too was neither closer to PyTorch nor faster on
    # the tiny model (docs/benchmarks.md, "Model-side speed").
    weights = [n.name for n in graph.node if n.op_type in ("MatMul", "Gemm") and n.input[1] in constants]
    with quiet_quantization():
        quantize_static(
            str(fp32_path),
            str(out_path),
            Reader(),
            quant_format=QuantFormat.QDQ,
            nodes_to_quantize=weights,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
    return out_path


def build_variants(model_dir: Path, calibration_texts: Sequence[str]) -> dict[str, Any]:
    """Write each variant's graph missing next to the model's current export; return their operator counts."""
    from ml.export import quantize_int8

    files = {name: model_dir / file for name, file in VARIANT_FILES.items()}
    fp32 = files[CURRENT_FP32]
    builders: dict[str, Callable[[], Path]] = {
        CURRENT_INT8: lambda: quantize_int8(fp32, files[CURRENT_INT8]),
        FUSED_FP32: lambda: fuse(fp32, files[FUSED_FP32], model_dir),
        FUSED_INT8: lambda: quantize_dynamic_int8(files[FUSED_FP32], files[FUSED_INT8]),
        PER_CHANNEL_INT8: lambda: quantize_dynamic_int8(fp32, files[PER_CHANNEL_INT8], per_channel=True),
        STATIC_INT8: lambda: quantize_static_qdq(
            fp32, files[STATIC_INT8], calibration_feeds(model_dir, calibration_texts)
        ),
    }
    for name, build in builders.items():  # in order: the fused int8 needs the fused fp32
        if not files[name].exists():
            log.info("building %s: %s", model_dir.name, name)
            build()
    return {
        "fused_operators": fused_operators(files[FUSED_FP32]),
        "nodes": {name: node_counts(path) for name, path in files.items()},
    }


def node_counts(path: Path) -> dict[str, Any]:
    """Nodes in the graph on disk and in the graph onnxruntime runs after its own optimizations, by op type."""
    import tempfile

    import onnx
    import onnxruntime as ort

    on_disk = collections.Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.optimized_model_filepath = str(Path(tmp) / "session.onnx")
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        ran = collections.Counter(n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node)
    return {
        "on_disk": sum(on_disk.values()),
        "in_session": sum(ran.values()),
        "in_session_by_op": dict(ran.most_common()),
    }


# ------------------------------------------------------------------------------------------ timing


def session(path: Path, threads: int) -> tuple[Any, list[str]]:
    """A CPU session opened as the predictor opens one: `threads` intra-op threads, one inter-op thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    opened = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return opened, [i.name for i in opened.get_inputs()]


def batch_feeds(model_dir: Path, texts: Sequence[str], batch: int) -> dict[str, dict[str, np.ndarray]]:
    """Payload key -> one model call's feed: `batch` consecutive texts (wrapping), each key a different window."""
    from ml.model import ModelInfo
    from ml.predict import encode
    from ml.tokenizer import load_tokenizer

    tokenizer, info = load_tokenizer(model_dir), ModelInfo.load(model_dir)
    out = {}
    for start in range(len(texts)):
        window = [texts[(start + i) % len(texts)] for i in range(batch)]
        encoded = encode(tokenizer, window, info, return_tensors="np")
        out[str(start)] = {n: np.asarray(encoded[n], dtype=np.int64) for n in ("input_ids", "attention_mask")}
    return out


def path_target(path: Path, threads: int, feeds: dict[str, dict[str, np.ndarray]]) -> Target:
    """The raw session on one graph: a payload key runs its prepared feed (warmed up on three of them)."""
    opened, names = session(path, threads)
    prepared = {key: {n: feed[n] for n in names} for key, feed in feeds.items()}
    for feed in list(prepared.values())[:3]:
        opened.run(None, feed)

    def call(key: str) -> None:
        opened.run(None, prepared[key])

    return call


def time_variants(
    model_dir: Path, texts: Sequence[str], *, batch: int, threads: int, rounds: int, requests: int
) -> dict[str, Any]:
    """All variants on the same feeds in interleaved rounds; ratios against the current int8."""
    feeds = batch_feeds(model_dir, texts, batch)
    targets = {name: path_target(model_dir / VARIANT_FILES[name], threads, feeds) for name in VARIANTS}
    return compare(
        targets,
        list(feeds),
        LoadConfig(requests=requests, warmup_requests=3),
        rounds=rounds,
        baseline=CURRENT_INT8,
        settle_s=0.2,
        round_warmup=1,
    )


# ------------------------------------------------------------------------------------------ parity


def _probabilities(path: Path, feeds: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
    from ml.predict import softmax

    opened, names = session(path, 2)
    return np.concatenate([softmax(opened.run(["logits"], {n: f[n] for n in names})[0]) for f in feeds])


def agreement(reference: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Top-1 agreement with the reference and the largest |probability difference|."""
    return {
        "top1_agreement": float((reference.argmax(-1) == probabilities.argmax(-1)).mean()),
        "max_abs_probability_diff": float(np.abs(reference - probabilities).max()),
    }


def parity_against_fp32(model_dir: Path, texts: Sequence[str]) -> dict[str, dict[str, float]]:
    """Every variant against the current fp32 graph on `texts` (one call per text)."""
    feeds = calibration_feeds(model_dir, texts)
    reference = _probabilities(model_dir / VARIANT_FILES[CURRENT_FP32], feeds)
    return {
        name: agreement(reference, _probabilities(model_dir / VARIANT_FILES[name], feeds))
        for name in VARIANTS
        if name != CURRENT_FP32
    }


def parity_against_pytorch(model_dir: Path, examples: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Every variant against PyTorch on labelled held-out examples: ml.parity's verdict and the raw figures."""
    import torch

    from ml.export import OPSET
    from ml.model import load_model
    from ml.parity import check_parity, format_parity
    from ml.predict import encode, softmax

    model, tokenizer, info = load_model(model_dir)
    texts = [e.text for e in examples]
    with torch.inference_mode():
        reference = np.concatenate(
            [softmax(model(**encode(tokenizer, [t], info)).logits.float().numpy()) for t in texts]
        )
    feeds = calibration_feeds(model_dir, texts)
    # The gate every export must pass, in the slots it has: each fp32 graph in the fp32 slot (logits within 1e-4 of
    # PyTorch), each int8 graph in the int8 slot (agreement and accuracy bounds), next to the fp32 it came from.
    pairs = [
        (CURRENT_FP32, CURRENT_INT8),
        (FUSED_FP32, FUSED_INT8),
        (CURRENT_FP32, PER_CHANNEL_INT8),
        (CURRENT_FP32, STATIC_INT8),
    ]
    gates: dict[str, str] = {}
    passed: dict[str, bool] = {}
    for fp32, int8 in pairs:
        report = check_parity(
            model_dir, model_dir / VARIANT_FILES[fp32], model_dir / VARIANT_FILES[int8], examples, opset=OPSET
        )
        for name, prefix in ((fp32, "fp32_"), (int8, "int8_")):
            checks = {k: v for k, v in report["checks"].items() if k.startswith(prefix)}
            passed[name] = all(c["passed"] for c in checks.values())
            gates[name] = format_parity({"checks": checks})
    return {
        name: {
            **agreement(reference, _probabilities(model_dir / VARIANT_FILES[name], feeds)),
            "parity_gate_passed": passed[name],
            "parity_gate": gates[name],
        }
        for name in VARIANTS
    }


# ------------------------------------------------------------------------------------------ the run


def prepare(model_dir: Path, calibration_texts: Sequence[str]) -> dict[str, Any]:
    """Build the variants once per model directory (cached; a marker records the calibration they were built with)."""
    marker = model_dir / "bench_model_speed.json"
    wanted = {"variants": list(VARIANT_FILES.values()), "calibration": sorted(calibration_texts)}
    if marker.exists():
        cached = json.loads(marker.read_text())
        if cached.get("wanted") == wanted and all((model_dir / f).exists() for f in VARIANT_FILES.values()):
            return dict(cached["graphs"])
    # Only the static graph depends on the calibration prompts; the others are rebuilt only when missing.
    (model_dir / VARIANT_FILES[STATIC_INT8]).unlink(missing_ok=True)
    graphs = build_variants(model_dir, calibration_texts)
    marker.write_text(json.dumps({"wanted": wanted, "graphs": graphs}, indent=2) + "\n")
    return graphs


def measure_model(
    model_dir: Path,
    *,
    calibration_texts: Sequence[str],
    parity: Callable[[Path], dict[str, Any]],
    length: int,
    batches: Sequence[int],
    threads: Sequence[int],
    rounds: int,
    requests: int,
) -> dict[str, Any]:
    """Variants built, their parity, then timing per (batch, threads)."""
    from benchmarks.serving import exact_length_texts

    graphs = prepare(model_dir, calibration_texts)
    result: dict[str, Any] = {"graphs": graphs, "parity": parity(model_dir), "timing": {}}
    texts = exact_length_texts(model_dir, length, 16)
    for batch in batches:
        for n in threads:
            key = f"batch {batch}, {n} thread{'s' if n > 1 else ''}"
            log.info("timing %s: %s", model_dir.name, key)
            result["timing"][key] = time_variants(
                model_dir, texts, batch=batch, threads=n, rounds=rounds, requests=requests
            )
    return result


def table(result: dict[str, Any]) -> str:
    """Markdown rows: variant, p50/p95/p99 and p50/p95 ratios vs the current int8, per timing cell."""
    lines = []
    for cell, timed in result["timing"].items():
        for name, s in timed["targets"].items():
            r = s["ratios_vs_baseline"]
            lines.append(
                f"| {cell} | {name} | {s['p50_ms']:.1f} / {s['p95_ms']:.1f} / {s['p99_ms']:.1f} "
                f"| {r['p50_ms']:.2f}x | {r['p95_ms']:.2f}x |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the variants (cached), check their parity, time them side by side; print (and write) the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="tiny,base", help="random-weights models of these shapes, timed")
    parser.add_argument("--trained-model", type=Path, default=None, help="a trained model dir (parity vs PyTorch)")
    parser.add_argument("--heldout", type=Path, default=None, help="labelled held-out prompts (default: natural)")
    parser.add_argument("--cache", type=Path, default=None, help="benchmark models (default <state>/bench)")
    parser.add_argument("--length", type=int, default=64, help="tokens per timed input")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=10, help="measured model calls per variant per round")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    # Progress lines of this module only (onnxruntime's optimizer logs every fusion it tries at INFO).
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    from benchmarks.serving import bench_model
    from ml.data import load_examples, split_examples
    from ml.settings import default_data_path, state_dir

    root = args.cache or state_dir() / "bench"
    train = split_examples(load_examples(default_data_path()))["train"]
    calibration = [e.text for e in train[:: max(1, len(train) // CALIBRATION_PROMPTS)]][:CALIBRATION_PROMPTS]
    heldout = load_examples(args.heldout or Path(default_data_path()).with_name("natural_prompts.jsonl"))
    cells = {
        "batches": [int(x) for x in args.batches.split(",")],
        "threads": [int(x) for x in args.threads.split(",")],
        "rounds": args.rounds,
        "requests": args.requests,
        "length": args.length,
    }
    out: dict[str, Any] = {"calibration_prompts": len(calibration), "heldout_prompts": len(heldout), **cells}
    if args.trained_model:
        trained = args.trained_model
        graphs = prepare(trained, calibration)
        out["trained"] = {"model": str(trained), "graphs": graphs, "parity": parity_against_pytorch(trained, heldout)}
    heldout_texts = [e.text for e in heldout]
    for preset in [p for p in args.presets.split(",") if p]:
        model_dir = bench_model(preset, root)
        out[preset] = measure_model(
            model_dir,
            calibration_texts=calibration,
            parity=lambda d: parity_against_fp32(d, heldout_texts),
            **{k: v for k, v in cells.items() if k != "length"},
            length=args.length,
        )
        print(table(out[preset]), flush=True)
    emit_json(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
