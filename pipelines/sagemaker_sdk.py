"""The one module that touches the SageMaker Python SDK (v3): everything else goes through these functions.

Why a wrapper: SDK v3 moves fast (3.27 is pinned) and its internals live in four namespaces
(`sagemaker.core`, `.train`, `.serve`, `.mlops`); keeping every `sagemaker.*` import here means an SDK
upgrade touches one file. All imports are lazy, inside functions: `import sagemaker.mlops.workflow` takes
2-3 s and calls `boto3.client()` at import time (it raises `NoRegionError` without `AWS_DEFAULT_REGION`),
and `mlops --help` must stay fast.

SDK objects cross this boundary as opaque values (typed `Any`): callers pass them back in, never poke at
them. `pipelines.sagemaker_pipeline` decides *what* to build from the spec; this module knows *how*.

SDK behaviours handled here:
- Telemetry: the SDK sends GETs to an AWS bucket. `prepare_environment` opts out through the YAML file named
  by `SAGEMAKER_USER_CONFIG_OVERRIDE` (unless the user already points it at their own config).
- Role validation: building and upserting call IAM `SimulatePrincipalPolicy`; `prepare_environment` sets
  `SAGEMAKER_VALIDATE_ROLE=false` unless validation is asked for (moto does not implement it, and many
  callers may not use it); role ARNs are checked for shape by `pipelines.sagemaker_pipeline` instead.
- Determinism: `ModelTrainer` names its S3 upload prefix `<base>-<timestamp>`; `training_step` pins
  that name to a content hash while a definition is built, so the same code gives a byte-identical
  definition (and SageMaker step caching keeps hitting).
- Speed: the SDK re-validates its config file against a large JSON schema on every config lookup (~70 per
  build, 0.1-0.2 s each); `_sdk_calls` validates each distinct config once per process.
- Errors: botocore errors escaping an SDK call become `MlopsError`s (a message and a hint, no traceback).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ml.errors import MlopsError

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
# SDK configs that passed the SDK's schema validation in this process (see `_sdk_calls`).
_VALIDATED_CONFIGS: set[str] = set()

TELEMETRY_OPT_OUT_YAML = "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
USER_CONFIG_ENV = "SAGEMAKER_USER_CONFIG_OVERRIDE"
VALIDATE_ROLE_ENV = "SAGEMAKER_VALIDATE_ROLE"

# Default training/processing image: the AWS PyTorch DLC for CPU. The Hugging Face training DLCs that ship
# transformers >= 4.55 are GPU-only, and transformers 5 needs torch >= 2.6, so PyTorch 2.8 (py312) it is;
# our own pinned transformers/tokenizers come from the container requirements file.
DEFAULT_FRAMEWORK = "pytorch"
DEFAULT_FRAMEWORK_VERSION = "2.8"
DEFAULT_PY_VERSION = "py312"
# Only pick the CPU or GPU flavour of the image; the real instance type is a pipeline parameter.
DEFAULT_CPU_INSTANCE = "ml.m5.xlarge"
DEFAULT_GPU_INSTANCE = "ml.g5.xlarge"


def prepare_environment(*, validate_role: bool = False) -> None:
    """Set the SDK's environment knobs (telemetry opt-out, role validation, region) before importing it."""
    if not os.environ.get(USER_CONFIG_ENV):
        # A fixed path, not a fresh temp file per call: the SDK caches the config it loaded. Written atomically
        # because two processes may prepare at once. A user's own config file is left alone.
        path = Path(tempfile.gettempdir()) / f"mlops-sagemaker-config-{os.getuid()}.yaml"
        if not path.exists() or path.read_text() != TELEMETRY_OPT_OUT_YAML:
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(TELEMETRY_OPT_OUT_YAML)
            partial.replace(path)
        os.environ[USER_CONFIG_ENV] = str(path)
    if validate_role:
        os.environ[VALIDATE_ROLE_ENV] = "true"
    else:
        # Off unless asked for: it needs iam:SimulatePrincipalPolicy, which moto and many callers lack, and our
        # roles are explicit ARNs checked for shape. An explicit SAGEMAKER_VALIDATE_ROLE=true still wins.
        os.environ.setdefault(VALIDATE_ROLE_ENV, "false")
    # boto3 needs a region for the client that `sagemaker.mlops.workflow` creates at import time.
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))


