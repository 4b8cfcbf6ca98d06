"""The local A/B endpoint's in-memory SageMaker: models, endpoint configs, endpoints and their live production variants.

`LocalSageMaker.call(operation, params)` implements a subset of the SageMaker control-plane API (AWS JSON 1.1
operation names and shapes, errors as `ApiError` with SageMaker's codes); `LocalSageMaker.route` picks the variant
that answers an InvokeEndpoint request. Models are ONNX intent models (a directory or a SageMaker `model.tar.gz`)
served by one `OnnxPredictor` per variant, each on its own inference thread.

Concurrency: every method runs on the server's event loop thread, so endpoint state needs no locks. Only model
loading leaves the loop (`asyncio.to_thread`); its result is swapped in back on the loop. Readers always see a
whole `VariantSet`: weights and variants are replaced, never mutated.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import shutil
import tarfile
import time
import urllib.parse
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from inference.config import ServerConfig
from inference.payload import Limits
from inference.predictor import OnnxPredictor, default_threads, onnx_path
from inference.variants import DeploymentError, VariantStats, check_name, check_unique, check_weights, traffic_shares
from ml.errors import MlopsError
from ml.model import MODEL_INFO_FILE

log = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT = "000000000000"
# What DescribeEndpoint reports as the image when CreateModel names none.
DEFAULT_IMAGE = "local/intent-onnxruntime"
# Latency samples (and error timestamps) kept per variant: enough for minutes of traffic at hundreds of req/s.
SAMPLE_CAPACITY = 200_000
# AWS's default page size for ListModels / ListEndpoints.
DEFAULT_PAGE_SIZE = 10


class ApiError(Exception):
    """A SageMaker error: its code (ValidationException, ...), message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> ApiError:
    """The ValidationException SageMaker answers for anything wrong with a request."""
    return ApiError("ValidationException", message)


def _from_user_error(exc: MlopsError) -> ApiError:
    return validation(f"{exc.message} ({exc.hint})" if exc.hint else exc.message)


def arn(kind: str, name: str) -> str:
    """The ARN of a SageMaker resource; AWS lower-cases the name in it."""
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name.lower()}"


# ------------------------------------------------------------------------------------------------ models


def model_path_from_url(url: str) -> Path:
    """`file:///abs/path` or `/abs/path` -> Path; anything else (s3://, relative paths) is an DeploymentError."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise DeploymentError(f"ModelDataUrl {url!r} names a remote host", hint="use file:///absolute/path")
        path = Path(urllib.parse.unquote(parsed.path))
    elif parsed.scheme == "":
        path = Path(url)
    else:
        raise DeploymentError(
            f"ModelDataUrl {url!r} is not a local path: the local endpoint serves file paths only",
            hint="download the model.tar.gz and pass file:///absolute/path/model.tar.gz",
        )
    if not path.is_absolute():
        raise DeploymentError(f"ModelDataUrl {url!r} is a relative path", hint="use an absolute path or file:///absolute/path")
    return path


def check_model_source(path: Path, variant: str = "int8") -> Path:
    """A model directory with the ONNX variant, or a tar archive (checked when loaded); else ModelError/DeploymentError."""
    path = Path(path)
    if path.is_dir():
        onnx_path(path, variant)
    elif path.is_file():
        if not tarfile.is_tarfile(path):
            raise DeploymentError(f"{path} is neither a model directory nor a model.tar.gz", hint="pass either of them")
    else:
        raise DeploymentError(f"model not found: {path}", hint="pass an exported model directory or its model.tar.gz")
    return path


def extract_model(archive: Path, dest: Path) -> Path:
    """Unpack a SageMaker model.tar.gz safely (no paths outside dest, no devices) and return its model directory."""
    dest.mkdir(parents=True)
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(dest, filter="data")
    if (dest / MODEL_INFO_FILE).is_file():
        return dest
    # Archives made with `tar -C parent model/` hold the model one directory down.
    children = [p for p in dest.iterdir() if p.is_dir()]
    if len(children) == 1 and (children[0] / MODEL_INFO_FILE).is_file():
        return children[0]
    return dest


@dataclass(frozen=True)
class ModelRecord:
    """A CreateModel call: where the model is and how its container would be configured."""

    name: str
    source: Path
    config: ServerConfig
    container: Mapping[str, Any]
    execution_role: str | None
    created: float

    @property
    def arn(self) -> str:
        """The model's ARN."""
        return arn("model", self.name)

    @property
    def limits(self) -> Limits:
        """The request limits the model's container would apply."""
        c = self.config
        return Limits(c.max_inputs, c.max_body_bytes, c.max_text_bytes)

    @property
    def image(self) -> str:
        """The container image as CreateModel named it."""
        return str(self.container.get("Image") or DEFAULT_IMAGE)


