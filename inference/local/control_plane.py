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
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from inference.local.api import (
    ACCOUNT,
    ApiError,
    arn,
    check_request,
    from_user_error,
    name_param,
    page,
    param,
    sort_items,
    tags_param,
    validation,
)
from inference.local.capture import CaptureSpec, capture_spec
from inference.local.models import LoadedModel, ModelRecord, check_model_source, model_path_from_url
from inference.local.records import ConfigRecord, EndpointRecord, LiveVariant, VariantSet, VariantSpec
from inference.local.shadow import (
    CANCELLED,
    COMPLETED,
    CREATED,
    CREATING,
    DEFAULT_DURATION_S,
    MAX_DURATION_S,
    MAX_SHADOW_VARIANTS,
    RUNNING,
    ExperimentRecord,
    ShadowVariant,
    mirror,
)
from inference.predictor import default_threads
from inference.serving.config import ServerConfig
from inference.variants import TAGS_PER_RESOURCE, DeploymentError, check_unique, check_weights, traffic_shares
from ml.errors import MlopsError

log = logging.getLogger(__name__)

EXPERIMENT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}")

# Where the local endpoint goes beyond SageMaker's request limits: an experiment may hold several shadow variants
# (inference.local.shadow.MAX_SHADOW_VARIANTS), so its ModelVariants list holds the source variant plus each of them.
LOCAL_LIMITS: dict[str, dict[str, int]] = {
    "CreateInferenceExperiment": {
        "modelVariants": 1 + MAX_SHADOW_VARIANTS,
        "shadowModeConfig.shadowModelVariants": MAX_SHADOW_VARIANTS,
    },
    "StopInferenceExperiment": {"modelVariantActions": 1 + MAX_SHADOW_VARIANTS},
}