def _sdk_call(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run `func` inside `_sdk_calls()`."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            with _sdk_calls():
                return func(*args, **kwargs)
        except ClientError as exc:
            # A service refusal is something the user can act on: say it without a traceback.
            raise MlopsError(f"AWS refused {func.__name__.replace('_', ' ')}: {exc}", hint=_hint(exc)) from exc
        except BotoCoreError as exc:  # no credentials, no region, endpoint unreachable, ...
            raise MlopsError(
                f"cannot reach AWS for {func.__name__.replace('_', ' ')}: {exc}",
                hint="check AWS_PROFILE / AWS credentials, AWS_DEFAULT_REGION and AWS_ENDPOINT_URL",
            ) from exc

    return wrapper


def _hint(exc: Any) -> str | None:
    """What to do about a service error, when we know."""
    message = str(exc)
    if "Could not find pipeline" in message or ("does not exist" in message and "ipeline" in message):
        return "create it first with `mlops pipeline upsert --role <arn>`"
    if "AccessDenied" in message or "not authorized" in message:
        return "the caller's AWS identity lacks a permission; see the message for which"
    return None


@contextlib.contextmanager
def _sdk_calls() -> Iterator[None]:
    """SDK calls made while building: quiet and with the SDK config validated once, not on every lookup.

    Silences "Running within a PipelineSession, there will be No Wait...", expected for every step. And the
    SDK re-validates its whole config file against its JSON schema on *every* config lookup (about 70 per
    build, 0.1 s each); the same config always gives the same verdict, so validate each distinct one once.
    """
    import warnings

    import sagemaker.core.config.config as config_module
    from sagemaker.core.config.config_manager import SageMakerConfig

    # The SDK has two copies of the validator (loading a file, looking up a value); both only run
    # jsonschema.validate(config, SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA).
    original_method = SageMakerConfig.__dict__["validate_sagemaker_config"]
    original_function = config_module.validate_sagemaker_config

    def validate_once(sagemaker_config: dict | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in _VALIDATED_CONFIGS:
            original_function(sagemaker_config)
            _VALIDATED_CONFIGS.add(key)

    SageMakerConfig.validate_sagemaker_config = staticmethod(validate_once)
    config_module.validate_sagemaker_config = validate_once
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Running within a PipelineSession")
            yield
    finally:
        SageMakerConfig.validate_sagemaker_config = original_method
        config_module.validate_sagemaker_config = original_function


@contextlib.contextmanager
def offline_aws() -> Iterator[None]:
    """Run the block against moto's in-process AWS mock (no network, no credentials needed)."""
    try:
        import moto
    except ImportError as exc:  # moto is an optional dependency of the product
        raise MlopsError(
            "building the SageMaker definition offline needs moto, which is not installed",
            hint="pip install 'moto>=5.1,<6' (or install the project with its [test] extra), "
            "or build against AWS with --online",
        ) from exc
    # Fake credentials only inside the mock, so a real profile can never be used by accident; restored after.
    fake = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    saved = {name: os.environ.get(name) for name in (*fake, "AWS_ENDPOINT_URL", "AWS_PROFILE")}
    os.environ.update(fake)
    # An endpoint URL would send requests past the mock to a server; the offline build must not.
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        with moto.mock_aws():
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def aws_training_image(region: str, *, gpu: bool = False) -> str:
    """Return AWS's PyTorch training image (CPU or GPU) for `region`; resolved from the SDK's tables, offline."""
    from sagemaker.core import image_uris

    return str(
        image_uris.retrieve(
            DEFAULT_FRAMEWORK,
            region,
            version=DEFAULT_FRAMEWORK_VERSION,
            py_version=DEFAULT_PY_VERSION,
            instance_type=DEFAULT_GPU_INSTANCE if gpu else DEFAULT_CPU_INSTANCE,
            image_scope="training",
        )
    )


def sdk_version() -> str:
    """Return the installed SageMaker SDK version (part of the upload tag: the SDK uploads its own drivers)."""
    from importlib.metadata import version

    return version("sagemaker")


@_sdk_call
def pipeline_session(*, region: str, default_bucket: str, default_bucket_prefix: str | None) -> Any:
    """Create a PipelineSession: job requests are captured as step arguments instead of being submitted."""
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    boto_session = boto3.Session(region_name=region)
    return PipelineSession(
        boto_session=boto_session,
        default_bucket=default_bucket,
        default_bucket_prefix=default_bucket_prefix or None,
    )


@_sdk_call
def ensure_bucket(session: Any) -> str:
    """Create the session's default bucket if it does not exist and return its name."""
    from botocore.exceptions import ClientError

    # Done here, not by `session.default_bucket()`: with a key prefix set, the SDK probes the bucket with
    # ListObjectsV2, gets `NoSuchBucket` (not the 404 it expects) for a new bucket and raises.
    bucket = session._default_bucket_name_override  # the name we passed to PipelineSession
    region = session.boto_session.region_name
    s3 = session.boto_session.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        logger.info("creating bucket s3://%s in %s", bucket, region)
        if region == "us-east-1":  # the one region that refuses a LocationConstraint
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    return str(session.default_bucket())


@_sdk_call
def upload_bytes(session: Any, body: bytes, s3_uri: str) -> str:
    """Upload `body` to `s3_uri` (skipped when an object of the same size is already there)."""
    from botocore.exceptions import ClientError

    bucket, _, key = s3_uri.removeprefix("s3://").partition("/")
    s3 = session.boto_session.client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head.get("ContentLength") == len(body):
            # The key holds the content hash, so an object of the same size is this content.
            return s3_uri
    except ClientError:  # not there (or not readable): upload it, and let put_object say what is wrong
        pass
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_uri


# ---------------------------------------------------------------------------------------------- expressions


def parameter(name: str, type_: str, default: str | int | float) -> Any:
    """Return a typed pipeline parameter (String, Integer or Float)."""
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString

    classes = {"String": ParameterString, "Integer": ParameterInteger, "Float": ParameterFloat}
    if type_ == "Integer":
        return classes[type_](name=name, default_value=int(default))
    if type_ == "Float":
        return classes[type_](name=name, default_value=float(default))
    return classes[type_](name=name, default_value=str(default))


def as_string(value: Any) -> Any:
    """Return a pipeline variable rendered as a string (`Std:Join`) unless it already is one."""
    from sagemaker.core.workflow.parameters import ParameterString

    if isinstance(value, (str, ParameterString)):
        return value
    return value.to_string()


def join(values: Sequence[Any], on: str = "") -> Any:
    """Return `Std:Join` of `values`."""
    from sagemaker.core.workflow.functions import Join

    return Join(on=on, values=list(values))


def property_file(name: str, output_name: str, path: str) -> Any:
    """Return a PropertyFile: a JSON file in a processing output that conditions can read."""
    from sagemaker.core.workflow.properties import PropertyFile

    return PropertyFile(name=name, output_name=output_name, path=path)


def json_get(step: Any, prop_file: Any, json_path: str) -> Any:
    """Return `Std:JsonGet` of `json_path` in a step's property file."""
    from sagemaker.core.workflow.functions import JsonGet

    return JsonGet(step_name=step.name, property_file=prop_file, json_path=json_path)


def processing_output_uri(step: Any, output_name: str) -> Any:
    """Reference to the S3 URI of a processing step's named output."""
    return step.properties.ProcessingOutputConfig.Outputs[output_name].S3Output.S3Uri


def model_artifacts_uri(step: Any) -> Any:
    """Reference to a training step's `model.tar.gz` (what the container wrote to /opt/ml/model)."""
    return step.properties.ModelArtifacts.S3ModelArtifacts


def training_output_data_uri(step: Any) -> Any:
    """Reference to a training step's `output.tar.gz` (what the container wrote to /opt/ml/output/data)."""
    # DescribeTrainingJob has no field for it: SageMaker writes it to <S3OutputPath>/<job>/output/.
    return join(
        [step.properties.OutputDataConfig.S3OutputPath, step.properties.TrainingJobName, "output", "output.tar.gz"],
        on="/",
    )


def cache_config(enabled: bool, expire_after: str) -> Any:
    """Return a step CacheConfig, or None when caching is off."""
    from sagemaker.mlops.workflow.steps import CacheConfig

    return CacheConfig(enable_caching=True, expire_after=expire_after) if enabled else None


# ---------------------------------------------------------------------------------------------- steps


@_sdk_call
def processing_step(
    *,
    session: Any,
    name: str,
    description: str,
    image_uri: str,
    role: str,
    instance_type: Any,
    source_uri: str,
    code_location: str,
    entry_script: str,
    requirements: str | None,
    inputs: Sequence[tuple[str, Any, str]],
    outputs: Sequence[tuple[str, str]],
    arguments: Sequence[Any],
    environment: Mapping[str, str],
    cache: Any,
    property_files: Sequence[Any] = (),
    depends_on: Sequence[str] = (),
    max_runtime_s: int = 3600,
) -> Any:
    """Return a ProcessingStep running `entry_script` from the code bundle at `source_uri` (an S3 tar.gz).

    `inputs` are (input name, S3 URI or reference, container path); `outputs` are (output name, container
    path) and land under s3://<bucket>/<prefix>/<pipeline>/<execution id>/<step>/output/<name>.
    """
    from sagemaker.core.processing import FrameworkProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.mlops.workflow.steps import ProcessingStep

    processor = FrameworkProcessor(
        image_uri=image_uri,
        role=role,
        instance_count=1,
        instance_type=instance_type,
        command=["python3"],
        code_location=code_location,
        max_runtime_in_seconds=max_runtime_s,
        base_job_name=name,
        sagemaker_session=session,
        env=dict(environment),
    )
    processing_inputs = [
        ProcessingInput(
            input_name=input_name,
            s3_input=ProcessingS3Input(
                s3_uri=uri,
                local_path=path,
                s3_data_type="S3Prefix",
                s3_input_mode="File",
                s3_data_distribution_type="FullyReplicated",
            ),
        )
        for input_name, uri, path in inputs
    ]
    processing_outputs = [
        # A non-S3 URI makes the SDK generate the per-execution output location.
        ProcessingOutput(
            output_name=output_name,
            s3_output=ProcessingS3Output(s3_uri=path, local_path=path, s3_upload_mode="EndOfJob"),
        )
        for output_name, path in outputs
    ]
    step_args = processor.run(
        code=entry_script,
        # An S3 source_dir is used as is: the SDK neither re-packs nor re-uploads it.
        source_dir=source_uri,
        requirements=requirements,
        inputs=processing_inputs,
        outputs=processing_outputs,
        # CreateProcessingJob rejects an empty ContainerArguments list: omit it instead.
        arguments=list(arguments) or None,
        # A fixed job name keeps the helper-script S3 keys free of timestamps (the service names the job).
        job_name=name,
    )
    return ProcessingStep(
        name=name,
        step_args=step_args,
        description=description,
        property_files=list(property_files) or None,
        cache_config=cache,
        depends_on=list(depends_on) or None,
    )


@_sdk_call
def training_step(
    *,
    session: Any,
    name: str,
    description: str,
    image_uri: str,
    role: str,
    instance_type: Any,
    source_uri: str,
    entry_script: str,
    requirements: str | None,
    channels: Sequence[tuple[str, Any]],
    hyperparameters: Mapping[str, Any],
    environment: Mapping[str, str],
    output_path: str,
    cache: Any,
    name_tag: str,
    upload_key_prefix: str,
    depends_on: Sequence[str] = (),
    max_runtime_s: int = 4 * 3600,
) -> Any:
    """Return a TrainingStep from `ModelTrainer(...).train()`: `entry_script` gets hyperparameters as --key value.

    SageMaker's Torchrun launcher starts one training process per GPU of the instance (one on a CPU instance).
    ModelTrainer uploads its drivers to s3://<bucket>/<bucket prefix>/`upload_key_prefix`/<name>-`name_tag`/;
    `name_tag` stands in for the timestamp it would put there (see the module doc).
    """
    from sagemaker.core import shapes
    from sagemaker.core.training.configs import Compute, InputData, SourceCode, StoppingCondition
    from sagemaker.mlops.workflow.steps import TrainingStep
    from sagemaker.train.distributed import Torchrun
    from sagemaker.train.model_trainer import ModelTrainer

    trainer = ModelTrainer(
        sagemaker_session=session,
        role=role,
        base_job_name=name,
        input_s3_key_prefix=upload_key_prefix,
        training_image=image_uri,
        source_code=SourceCode(source_dir=source_uri, entry_script=entry_script, requirements=requirements),
        compute=Compute(instance_type=instance_type, instance_count=1, volume_size_in_gb=30),
        distributed=Torchrun(),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=max_runtime_s),
        output_data_config=shapes.OutputDataConfig(s3_output_path=output_path),
        hyperparameters=dict(hyperparameters),
        environment=dict(environment),
    )
    step_args = trainer.train(input_data_config=[InputData(channel_name=c, data_source=uri) for c, uri in channels])
    # The SDK runs the captured train() again each time the definition is compiled; pin the names every time.
    captured = step_args.func

    def train_with_fixed_names(*args: Any, **kwargs: Any) -> Any:
        with _deterministic_names(name_tag):
            return captured(*args, **kwargs)

    step_args.func = train_with_fixed_names
    return TrainingStep(
        name=name,
        step_args=step_args,
        description=description,
        cache_config=cache,
        depends_on=list(depends_on) or None,
    )


def fail_step(name: str, description: str, error_message: Any) -> Any:
    """Return a FailStep that stops the execution with `error_message`."""
    from sagemaker.mlops.workflow.fail_step import FailStep

    return FailStep(name=name, description=description, error_message=error_message)


def condition_gte_step(
    *,
    name: str,
    description: str,
    left: Any,
    right: Any,
    if_steps: Sequence[Any],
    else_steps: Sequence[Any],
    depends_on: Sequence[str] = (),
) -> Any:
    """Return a ConditionStep: `if_steps` run when left >= right, else `else_steps`."""
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.mlops.workflow.condition_step import ConditionStep

    return ConditionStep(
        name=name,
        description=description,
        conditions=[ConditionGreaterThanOrEqualTo(left=left, right=right)],
        if_steps=list(if_steps),
        else_steps=list(else_steps),
        depends_on=list(depends_on) or None,
    )


@_sdk_call
def pipeline(*, name: str, parameters: Sequence[Any], steps: Sequence[Any], session: Any) -> Any:
    """Return the SDK Pipeline (no experiment config: runs are tracked in MLflow, and it is region-dependent)."""
    from sagemaker.mlops.workflow.pipeline import Pipeline

    return Pipeline(
        name=name,
        parameters=list(parameters),
        steps=list(steps),
        sagemaker_session=session,
        pipeline_experiment_config=None,
    )


@contextlib.contextmanager
def _deterministic_names(tag: str) -> Iterator[None]:
    """While building, make ModelTrainer's upload prefix `<base>-<tag>` instead of `<base>-<timestamp>`."""
    import sagemaker.train.model_trainer as model_trainer

    def fixed_name(base: str, max_length: int = 63) -> str:
        return f"{base.replace('_', '-')}-{tag}"[:max_length]

    original = model_trainer._get_unique_name
    model_trainer._get_unique_name = fixed_name
    try:
        yield
    finally:
        model_trainer._get_unique_name = original


@_sdk_call
def definition(pipeline_obj: Any) -> dict[str, Any]:
    """Compile the pipeline (uploads generated helper scripts) and return its definition as a dict."""
    return json.loads(pipeline_obj.definition())


@_sdk_call
def upsert(pipeline_obj: Any, role_arn: str, description: str | None = None) -> dict[str, Any]:
    """Create or update the pipeline in SageMaker; return the service response."""
    return dict(pipeline_obj.upsert(role_arn=role_arn, description=description))


@_sdk_call
def parameter_defaults(*, region: str, pipeline_name: str) -> dict[str, str]:
    """The default value of each parameter of the upserted pipeline (DescribePipeline's definition)."""
    import boto3

    described = boto3.client("sagemaker", region_name=region).describe_pipeline(PipelineName=pipeline_name)
    definition = json.loads(described["PipelineDefinition"])
    return {p["Name"]: str(p.get("DefaultValue", "")) for p in definition.get("Parameters", [])}


@_sdk_call
def start(
    *, region: str, pipeline_name: str, parameters: Mapping[str, str | int | float], display_name: str | None = None
) -> str:
    """Start an execution of an existing pipeline and return its ARN (needs no definition build)."""
    import boto3
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.mlops.workflow.pipeline import Pipeline

    session = Session(boto_session=boto3.Session(region_name=region))
    execution = Pipeline(name=pipeline_name, sagemaker_session=session, pipeline_experiment_config=None).start(
        parameters=dict(parameters) or None,
        execution_display_name=display_name,
    )
    return str(execution.arn)