class LoadedModel:
    """One variant's predictor and its own inference thread (never the event loop), retired once no request uses it."""

    def __init__(self, record: ModelRecord, predictor: OnnxPredictor, extracted: Path | None) -> None:
        self.record = record
        self.predictor = predictor
        self.loaded_at = time.time()
        # One inference at a time per variant: onnxruntime already spreads a call over the intra-op threads.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"variant-{record.name}")
        self.in_flight = 0
        self.retired = False
        self._extracted = extracted

    @classmethod
    def load(cls, record: ModelRecord, threads: int, work_dir: Path) -> LoadedModel:
        """Extract (for an archive), load and warm up; runs on a loader thread."""
        extracted = None
        model_dir = record.source
        if record.source.is_file():
            extracted = work_dir / "models" / f"{record.name}-{uuid.uuid4().hex[:8]}"
            model_dir = extract_model(record.source, extracted)
        try:
            c = record.config
            predictor = OnnxPredictor(
                model_dir, variant=c.variant, intra_op_threads=threads, max_length=c.max_length, max_batch=c.max_inputs,
                # Variants share the cores: idle spinning threads of one would steal the CPU the others need.
                allow_spinning=False,
            )
            predictor.warmup()
        except BaseException:
            if extracted is not None:
                shutil.rmtree(extracted, ignore_errors=True)
            raise
        return cls(record, predictor, extracted)

    @property
    def model_version(self) -> str:
        """The version the model directory reports."""
        return self.predictor.model_version

    async def classify(self, texts: list[str]) -> list[dict[str, Any]]:
        """Predict on this variant's inference thread."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.predictor.predict, texts)

    def acquire(self) -> None:
        """A request starts using this model (call right after routing, before any await)."""
        self.in_flight += 1

    def release(self) -> None:
        """A request is done with it; the last one out closes a retired model."""
        self.in_flight -= 1
        if self.retired and self.in_flight == 0:
            self._close()

    def retire(self) -> None:
        """No new request will be routed here; close now or when the in-flight ones finish."""
        if not self.retired:
            self.retired = True
            if self.in_flight == 0:
                self._close()

    def _close(self) -> None:
        self.executor.shutdown(wait=False)
        if self._extracted is not None:
            shutil.rmtree(self._extracted, ignore_errors=True)
        log.info("variant model released", extra={"model_name": self.record.name, "model_version": self.model_version})


# ------------------------------------------------------------------------------------- endpoint configs


@dataclass(frozen=True)
class VariantSpec:
    """One production variant of an endpoint config."""

    name: str
    model_name: str
    weight: float
    instance_count: int
    instance_type: str | None


@dataclass(frozen=True)
class ConfigRecord:
    """A CreateEndpointConfig call."""

    name: str
    variants: tuple[VariantSpec, ...]
    created: float
    # What DescribeEndpointConfig echoes: the variants as given (defaults filled in) and the data capture config,
    # so that a client can copy a config (as a rollback does) without losing what this endpoint ignores.
    described_variants: tuple[Mapping[str, Any], ...] = ()
    data_capture: Mapping[str, Any] | None = None

    @property
    def arn(self) -> str:
        """The endpoint config's ARN."""
        return arn("endpoint-config", self.name)


# ---------------------------------------------------------------------------------------- live endpoints


@dataclass(frozen=True)
class LiveVariant:
    """A variant that takes traffic: its name and loaded model."""

    name: str
    model: LoadedModel


class VariantSet:
    """The variants an endpoint serves with their weights and instance counts; immutable, replaced as a whole."""

    def __init__(self, config_name: str, variants: Sequence[LiveVariant], weights: Mapping[str, float],
                 instance_counts: Mapping[str, int]) -> None:
        self.config_name = config_name
        self.variants: Mapping[str, LiveVariant] = MappingProxyType({v.name: v for v in variants})
        self.weights: Mapping[str, float] = MappingProxyType(dict(weights))
        self.instance_counts: Mapping[str, int] = MappingProxyType(dict(instance_counts))
        routable = [(name, w) for name, w in self.weights.items() if w > 0]
        self._names = [name for name, _ in routable]
        self._cum_weights = list(_cumulative([w for _, w in routable]))

    def choose(self) -> LiveVariant:
        """A variant drawn with probability proportional to its weight (weight 0 never)."""
        return self.variants[random.choices(self._names, cum_weights=self._cum_weights)[0]]

    def with_weights(self, weights: Mapping[str, float], instance_counts: Mapping[str, int]) -> VariantSet:
        """The same variants with other weights and instance counts."""
        return VariantSet(self.config_name, list(self.variants.values()), weights, instance_counts)

    def models(self) -> list[LoadedModel]:
        """The loaded model of every variant."""
        return [v.model for v in self.variants.values()]