class LocalSageMaker:
    """SageMaker's control plane for models, endpoint configs and endpoints, and the router of their traffic."""

    def __init__(self, work_dir: Path, *, threads: int | None = None) -> None:
        self.work_dir = Path(work_dir)
        self.threads = threads
        self.models: dict[str, ModelRecord] = {}
        self.configs: dict[str, ConfigRecord] = {}
        self.endpoints: dict[str, EndpointRecord] = {}
        self.tags: dict[str, list[dict[str, str]]] = {}
        self.experiments: dict[str, ExperimentRecord] = {}
        self.active_experiments: dict[str, str] = {}  # endpoint name -> the name of its experiment not yet ended
        self._deployments: dict[str, asyncio.Task[None]] = {}
        self._experiment_loads: set[asyncio.Task[None]] = set()
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
            "DeleteTags": self.delete_tags,
            "CreateInferenceExperiment": self.create_inference_experiment,
            "DescribeInferenceExperiment": self.describe_inference_experiment,
            "StartInferenceExperiment": self.start_inference_experiment,
            "StopInferenceExperiment": self.stop_inference_experiment,
            "ListInferenceExperiments": self.list_inference_experiments,
        }

    def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one control-plane operation (on the event loop); ApiError for anything SageMaker would refuse."""
        handler = self.operations.get(operation)
        if handler is None:
            raise ApiError("UnknownOperationException", f"the local endpoint does not implement SageMaker.{operation}")
        check_request(operation, params, max_lengths=LOCAL_LIMITS.get(operation))
        return handler(params)

    # ------------------------------------------------------------------------------------------- models

    def create_model(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """CreateModel from a local model directory or model.tar.gz (PrimaryContainer.ModelDataUrl)."""
        name = name_param(params, "ModelName", "model")
        container = param(params, "PrimaryContainer", dict, default=None)
        containers = param(params, "Containers", list, default=[])
        if container is None and len(containers) == 1 and isinstance(containers[0], dict):
            container = containers[0]
        if container is None:
            raise validation("the local endpoint serves single-container models: give PrimaryContainer")
        if name in self.models:
            raise validation(f'Cannot create already existing model "{arn("model", name)}".')
        url = param(container, "ModelDataUrl", str, default=None)
        if url is None:
            raise validation(
                "PrimaryContainer.ModelDataUrl is required: the local endpoint loads models from file paths"
            )
        environment = param(container, "Environment", dict, default={})
        try:
            config = ServerConfig.from_env({str(k): str(v) for k, v in environment.items()})
            if config.precision == "torch":
                raise DeploymentError(
                    "INTENT_SERVE_PRECISION=torch is not served by the local endpoint", hint="use int8 or fp32"
                )
            source = check_model_source(model_path_from_url(url), config.precision)
        except MlopsError as exc:
            raise from_user_error(exc) from None
        record = ModelRecord(
            name, source, config, dict(container), param(params, "ExecutionRoleArn", str, default=None), time.time()
        )
        self.models[name] = record
        self.tags[record.arn] = tags_param(params)
        log.info("created model", extra={"model_name": name, "source": str(source), "precision": config.precision})
        return {"ModelArn": record.arn}

    def _model(self, name: str) -> ModelRecord:
        if name not in self.models:
            raise validation(f'Could not find model "{arn("model", name)}".')
        return self.models[name]

    def describe_model(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeModel."""
        record = self._model(param(params, "ModelName", str))
        answer = {
            "ModelName": record.name,
            "ModelArn": record.arn,
            "CreationTime": record.created,
            "PrimaryContainer": dict(record.container),
            "EnableNetworkIsolation": False,
        }
        if record.execution_role:
            answer["ExecutionRoleArn"] = record.execution_role
        return answer

    def delete_model(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteModel; like SageMaker, endpoints already serving it keep serving."""
        record = self._model(param(params, "ModelName", str))
        del self.models[record.name]
        self.tags.pop(record.arn, None)
        log.info("deleted model", extra={"model_name": record.name})
        return {}

    def list_models(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListModels (NameContains, SortBy, SortOrder, MaxResults/NextToken)."""
        contains = param(params, "NameContains", str, default="")
        items = [
            {"ModelName": m.name, "ModelArn": m.arn, "CreationTime": m.created}
            for m in self.models.values()
            if contains in m.name
        ]
        return page(sort_items(items, params, {"Name": "ModelName", "CreationTime": "CreationTime"}), params, "Models")

    # ---------------------------------------------------------------------------------- endpoint configs

    def create_endpoint_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """CreateEndpointConfig: variants with unique valid names, known models, weights that send traffic somewhere."""
        name = name_param(params, "EndpointConfigName", "endpoint config")
        if name in self.configs:
            raise validation(f'Cannot create already existing endpoint configuration "{arn("endpoint-config", name)}".')
        raw = param(params, "ProductionVariants", list)
        if not 1 <= len(raw) <= 10:
            raise validation("ProductionVariants must hold 1 to 10 variants")
        variants = []
        for item in raw:
            if not isinstance(item, dict):
                raise validation("every ProductionVariants item must be an object")
            variant = VariantSpec(
                name=param(item, "VariantName", str),
                model_name=param(item, "ModelName", str),
                weight=float(param(item, "InitialVariantWeight", (int, float), default=1.0)),
                instance_count=param(item, "InitialInstanceCount", int, default=1),
                instance_type=param(item, "InstanceType", str, default=None),
            )
            if variant.instance_count < 1:
                raise validation(f"InitialInstanceCount of variant {variant.name!r} must be at least 1")
            variants.append(variant)
        try:
            check_unique("variant", [v.name for v in variants])
            check_weights({v.name: v.weight for v in variants})
        except DeploymentError as exc:
            raise from_user_error(exc) from None
        for variant in variants:
            self._model(variant.model_name)
        described = tuple(
            {**item, "InitialVariantWeight": v.weight, "InitialInstanceCount": v.instance_count}
            for item, v in zip(raw, variants, strict=True)
        )
        data_capture = param(params, "DataCaptureConfig", dict, default=None)
        record = ConfigRecord(
            name,
            tuple(variants),
            time.time(),
            described,
            data_capture,
            capture_spec(data_capture) if data_capture is not None else None,
        )
        self.configs[name] = record
        self.tags[record.arn] = tags_param(params)
        log.info(
            "created endpoint config", extra={"config_name": name, "variants": {v.name: v.model_name for v in variants}}
        )
        return {"EndpointConfigArn": record.arn}

    def _config(self, name: str) -> ConfigRecord:
        if name not in self.configs:
            raise validation(f'Could not find endpoint configuration "{name}".')
        return self.configs[name]

    def describe_endpoint_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeEndpointConfig."""
        record = self._config(param(params, "EndpointConfigName", str))
        answer = {
            "EndpointConfigName": record.name,
            "EndpointConfigArn": record.arn,
            "ProductionVariants": [dict(v) for v in record.described_variants],
            "CreationTime": record.created,
        }
        if record.data_capture is not None:
            answer["DataCaptureConfig"] = dict(record.data_capture)
        return answer

    def delete_endpoint_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteEndpointConfig; endpoints created from it keep serving."""
        record = self._config(param(params, "EndpointConfigName", str))
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
        name = name_param(params, "EndpointName", "endpoint")
        if name in self.endpoints:
            raise validation(f'Cannot create already existing endpoint "{arn("endpoint", name)}".')
        config, models = self._deployable(param(params, "EndpointConfigName", str))
        now = time.time()
        endpoint = EndpointRecord(name, config.name, created=now, modified=now)
        self.endpoints[name] = endpoint
        self.tags[endpoint.arn] = tags_param(params)
        self._deploy(endpoint, config, models, retain=False)
        log.info("creating endpoint", extra={"endpoint": name, "config_name": config.name})
        return {"EndpointArn": endpoint.arn}

    def update_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """UpdateEndpoint: the old variants serve until the new ones are loaded, then the set swaps at once."""
        endpoint = self._endpoint(param(params, "EndpointName", str))
        config, models = self._deployable(param(params, "EndpointConfigName", str))
        self._check_updatable(endpoint)
        retain = param(params, "RetainAllVariantProperties", bool, default=False)
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
        endpoint = self._endpoint(param(params, "EndpointName", str))
        self._check_updatable(endpoint)
        live = endpoint.live
        if live is None:  # unreachable: an InService endpoint always has a variant set
            raise validation(f"endpoint {endpoint.name!r} serves no variants")
        desired = param(params, "DesiredWeightsAndCapacities", list)
        if not desired or not all(isinstance(item, dict) for item in desired):
            raise validation("DesiredWeightsAndCapacities must be a non-empty list of objects")
        weights, counts = dict(live.weights), dict(live.instance_counts)
        try:
            names = check_unique("variant", [param(item, "VariantName", str) for item in desired])
            unknown = [n for n in names if n not in live.variants]
            if unknown:
                raise DeploymentError(
                    f"no variant named {', '.join(map(repr, unknown))} on endpoint {endpoint.name!r}",
                    hint=f"its variants are: {', '.join(live.variants)}",
                )
            for item in desired:
                weight = param(item, "DesiredWeight", (int, float), default=None)
                count = param(item, "DesiredInstanceCount", int, default=None)
                if weight is not None:
                    weights[item["VariantName"]] = float(weight)
                if count is not None:
                    if count < 0:
                        raise DeploymentError(
                            f"DesiredInstanceCount of variant {item['VariantName']!r} must be at least 0"
                        )
                    counts[item["VariantName"]] = count  # recorded and reported; one process serves every variant
            check_weights(weights, known=live.variants)  # each >= 0, and the new sum must still send traffic somewhere
        except DeploymentError as exc:
            raise from_user_error(exc) from None
        endpoint.live = live.with_weights(weights, counts)
        endpoint.modified = time.time()
        log.info(
            "variant weights updated", extra={"endpoint": endpoint.name, "weights": dict(weights), "instances": counts}
        )
        return {"EndpointArn": endpoint.arn}

    def delete_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteEndpoint: in-flight requests finish, then its models are released."""
        endpoint = self._endpoint(param(params, "EndpointName", str))
        del self.endpoints[endpoint.name]
        self.tags.pop(endpoint.arn, None)
        endpoint.generation += 1  # a deployment still loading discards what it loads
        endpoint.status = "Deleting"
        experiment = self.active_experiment(endpoint.name)
        if experiment is not None:
            self._end(experiment, CANCELLED, f'Endpoint "{endpoint.name}" was deleted.')
        if endpoint.live is not None:
            for model in endpoint.live.models():
                model.retire()
        self._set_capture(endpoint, None)
        log.info("deleted endpoint", extra={"endpoint": endpoint.name})
        return {}

    def describe_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeEndpoint: status, failure reason, config, and every live variant's weights and instance counts."""
        endpoint = self._endpoint(param(params, "EndpointName", str))
        answer: dict[str, Any] = {
            "EndpointName": endpoint.name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.config_name,
            "EndpointStatus": endpoint.status,
            "CreationTime": endpoint.created,
            "LastModifiedTime": endpoint.modified,
        }
        if endpoint.failure_reason:
            answer["FailureReason"] = endpoint.failure_reason
        if endpoint.capture_spec is not None:
            answer["DataCaptureConfig"] = endpoint.capture_spec.summary()
        if endpoint.live is not None:
            live = endpoint.live
            answer["ProductionVariants"] = [
                {
                    "VariantName": v.name,
                    "DeployedImages": [
                        {
                            "SpecifiedImage": v.model.record.image,
                            "ResolvedImage": v.model.record.image,
                            "ResolutionTime": v.model.loaded_at,
                        }
                    ],
                    "CurrentWeight": live.weights[v.name],
                    "DesiredWeight": live.weights[v.name],
                    "CurrentInstanceCount": live.instance_counts[v.name],
                    "DesiredInstanceCount": live.instance_counts[v.name],
                }
                for v in live.variants.values()
            ]
        experiment = self.active_experiment(endpoint.name)
        if experiment is not None and experiment.models():
            # As on AWS while a shadow test runs: its shadow variants, which take no routed traffic.
            answer["ShadowProductionVariants"] = [
                {
                    "VariantName": s.name,
                    "DeployedImages": [
                        {
                            "SpecifiedImage": s.model.record.image,
                            "ResolvedImage": s.model.record.image,
                            "ResolutionTime": s.model.loaded_at,
                        }
                    ],
                    "CurrentInstanceCount": s.infrastructure["RealTimeInferenceConfig"]["InstanceCount"],
                    "DesiredInstanceCount": s.infrastructure["RealTimeInferenceConfig"]["InstanceCount"],
                }
                for s in experiment.shadows.values()
                if s.model is not None
            ]
        if endpoint.pending_config is not None:
            answer["PendingDeploymentSummary"] = {
                "EndpointConfigName": endpoint.pending_config,
                "StartTime": endpoint.pending_since,
            }
        return answer

    def list_endpoints(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListEndpoints (NameContains, StatusEquals, SortBy, SortOrder, MaxResults/NextToken)."""
        contains = param(params, "NameContains", str, default="")
        status = param(params, "StatusEquals", str, default=None)
        items = [
            {
                "EndpointName": e.name,
                "EndpointArn": e.arn,
                "CreationTime": e.created,
                "LastModifiedTime": e.modified,
                "EndpointStatus": e.status,
            }
            for e in self.endpoints.values()
            if contains in e.name and status in (None, e.status)
        ]
        keys = {"Name": "EndpointName", "CreationTime": "CreationTime", "Status": "EndpointStatus"}
        return page(sort_items(items, params, keys), params, "Endpoints")

    # ----------------------------------------------------------------------------------------------- tags

    def _tagged(self, params: Mapping[str, Any]) -> str:
        resource = param(params, "ResourceArn", str)
        if resource not in self.tags:
            raise validation(f'Could not find resource "{resource}".')
        return resource

    def list_tags(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListTags of a model, endpoint config or endpoint."""
        return {"Tags": list(self.tags[self._tagged(params)])}

    def add_tags(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """AddTags: a tag whose key exists replaces it; at most TAGS_PER_RESOURCE tags on a resource, as on AWS."""
        resource = self._tagged(params)
        new = tags_param(params)
        keys = {t["Key"] for t in new}
        tags = [t for t in self.tags[resource] if t["Key"] not in keys] + new
        if len(tags) > TAGS_PER_RESOURCE:
            raise validation(
                f"Resource {resource} would have {len(tags)} tags: a resource can have at most {TAGS_PER_RESOURCE}."
            )
        self.tags[resource] = tags
        return {"Tags": new}

    def delete_tags(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DeleteTags: the tags with these keys go; keys the resource does not have are ignored."""
        resource = self._tagged(params)
        keys = set(param(params, "TagKeys", list))
        self.tags[resource] = [t for t in self.tags[resource] if t["Key"] not in keys]
        return {}

    # ------------------------------------------------------------------------------- inference experiments

    def _experiment(self, name: str) -> ExperimentRecord:
        if name not in self.experiments:
            raise ApiError(
                "ResourceNotFound", f'Could not find inference experiment "{arn("inference-experiment", name)}".'
            )
        return self._refresh(self.experiments[name])

    def _refresh(self, experiment: ExperimentRecord) -> ExperimentRecord:
        """Apply the schedule: a scheduled experiment starts at its StartTime and every one completes at its EndTime."""
        now = time.time()
        if experiment.status == CREATED and experiment.scheduled and experiment.start_time <= now:
            experiment.status, experiment.modified = RUNNING, now
        if experiment.status in (CREATED, RUNNING) and now >= experiment.end_time:
            self._end(experiment, COMPLETED, "The experiment reached the EndTime of its Schedule.")
        return experiment

    def _end(self, experiment: ExperimentRecord, status: str, reason: str | None) -> None:
        experiment.end(status, reason, time.time())
        if self.active_experiments.get(experiment.endpoint) == experiment.name:
            del self.active_experiments[experiment.endpoint]
        log.info(
            "inference experiment ended", extra={"experiment": experiment.name, "status": status, "reason": reason}
        )

    def active_experiment(self, endpoint: str) -> ExperimentRecord | None:
        """The endpoint's experiment that has not ended, if any."""
        name = self.active_experiments.get(endpoint)
        if name is None:
            return None
        experiment = self._refresh(self.experiments[name])
        return experiment if experiment.active else None

    def create_inference_experiment(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """CreateInferenceExperiment (ShadowMode): load the shadow variants' models next to the endpoint's production
        variants, then mirror a sample of the source variant's requests to them (Running), or wait for the Schedule's
        StartTime (Created)."""
        name = param(params, "Name", str)
        if not EXPERIMENT_NAME.fullmatch(name):
            raise validation(f"inference experiment name {name!r} must be 1-120 letters, digits and hyphens")
        if name in self.experiments:
            raise ApiError(
                "ResourceInUse",
                f'Cannot create already existing inference experiment "{arn("inference-experiment", name)}".',
            )
        endpoint = self._endpoint(param(params, "EndpointName", str))
        if endpoint.status != "InService" or endpoint.live is None:
            raise validation(f'Endpoint "{endpoint.name}" is {endpoint.status}: a shadow test needs it InService.')
        running = self.active_experiment(endpoint.name)
        if running is not None:
            raise validation(
                f'Endpoint "{endpoint.name}" already has inference experiment "{running.name}" ({running.status}): '
                "an endpoint takes one experiment at a time; stop it first."
            )
        config = param(params, "ShadowModeConfig", dict)
        source = param(config, "SourceModelVariantName", str)
        variants = {v["VariantName"]: v for v in param(params, "ModelVariants", list)}
        if len(variants) != len(param(params, "ModelVariants", list)):
            raise validation("ModelVariants names a variant twice: give every variant its own VariantName")
        live = endpoint.live
        if source not in live.variants:
            raise validation(
                f'SourceModelVariantName "{source}" is not a production variant of endpoint "{endpoint.name}"; '
                f"its variants are: {', '.join(live.variants)}."
            )
        if source not in variants:
            raise validation(f'ModelVariants must list the source variant "{source}" with the model it serves.')
        serving = live.variants[source].model.record.name
        if variants[source]["ModelName"] != serving:
            raise validation(
                f'The source variant "{source}" serves model "{serving}", not "{variants[source]["ModelName"]}": '
                "a shadow test leaves production as it is."
            )
        shadows: dict[str, ShadowVariant] = {}
        for item in param(config, "ShadowModelVariants", list):
            shadow = item["ShadowModelVariantName"]
            if shadow not in variants:
                raise validation(
                    f'The shadow variant "{shadow}" does not exist: ShadowModelVariantName must name one of the '
                    f"ModelVariants ({', '.join(variants)})."
                )
            if shadow == source or shadow in live.variants:
                raise validation(
                    f'The shadow variant "{shadow}" is a production variant of endpoint "{endpoint.name}": '
                    "give the shadow a name of its own."
                )
            if shadow in shadows:
                raise validation(f'ShadowModelVariants names "{shadow}" twice.')
            percent = item["SamplingPercentage"]
            if not 1 <= percent <= 100:
                raise validation(
                    f'SamplingPercentage of "{shadow}" must be 1-100 (percent of requests mirrored), got {percent}.'
                )
            shadows[shadow] = ShadowVariant(
                shadow, variants[shadow]["ModelName"], percent, dict(variants[shadow]["InfrastructureConfig"])
            )
        unused = [v for v in variants if v != source and v not in shadows]
        if unused:
            raise validation(
                f"ModelVariants {', '.join(map(repr, unused))} is neither the source variant nor a shadow variant."
            )
        records = [self._model(s.model_name) for s in shadows.values()]
        now = time.time()
        schedule = param(params, "Schedule", dict, default={})
        start = _epoch(schedule.get("StartTime"), now)
        end = _epoch(schedule.get("EndTime"), start + DEFAULT_DURATION_S)
        if end <= start or end <= now:
            raise validation("Schedule.EndTime must be after its StartTime and in the future.")
        if end - start > MAX_DURATION_S:
            raise validation(
                f"A shadow test runs at most {MAX_DURATION_S // 86400} days: move Schedule.EndTime closer."
            )
        experiment = ExperimentRecord(
            name=name,
            endpoint=endpoint.name,
            source_variant=source,
            model_variants=tuple(dict(v) for v in param(params, "ModelVariants", list)),
            shadows=shadows,
            role_arn=param(params, "RoleArn", str),
            created=now,
            modified=now,
            start_time=start,
            end_time=end,
            scheduled="StartTime" in schedule,
            description=param(params, "Description", str, default=None),
            data_storage=param(params, "DataStorageConfig", dict, default=None),
            kms_key=param(params, "KmsKey", str, default=None),
        )
        self.experiments[name] = experiment
        self.active_experiments[endpoint.name] = name
        self.tags[experiment.arn] = tags_param(params)
        threads = self.threads or default_threads(len(live.variants) + len(shadows))
        task = asyncio.get_running_loop().create_task(
            self._load_shadows(experiment, records, threads), name=f"shadow-load-{name}"
        )
        self._experiment_loads.add(task)
        task.add_done_callback(self._experiment_loads.discard)
        log.info(
            "creating inference experiment",
            extra={"experiment": name, "endpoint": endpoint.name, "source": source, "shadows": list(shadows)},
        )
        return {"InferenceExperimentArn": experiment.arn}

    async def _load_shadows(self, experiment: ExperimentRecord, records: list[ModelRecord], threads: int) -> None:
        for shadow, record in zip(experiment.shadows.values(), records, strict=True):
            try:
                model = await asyncio.to_thread(
                    LoadedModel.load, record, record.config.threads or threads, self.work_dir
                )
            except Exception as exc:  # noqa: BLE001 - whatever stops a model loading is the StatusReason
                if experiment.status == CREATING:
                    self._end(experiment, CANCELLED, f"Failed to load model {record.name!r} for {shadow.name!r}: {exc}")
                return
            if experiment.status != CREATING:  # stopped (or its endpoint deleted) while loading
                model.retire()
                return
            shadow.model = model
        now = time.time()
        experiment.status = RUNNING if experiment.start_time <= now else CREATED
        experiment.modified = now
        log.info("inference experiment %s", experiment.status.lower(), extra={"experiment": experiment.name})

    async def wait_experiment_loaded(self, name: str) -> None:
        """Wait until the experiment's shadow models are loaded (or failed to): for tests and the startup path."""
        while name in self.experiments and self.experiments[name].status == CREATING:
            await asyncio.sleep(0.05)

    def describe_inference_experiment(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeInferenceExperiment."""
        experiment = self._experiment(param(params, "Name", str))
        endpoint = self.endpoints.get(experiment.endpoint)
        return experiment.describe(endpoint.status if endpoint else None, endpoint.config_name if endpoint else None)

    def start_inference_experiment(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """StartInferenceExperiment: a Created experiment (scheduled for later) starts mirroring now."""
        experiment = self._experiment(param(params, "Name", str))
        if experiment.status != CREATED:
            raise validation(
                f'Inference experiment "{experiment.name}" is {experiment.status}: only a Created experiment can start.'
            )
        experiment.status, experiment.start_time = RUNNING, time.time()
        experiment.modified = experiment.start_time
        return {"InferenceExperimentArn": experiment.arn}

    def stop_inference_experiment(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """StopInferenceExperiment: mirroring stops and the shadow variants are removed; production is untouched.

        The local endpoint takes Retain for the source variant and Remove for a shadow (the defaults of variants not
        named). Promote is refused: here a shadow reaches production through an A/B test (`mlops endpoint deploy`
        at a small weight) and a gated promotion, never straight from a shadow test.
        """
        experiment = self._experiment(param(params, "Name", str))
        if not experiment.active:
            raise validation(f'Inference experiment "{experiment.name}" is {experiment.status}: it has already ended.')
        actions = param(params, "ModelVariantActions", dict)
        known = [experiment.source_variant, *experiment.shadows]
        for variant, action in actions.items():
            if variant not in known:
                raise validation(
                    f'ModelVariantActions names "{variant}", which is not a variant of inference experiment '
                    f'"{experiment.name}" ({", ".join(known)}).'
                )
            allowed = "Retain" if variant == experiment.source_variant else "Remove"
            if action != allowed:
                raise validation(
                    f"The local endpoint takes {allowed} for {'the source' if allowed == 'Retain' else 'shadow'} "
                    f'variant "{variant}", not {action}: move a shadow into production with an A/B deployment at a '
                    "small weight (mlops endpoint deploy) and a gated promotion."
                )
        status = param(params, "DesiredState", str, default=COMPLETED)
        self._end(experiment, status, param(params, "Reason", str, default=None))
        return {"InferenceExperimentArn": experiment.arn}

    def list_inference_experiments(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """ListInferenceExperiments (NameContains, Type, StatusEquals, time filters, SortBy, SortOrder, paging)."""
        contains = param(params, "NameContains", str, default="")
        status = param(params, "StatusEquals", str, default=None)
        bounds = {
            key: _epoch(params.get(key), None)
            for key in ("CreationTimeAfter", "CreationTimeBefore", "LastModifiedTimeAfter", "LastModifiedTimeBefore")
        }
        items = []
        for experiment in map(self._refresh, list(self.experiments.values())):
            item = experiment.list_item()
            created, modified = item["CreationTime"], item["LastModifiedTime"]
            if (
                contains in experiment.name
                and status in (None, experiment.status)
                and (bounds["CreationTimeAfter"] is None or created > bounds["CreationTimeAfter"])
                and (bounds["CreationTimeBefore"] is None or created < bounds["CreationTimeBefore"])
                and (bounds["LastModifiedTimeAfter"] is None or modified > bounds["LastModifiedTimeAfter"])
                and (bounds["LastModifiedTimeBefore"] is None or modified < bounds["LastModifiedTimeBefore"])
            ):
                items.append(item)
        keys = {"Name": "Name", "CreationTime": "CreationTime", "Status": "Status"}
        return page(sort_items(items, params, keys), params, "InferenceExperiments")

    def mirror(
        self, endpoint: str, variant: str, texts: list[str], predictions: list[dict[str, Any]], latency_ms: float
    ) -> None:
        """Mirror an answered request of `variant` to the shadow variants of the endpoint's running experiment."""
        experiment = self.active_experiment(endpoint)
        if experiment is not None and experiment.status == RUNNING and experiment.source_variant == variant:
            mirror(experiment, texts, [p["intent"] for p in predictions], latency_ms)

    # ------------------------------------------------------------------------------------------ deploying

    def _deploy(
        self, endpoint: EndpointRecord, config: ConfigRecord, models: list[ModelRecord], *, retain: bool
    ) -> None:
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

    async def _load_and_swap(
        self, endpoint: EndpointRecord, generation: int, config: ConfigRecord, models: list[ModelRecord], retain: bool
    ) -> None:
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
                        self._deployment_failed(
                            endpoint,
                            generation,
                            config,
                            f"Failed to load model {record.name!r} for variant {spec.name!r}: {exc}",
                        )
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
        self._set_capture(endpoint, config.capture)
        endpoint.config_name = config.name
        endpoint.status = "InService"
        endpoint.failure_reason = None
        endpoint.pending_config = endpoint.pending_since = None
        endpoint.modified = time.time()
        kept = {id(v.model) for v in loaded}
        for model in old.models() if old else []:
            if id(model) not in kept:
                model.retire()
        log.info(
            "endpoint in service",
            extra={
                "endpoint": endpoint.name,
                "config_name": config.name,
                "weights": weights,
                "models": {v.name: f"{v.model.record.name} ({v.model.model_version})" for v in loaded},
                "reused": [v.name for v in loaded if v.model not in fresh],
            },
        )

    @staticmethod
    def _set_capture(endpoint: EndpointRecord, spec: CaptureSpec | None) -> None:
        """Capture as `spec` asks from now on: the writer is kept when nothing changed, else replaced (or closed)."""
        if spec == endpoint.capture_spec and (endpoint.capture_writer is not None) == bool(spec and spec.enabled):
            return
        old = endpoint.capture_writer
        endpoint.capture_spec = spec
        try:
            endpoint.capture_writer = spec.writer(endpoint.name) if spec is not None and spec.enabled else None
        except MlopsError as exc:  # unreachable: CreateEndpointConfig checked the spec
            log.error("data capture not started for %s: %s", endpoint.name, exc)
            endpoint.capture_writer = None
        if old is not None:
            old.close()  # writes what it has queued: the requests answered before the swap
        if spec is not None and endpoint.capture_writer is not None:
            extra = {"endpoint": endpoint.name, "root": str(spec.root), "percent": spec.percent}
            log.info("data capture started", extra=extra)

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
            raise ApiError(
                "ValidationError", f"Endpoint {name} of account {ACCOUNT} is not in service (status {endpoint.status})."
            )
        if target_variant is not None:
            if target_variant not in live.variants:
                raise ApiError(
                    "ValidationError",
                    f"The variant {target_variant!r} does not exist for endpoint {name} of account {ACCOUNT}; "
                    f"its variants are: {', '.join(live.variants)}.",
                )
            return endpoint, live.variants[target_variant]
        return endpoint, live.choose()

    def endpoint_traffic(self, name: str, since: float | None, *, with_latencies: bool = False) -> dict[str, Any]:
        """Per-variant stats since `since` (epoch seconds; None: all kept samples), with weights and traffic shares
        (and each answered request's latency, when asked)."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise ApiError("ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.", status=404)
        until = time.time()
        live_weights = dict(endpoint.live.weights) if endpoint.live else {}
        shares = traffic_shares(live_weights) if live_weights else {}
        names = list(live_weights) + [n for n in endpoint.traffic if n not in live_weights]
        summaries = {
            n: endpoint.traffic_of(n).summary(n, since if since is not None else 0.0, with_latencies=with_latencies)
            for n in names
        }
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
        # Every shadow test of this endpoint, ended ones included, so a report can still be read after a stop.
        shadow = {
            e.name: e.summary(since if since is not None else 0.0, with_latencies=with_latencies)
            for e in map(self._refresh, list(self.experiments.values()))
            if e.endpoint == name
        }
        answer: dict[str, Any] = {
            "endpoint": name,
            "status": endpoint.status,
            "since": since,
            "until": until,
            "variants": variants,
            "shadow": shadow,
        }
        if endpoint.capture_writer is not None:
            answer["capture"] = endpoint.capture_writer.counts()
        return answer

    async def close(self) -> None:
        """Stop deployments in progress and release every loaded model (after in-flight requests have finished)."""
        for endpoint in self.endpoints.values():
            endpoint.generation += 1
        for task in list(self._deployments.values()):
            task.cancel()
        for endpoint in self.endpoints.values():
            for model in endpoint.live.models() if endpoint.live else []:
                model.retire()
            if endpoint.capture_writer is not None:  # queued captures are written before the process exits
                await asyncio.to_thread(endpoint.capture_writer.close)
                endpoint.capture_writer = None
        for task in list(self._experiment_loads):
            task.cancel()
        for experiment in self.experiments.values():
            experiment.end(experiment.status, None, time.time())  # releases shadow models still loaded


def _epoch(value: Any, default: Any) -> Any:
    """A request timestamp (epoch seconds, as boto3 sends them, or ISO 8601) as epoch seconds; `default` if absent."""
    if value is None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise validation(f"{str(value)[:40]!r} is not a timestamp (epoch seconds or ISO 8601)") from None