def _cumulative(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


class VariantMetrics:
    """One variant's traffic: time-stamped latency samples and intents (bounded), model crashes, rejected inputs."""

    def __init__(self, capacity: int = SAMPLE_CAPACITY) -> None:
        self.samples: deque[tuple[float, float, tuple[str, ...]]] = deque(maxlen=capacity)
        self.errors: deque[float] = deque(maxlen=capacity)
        self.client_errors: deque[float] = deque(maxlen=capacity)

    def record(self, latency_ms: float, intents: Sequence[str]) -> None:
        """An answered request."""
        self.samples.append((time.time(), latency_ms, tuple(intents)))

    def record_error(self) -> None:
        """The model crashed on a request (a 5XX from the model container)."""
        self.errors.append(time.time())

    def record_client_error(self) -> None:
        """The model rejected a request's input (a 4XX from the model container)."""
        self.client_errors.append(time.time())

    def summary(self, variant: str, since: float) -> dict[str, Any]:
        """Stats of the requests since `since`: VariantStats fields plus rejected inputs and predicted intents."""
        latencies: list[float] = []
        predictions: Counter[str] = Counter()
        for at, latency_ms, intents in self.samples:
            if at >= since:
                latencies.append(latency_ms)
                predictions.update(intents)
        errors = sum(1 for at in self.errors if at >= since)
        stats = VariantStats.from_samples(variant, latencies, errors)
        client_errors = sum(1 for at in self.client_errors if at >= since)
        return {**stats.to_dict(), "client_errors": client_errors, "predictions": dict(predictions.most_common())}


@dataclass
class EndpointRecord:
    """An endpoint: status, the variant set serving it (None until the first deployment succeeds), metrics."""

    name: str
    config_name: str
    created: float
    status: str = "Creating"
    modified: float = 0.0
    failure_reason: str | None = None
    live: VariantSet | None = None
    pending_config: str | None = None
    pending_since: float | None = None
    # Bumped by every deployment and by deletion, so a stale background load knows to discard its result.
    generation: int = 0
    metrics: dict[str, VariantMetrics] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        """The endpoint's ARN."""
        return arn("endpoint", self.name)

    def metrics_for(self, variant: str) -> VariantMetrics:
        """The variant's metrics, kept across deployments that keep the variant name."""
        return self.metrics.setdefault(variant, VariantMetrics())


# ---------------------------------------------------------------------------------------- request params


_MISSING = object()


def _param(params: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *, default: Any = _MISSING) -> Any:
    """A request member of the right JSON type; missing and required (no default) is SageMaker's null error."""
    value = params.get(key)
    if value is None:
        if default is _MISSING:
            member = key[:1].lower() + key[1:]
            raise validation(
                f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            )
        return default
    numeric = kind in (int, float, (int, float))
    if not isinstance(value, kind) or (numeric and isinstance(value, bool)):
        raise validation(f"{key} has the wrong type: {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise validation(f"{key} must be a finite number")
    return value


def _name(params: Mapping[str, Any], key: str, kind: str) -> str:
    try:
        return check_name(kind, _param(params, key, str))
    except DeploymentError as exc:
        raise _from_user_error(exc) from None


def _tags(params: Mapping[str, Any]) -> list[dict[str, str]]:
    tags = _param(params, "Tags", list, default=[])
    for tag in tags:
        if not isinstance(tag, dict) or not isinstance(tag.get("Key"), str) or not isinstance(tag.get("Value", ""), str):
            raise validation("every tag needs a string Key and a string Value")
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags]


def _page(items: list[dict[str, Any]], params: Mapping[str, Any], key: str) -> dict[str, Any]:
    """One page of a List* answer, with an opaque NextToken (an offset) when more remain."""
    size = _param(params, "MaxResults", int, default=DEFAULT_PAGE_SIZE)
    if not 1 <= size <= 100:
        raise validation("MaxResults must be between 1 and 100")
    token = _param(params, "NextToken", str, default="0")
    if not token.isdigit():
        raise validation(f"invalid NextToken {token!r}")
    start = int(token)
    page: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return page


def _sorted(items: list[dict[str, Any]], params: Mapping[str, Any], sort_keys: Mapping[str, str]) -> list[dict[str, Any]]:
    sort_by = _param(params, "SortBy", str, default="CreationTime")
    order = _param(params, "SortOrder", str, default="Descending")
    if sort_by not in sort_keys or order not in ("Ascending", "Descending"):
        raise validation(f"SortBy must be one of {', '.join(sort_keys)} and SortOrder Ascending or Descending")
    return sorted(items, key=lambda item: item[sort_keys[sort_by]], reverse=order == "Descending")


# --------------------------------------------------------------------------------------------- the service


class LocalSageMaker:
    """SageMaker's control plane for models, endpoint configs and endpoints, and the router of their traffic."""

    def __init__(self, work_dir: Path, *, threads: int | None = None) -> None:
        self.work_dir = Path(work_dir)
        self.threads = threads
        self.models: dict[str, ModelRecord] = {}
        self.configs: dict[str, ConfigRecord] = {}
        self.endpoints: dict[str, EndpointRecord] = {}
        self.tags: dict[str, list[dict[str, str]]] = {}
        self._deployments: dict[str, asyncio.Task[None]] = {}
        self.operations: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "CreateModel": self.create_model,
            "DescribeModel": self.describe_model,
            "DeleteModel": self.delete_model,
            "ListModels": self.list_models,
            "CreateEndpointConfig": self.create_endpoint_config,
            "DescribeEndpointConfig": self.describe_endpoint_config,
            "DeleteEndpointConfig": self.delete_endpoint_config,
            "CreateEndpoint": self.create_endpoint,
            "DescribeEndpoint": self.describe_endpoint,
            "UpdateEndpoint": self.update_endpoint,
            "UpdateEndpointWeightsAndCapacities": self.update_endpoint_weights_and_capacities,
            "DeleteEndpoint": self.delete_endpoint,
            "ListEndpoints": self.list_endpoints,
            "ListTags": self.list_tags,
            "AddTags": self.add_tags,
        }

    def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one control-plane operation (on the event loop); ApiError for anything SageMaker would refuse."""
        handler = self.operations.get(operation)
        if handler is None:
            raise ApiError("UnknownOperationException", f"the local endpoint does not implement SageMaker.{operation}")
        return handler(params)

    # ------------------------------------------------------------------------------------------- models

    def create_model(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """CreateModel from a local model directory or model.tar.gz (PrimaryContainer.ModelDataUrl)."""
        name = _name(params, "ModelName", "model")
        container = _param(params, "PrimaryContainer", dict, default=None)
        containers = _param(params, "Containers", list, default=[])
        if container is None and len(containers) == 1 and isinstance(containers[0], dict):
            container = containers[0]
        if container is None:
            raise validation("the local endpoint serves single-container models: give PrimaryContainer")
        if name in self.models:
            raise validation(f'Cannot create already existing model "{arn("model", name)}".')
        url = _param(container, "ModelDataUrl", str, default=None)
        if url is None:
            raise validation("PrimaryContainer.ModelDataUrl is required: the local endpoint loads models from file paths")
        environment = _param(container, "Environment", dict, default={})
        try:
            config = ServerConfig.from_env({str(k): str(v) for k, v in environment.items()})
            if config.variant == "torch":
                raise DeploymentError("INTENT_SERVE_VARIANT=torch is not served by the local endpoint", hint="use int8 or fp32")
            source = check_model_source(model_path_from_url(url), config.variant)
        except MlopsError as exc:
            raise _from_user_error(exc) from None
        record = ModelRecord(name, source, config, dict(container), _param(params, "ExecutionRoleArn", str, default=None),
                             time.time())
        self.models[name] = record
        self.tags[record.arn] = _tags(params)
        log.info("created model", extra={"model_name": name, "source": str(source), "onnx_variant": config.variant})
        return {"ModelArn": record.arn}

    def _model(self, name: str) -> ModelRecord:
        if name not in self.models:
            raise validation(f'Could not find model "{arn("model", name)}".')
        return self.models[name]

    def describe_model(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeModel."""
        record = self._model(_param(params, "ModelName", str))
        answer = {"ModelName": record.name, "ModelArn": record.arn, "CreationTime": record.created,
                  "PrimaryContainer": dict(record.container), "EnableNetworkIsolation": False}
        if record.execution_role:
            answer["ExecutionRoleArn"] = record.execution_role
        return answer

    def delete_model(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteModel; like SageMaker, endpoints already serving it keep serving."""
        record = self._model(_param(params, "ModelName", str))
        del self.models[record.name]
        self.tags.pop(record.arn, None)
        log.info("deleted model", extra={"model_name": record.name})
        return {}

    def list_models(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListModels (NameContains, SortBy, SortOrder, MaxResults/NextToken)."""
        contains = _param(params, "NameContains", str, default="")
        items = [{"ModelName": m.name, "ModelArn": m.arn, "CreationTime": m.created}
                 for m in self.models.values() if contains in m.name]
        return _page(_sorted(items, params, {"Name": "ModelName", "CreationTime": "CreationTime"}), params, "Models")

    # ---------------------------------------------------------------------------------- endpoint configs

    def create_endpoint_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """CreateEndpointConfig: variants with unique valid names, known models, weights that send traffic somewhere."""
        name = _name(params, "EndpointConfigName", "endpoint config")
        if name in self.configs:
            raise validation(f'Cannot create already existing endpoint configuration "{arn("endpoint-config", name)}".')
        raw = _param(params, "ProductionVariants", list)
        if not 1 <= len(raw) <= 10:
            raise validation("ProductionVariants must hold 1 to 10 variants")
        variants = []
        for item in raw:
            if not isinstance(item, dict):
                raise validation("every ProductionVariants item must be an object")
            variant = VariantSpec(
                name=_param(item, "VariantName", str),
                model_name=_param(item, "ModelName", str),
                weight=float(_param(item, "InitialVariantWeight", (int, float), default=1.0)),
                instance_count=_param(item, "InitialInstanceCount", int, default=1),
                instance_type=_param(item, "InstanceType", str, default=None),
            )
            if variant.instance_count < 1:
                raise validation(f"InitialInstanceCount of variant {variant.name!r} must be at least 1")
            variants.append(variant)
        try:
            check_unique("variant", [v.name for v in variants])
            check_weights({v.name: v.weight for v in variants})
        except DeploymentError as exc:
            raise _from_user_error(exc) from None
        for variant in variants:
            self._model(variant.model_name)
        described = tuple({**item, "InitialVariantWeight": v.weight, "InitialInstanceCount": v.instance_count}
                          for item, v in zip(raw, variants, strict=True))
        record = ConfigRecord(name, tuple(variants), time.time(), described,
                              _param(params, "DataCaptureConfig", dict, default=None))
        self.configs[name] = record
        self.tags[record.arn] = _tags(params)
        log.info("created endpoint config", extra={"config_name": name, "variants": {v.name: v.model_name for v in variants}})
        return {"EndpointConfigArn": record.arn}

    def _config(self, name: str) -> ConfigRecord:
        if name not in self.configs:
            raise validation(f'Could not find endpoint configuration "{name}".')
        return self.configs[name]

    def describe_endpoint_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeEndpointConfig."""
        record = self._config(_param(params, "EndpointConfigName", str))
        answer = {"EndpointConfigName": record.name, "EndpointConfigArn": record.arn,
                  "ProductionVariants": [dict(v) for v in record.described_variants], "CreationTime": record.created}
        if record.data_capture is not None:
            answer["DataCaptureConfig"] = dict(record.data_capture)
        return answer

    def delete_endpoint_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteEndpointConfig; endpoints created from it keep serving."""
        record = self._config(_param(params, "EndpointConfigName", str))
        del self.configs[record.name]
        self.tags.pop(record.arn, None)
        return {}

    # ------------------------------------------------------------------------------------------ endpoints

    def _endpoint(self, name: str) -> EndpointRecord:
        if name not in self.endpoints:
            raise validation(f'Could not find endpoint "{name}".')
        return self.endpoints[name]

    def _deployable(self, config_name: str) -> tuple[ConfigRecord, list[ModelRecord]]:
        """The config and, per variant, its model as it is now (deleting the model later changes nothing)."""
        config = self._config(config_name)
        return config, [self._model(v.model_name) for v in config.variants]

    def create_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """CreateEndpoint: status Creating until the variants' models are loaded in the background."""
        name = _name(params, "EndpointName", "endpoint")
        if name in self.endpoints:
            raise validation(f'Cannot create already existing endpoint "{arn("endpoint", name)}".')
        config, models = self._deployable(_param(params, "EndpointConfigName", str))
        now = time.time()
        endpoint = EndpointRecord(name, config.name, created=now, modified=now)
        self.endpoints[name] = endpoint
        self.tags[endpoint.arn] = _tags(params)
        self._deploy(endpoint, config, models, retain=False)
        log.info("creating endpoint", extra={"endpoint": name, "config_name": config.name})
        return {"EndpointArn": endpoint.arn}

    def update_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """UpdateEndpoint: the old variants serve until the new ones are loaded, then the set swaps at once."""
        endpoint = self._endpoint(_param(params, "EndpointName", str))
        config, models = self._deployable(_param(params, "EndpointConfigName", str))
        self._check_updatable(endpoint)
        retain = _param(params, "RetainAllVariantProperties", bool, default=False)
        endpoint.status = "Updating"
        endpoint.pending_config = config.name
        endpoint.pending_since = endpoint.modified = time.time()
        self._deploy(endpoint, config, models, retain=retain)
        log.info("updating endpoint", extra={"endpoint": endpoint.name, "config_name": config.name})
        return {"EndpointArn": endpoint.arn}

    def _check_updatable(self, endpoint: EndpointRecord) -> None:
        if endpoint.status == "Failed":
            raise validation(f'Cannot update failed endpoint "{endpoint.arn}".')
        if endpoint.status != "InService":
            raise validation(f'Cannot update in-progress endpoint "{endpoint.arn}".')

    def update_endpoint_weights_and_capacities(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Set variant weights (and record instance counts) in one atomic swap of the endpoint's variant set."""
        endpoint = self._endpoint(_param(params, "EndpointName", str))
        self._check_updatable(endpoint)
        assert endpoint.live is not None  # InService endpoints always have a variant set
        live = endpoint.live
        desired = _param(params, "DesiredWeightsAndCapacities", list)
        if not desired or not all(isinstance(item, dict) for item in desired):
            raise validation("DesiredWeightsAndCapacities must be a non-empty list of objects")
        weights, counts = dict(live.weights), dict(live.instance_counts)
        try:
            names = check_unique("variant", [_param(item, "VariantName", str) for item in desired])
            unknown = [n for n in names if n not in live.variants]
            if unknown:
                raise DeploymentError(f"no variant named {', '.join(map(repr, unknown))} on endpoint {endpoint.name!r}",
                                    hint=f"its variants are: {', '.join(live.variants)}")
            for item in desired:
                weight = _param(item, "DesiredWeight", (int, float), default=None)
                count = _param(item, "DesiredInstanceCount", int, default=None)
                if weight is not None:
                    weights[item["VariantName"]] = float(weight)
                if count is not None:
                    if count < 0:
                        raise DeploymentError(f"DesiredInstanceCount of variant {item['VariantName']!r} must be at least 0")
                    counts[item["VariantName"]] = count  # recorded and reported; one process serves every variant
            check_weights(weights, known=live.variants)  # each >= 0, and the new sum must still send traffic somewhere
        except DeploymentError as exc:
            raise _from_user_error(exc) from None
        endpoint.live = endpoint.live.with_weights(weights, counts)
        endpoint.modified = time.time()
        log.info("variant weights updated", extra={"endpoint": endpoint.name, "weights": dict(weights), "instances": counts})
        return {"EndpointArn": endpoint.arn}

    def delete_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteEndpoint: in-flight requests finish, then its models are released."""
        endpoint = self._endpoint(_param(params, "EndpointName", str))
        del self.endpoints[endpoint.name]
        self.tags.pop(endpoint.arn, None)
        endpoint.generation += 1  # a deployment still loading discards what it loads
        endpoint.status = "Deleting"
        if endpoint.live is not None:
            for model in endpoint.live.models():
                model.retire()
        log.info("deleted endpoint", extra={"endpoint": endpoint.name})
        return {}

    def describe_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeEndpoint: status, failure reason, config, and every live variant's weights and instance counts."""
        endpoint = self._endpoint(_param(params, "EndpointName", str))
        answer: dict[str, Any] = {
            "EndpointName": endpoint.name, "EndpointArn": endpoint.arn, "EndpointConfigName": endpoint.config_name,
            "EndpointStatus": endpoint.status, "CreationTime": endpoint.created, "LastModifiedTime": endpoint.modified,
        }
        if endpoint.failure_reason:
            answer["FailureReason"] = endpoint.failure_reason
        if endpoint.live is not None:
            live = endpoint.live
            answer["ProductionVariants"] = [
                {
                    "VariantName": v.name,
                    "DeployedImages": [{"SpecifiedImage": v.model.record.image, "ResolvedImage": v.model.record.image,
                                        "ResolutionTime": v.model.loaded_at}],
                    "CurrentWeight": live.weights[v.name], "DesiredWeight": live.weights[v.name],
                    "CurrentInstanceCount": live.instance_counts[v.name],
                    "DesiredInstanceCount": live.instance_counts[v.name],
                }
                for v in live.variants.values()
            ]
        if endpoint.pending_config is not None:
            answer["PendingDeploymentSummary"] = {"EndpointConfigName": endpoint.pending_config,
                                                  "StartTime": endpoint.pending_since}
        return answer

    def list_endpoints(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListEndpoints (NameContains, StatusEquals, SortBy, SortOrder, MaxResults/NextToken)."""
        contains = _param(params, "NameContains", str, default="")
        status = _param(params, "StatusEquals", str, default=None)
        items = [
            {"EndpointName": e.name, "EndpointArn": e.arn, "CreationTime": e.created, "LastModifiedTime": e.modified,
             "EndpointStatus": e.status}
            for e in self.endpoints.values() if contains in e.name and status in (None, e.status)
        ]
        keys = {"Name": "EndpointName", "CreationTime": "CreationTime", "Status": "EndpointStatus"}
        return _page(_sorted(items, params, keys), params, "Endpoints")

    # ----------------------------------------------------------------------------------------------- tags

    def _tagged(self, params: Mapping[str, Any]) -> str:
        resource = _param(params, "ResourceArn", str)
        if resource not in self.tags:
            raise validation(f'Could not find resource "{resource}".')
        return resource

    def list_tags(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListTags of a model, endpoint config or endpoint."""
        return {"Tags": list(self.tags[self._tagged(params)])}

    def add_tags(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """AddTags: a tag whose key exists replaces it."""
        resource = self._tagged(params)
        new = _tags(params)
        keys = {t["Key"] for t in new}
        self.tags[resource] = [t for t in self.tags[resource] if t["Key"] not in keys] + new
        return {"Tags": new}

    # ------------------------------------------------------------------------------------------ deploying

    def _deploy(self, endpoint: EndpointRecord, config: ConfigRecord, models: list[ModelRecord], *, retain: bool) -> None:
        endpoint.generation += 1
        task = asyncio.get_running_loop().create_task(
            self._load_and_swap(endpoint, endpoint.generation, config, models, retain), name=f"deploy-{endpoint.name}"
        )
        # Holding a reference also keeps the loop from garbage-collecting the running task.
        self._deployments[endpoint.name] = task
        task.add_done_callback(self._deployment_done)

    def _deployment_done(self, task: asyncio.Task[None]) -> None:
        for name, running in list(self._deployments.items()):
            if running is task:
                del self._deployments[name]
        if not task.cancelled() and task.exception() is not None:
            log.error("deployment task crashed", exc_info=task.exception())

    async def wait_deployed(self, name: str) -> EndpointRecord:
        """Wait for the endpoint's deployment in progress (if any) to finish; return the endpoint."""
        task = self._deployments.get(name)
        if task is not None:
            await asyncio.shield(task)
        return self._endpoint(name)

    async def _load_and_swap(self, endpoint: EndpointRecord, generation: int, config: ConfigRecord,
                             models: list[ModelRecord], retain: bool) -> None:
        old = endpoint.live
        # Already loaded models are reused, each by at most one new variant, preferring the variant of the same name.
        reusable = {v.name: v.model for v in old.variants.values()} if old else {}
        # The server's --threads, else the model's INTENT_SERVE_THREADS, else the CPUs shared among the variants.
        threads = default_threads(len(config.variants))
        loaded: list[LiveVariant] = []
        fresh: list[LoadedModel] = []
        try:
            for spec, record in zip(config.variants, models, strict=True):
                model = self._take_reusable(reusable, spec.name, record)
                if model is None:
                    try:
                        model = await asyncio.to_thread(
                            LoadedModel.load, record, self.threads or record.config.threads or threads, self.work_dir
                        )
                    except Exception as exc:  # noqa: BLE001 - whatever stops a model loading is the FailureReason
                        self._deployment_failed(endpoint, generation, config,
                                                f"Failed to load model {record.name!r} for variant {spec.name!r}: {exc}")
                        for model in fresh:
                            model.retire()
                        return
                    fresh.append(model)
                loaded.append(LiveVariant(spec.name, model))
        except asyncio.CancelledError:  # the server is shutting down
            for model in fresh:
                model.retire()
            raise
        if endpoint.generation != generation:  # deleted (or shut down) while loading
            for model in fresh:
                model.retire()
            return
        weights = {v.name: v.weight for v in config.variants}
        counts = {v.name: v.instance_count for v in config.variants}
        if retain and old is not None:
            weights.update({n: w for n, w in old.weights.items() if n in weights})
            counts.update({n: c for n, c in old.instance_counts.items() if n in counts})
        endpoint.live = VariantSet(config.name, loaded, weights, counts)
        endpoint.config_name = config.name
        endpoint.status = "InService"
        endpoint.failure_reason = None
        endpoint.pending_config = endpoint.pending_since = None
        endpoint.modified = time.time()
        kept = {id(v.model) for v in loaded}
        for model in old.models() if old else []:
            if id(model) not in kept:
                model.retire()
        log.info("endpoint in service", extra={
            "endpoint": endpoint.name, "config_name": config.name, "weights": weights,
            "models": {v.name: f"{v.model.record.name} ({v.model.model_version})" for v in loaded},
            "reused": [v.name for v in loaded if v.model not in fresh],
        })

    def _deployment_failed(self, endpoint: EndpointRecord, generation: int, config: ConfigRecord, reason: str) -> None:
        """A new endpoint fails; an updated one goes back to serving its old variants. Either way the reason shows."""
        if endpoint.generation != generation:
            return
        log.error("deployment failed", extra={"endpoint": endpoint.name, "config_name": config.name, "reason": reason})
        endpoint.failure_reason = reason
        endpoint.status = "InService" if endpoint.live is not None else "Failed"
        endpoint.pending_config = endpoint.pending_since = None
        endpoint.modified = time.time()

    @staticmethod
    def _take_reusable(reusable: dict[str, LoadedModel], variant: str, record: ModelRecord) -> LoadedModel | None:
        if variant in reusable and reusable[variant].record is record:
            return reusable.pop(variant)
        for name, model in reusable.items():
            if model.record is record:
                return reusable.pop(name)
        return None

    # ------------------------------------------------------------------------------------------- runtime

    def route(self, name: str, target_variant: str | None) -> tuple[EndpointRecord, LiveVariant]:
        """The endpoint and the variant that answers: the pinned one, else a weighted random draw (ApiError if none)."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise ApiError("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.")
        live = endpoint.live
        if live is None:
            raise ApiError("ValidationError", f"Endpoint {name} of account {ACCOUNT} is not in service (status {endpoint.status}).")
        if target_variant is not None:
            if target_variant not in live.variants:
                raise ApiError(
                    "ValidationError",
                    f"The variant {target_variant!r} does not exist for endpoint {name} of account {ACCOUNT}; "
                    f"its variants are: {', '.join(live.variants)}.",
                )
            return endpoint, live.variants[target_variant]
        return endpoint, live.choose()

    def endpoint_metrics(self, name: str, since: float | None) -> dict[str, Any]:
        """Per-variant stats since `since` (epoch seconds; None: all kept samples), with weights and traffic shares."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise ApiError("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.", status=404)
        until = time.time()
        live_weights = dict(endpoint.live.weights) if endpoint.live else {}
        shares = traffic_shares(live_weights) if live_weights else {}
        names = list(live_weights) + [n for n in endpoint.metrics if n not in live_weights]
        summaries = {n: endpoint.metrics_for(n).summary(n, since if since is not None else 0.0) for n in names}
        # Variants no longer deployed are reported only while the window still holds their traffic.
        summaries = {n: s for n, s in summaries.items() if n in live_weights or s["invocations"] or s["client_errors"]}
        total = sum(s["invocations"] for s in summaries.values())
        variants = {}
        for n, summary in summaries.items():
            live_variant = endpoint.live.variants.get(n) if endpoint.live else None
            variants[n] = {
                **summary,
                "current_weight": live_weights.get(n, 0.0),
                "traffic_share": round(shares.get(n, 0.0), 6),
                "observed_share": round(summary["invocations"] / total, 6) if total else 0.0,
                "live": live_variant is not None,
                "model_name": live_variant.model.record.name if live_variant else None,
                "model_version": live_variant.model.model_version if live_variant else None,
            }
        return {"endpoint": name, "status": endpoint.status, "since": since, "until": until, "variants": variants}

    async def close(self) -> None:
        """Stop deployments in progress and release every loaded model (after in-flight requests have finished)."""
        for endpoint in self.endpoints.values():
            endpoint.generation += 1
        for task in list(self._deployments.values()):
            task.cancel()
        for endpoint in self.endpoints.values():
            for model in endpoint.live.models() if endpoint.live else []:
                model.retire()
