"""Build the SageMaker Pipeline from the one spec (`pipelines.spec.SPEC`), with the SageMaker SDK v3.

What gets built: a pipeline parameter per spec parameter (typed), a ProcessingStep per processing step, a
TrainingStep (`ModelTrainer(...).train()`) for the training step, and a ConditionStep per gate whose `if`
branch holds the steps after the gate and whose `else` branch is a FailStep. Each step input is wired to the
property of the step that produces it (the spec's `source`): processing outputs by name, the training
step's `model.tar.gz` (/opt/ml/model) and `output.tar.gz` (/opt/ml/output/data). On SageMaker those two
arrive in the consuming step's input directory as tarballs.

Code: the project packages (`ml`, `pipelines`, ...) plus the container requirements file and one tiny
launcher per step (`python -m pipelines.steps.<name>`) are packed into one reproducible `sourcedir.tar.gz`
(sorted entries, zeroed times and owners) and uploaded once, under its content hash:
`s3://<bucket>/<prefix>/<pipeline>/code/<sha256[:16]>/sourcedir.tar.gz`. So the definition is
byte-identical for the same code and settings, and changes (missing the step cache) exactly when code does.

Offline definitions (a decision): building a definition calls AWS (STS, S3 uploads of code). What a user
expects from `mlops pipeline definition` is to *see* the definition, without credentials or side effects,
so offline is the default there: the build runs inside moto's in-process AWS mock (`moto.mock_aws()`),
nothing leaves the process, and the JSON is exactly what an online build with the same settings would
produce (S3 keys are content hashes, not account-dependent lookups). moto stays an optional dependency
(it ships with the `[test]` extra): without it, offline mode fails with an install hint, and `--online`
builds against whatever AWS endpoint boto3 is configured for (real AWS, or a moto server through
`AWS_ENDPOINT_URL`). `upsert` always builds online, since the uploaded code must really exist.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import logging
import re
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ml.aws import DEFAULT_REGION, DEFAULT_S3_PREFIX, ROLE_ARN_RE
from ml.errors import MlopsError
from ml.settings import IMAGE_ENV, git_commit
from pipelines import sagemaker_sdk as sdk
from pipelines.images import POLICIES, TrainingImages, image_for_start, training_images
from pipelines.spec import EXTERNAL_INPUTS, SPEC, Artifact, Gate, PipelineSpec, Step, cli_flag
from pipelines.steps.contract import HF_TOKEN_SECRET_ENV, REMOTE_REGISTRY_ENV

logger = logging.getLogger(__name__)

REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
S3_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
PIPELINE_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ISO_DURATION_RE = re.compile(r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$")
# Offline definitions without --role use this; `upsert` refuses it. Account 123456789012 is moto's default.
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerExecutionRole"
CODE_PACKAGES = ("ml", "pipelines", "inference", "model_registry", "benchmarks")
CODE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".txt", ".lock")
# What a job installs at start-up when its image lacks the project's packages (image policy "aws"), relative to the
# root of the code bundle. Not named requirements.txt: SageMaker's processing driver installs a file of that name
# whenever the bundle has one, and the project's own image needs nothing installed.
CONTAINER_REQUIREMENTS = "pipelines/container_requirements.txt"
DATA_PATH = "data/prompts.jsonl"
# Environment of every step container: unbuffered logs, no telemetry from the libraries we run, and a registry that
# must outlive the job (the register step refuses a local store there).
STEP_ENVIRONMENT = {
    "PYTHONUNBUFFERED": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "TOKENIZERS_PARALLELISM": "false",
    REMOTE_REGISTRY_ENV: "1",
}


@dataclass(frozen=True)
class SageMakerSettings:
    """Where and how the pipeline runs on SageMaker; instance types are pipeline parameters, not settings."""

    role_arn: str = PLACEHOLDER_ROLE_ARN  # execution role of the jobs (and the pipeline)
    region: str = DEFAULT_REGION
    default_bucket: str | None = None  # S3 bucket for code and outputs (default: sagemaker-<region>-<account>)
    s3_prefix: str = DEFAULT_S3_PREFIX
    image_policy: str = "project"  # project: Dockerfile.train's image; aws: AWS's PyTorch image (pipelines.images)
    processing_image_uri: str | None = None  # default: the policy's CPU image
    training_image_uri: str | None = None  # default of the TrainingImage parameter: the policy's CPU image
    enable_caching: bool = True
    cache_expire_after: str = "P30D"  # ISO 8601 duration, e.g. P30D or PT12H
    pipeline_name: str = SPEC.name
    input_data_uri: str | None = None  # default of InputDataUri (default: s3://<bucket>/<prefix>/data/prompts.jsonl)
    validate_role: bool = False  # let the SDK check the role's permissions with IAM

    def __post_init__(self) -> None:
        problems = [f"{name}: {message}" for name, message in self._problems()]
        if problems:
            raise MlopsError(f"invalid SageMaker settings: {'; '.join(problems)}")

    def _problems(self) -> Iterator[tuple[str, str]]:
        if not ROLE_ARN_RE.match(self.role_arn):
            yield (
                "role_arn",
                f"not an IAM role ARN: {self.role_arn!r} (expected arn:aws:iam::<12-digit account>:role/<name>)",
            )
        if not REGION_RE.match(self.region):
            yield "region", f"not an AWS region: {self.region!r}"
        if self.default_bucket is not None and not BUCKET_RE.match(self.default_bucket):
            yield (
                "default_bucket",
                (
                    f"not a valid S3 bucket name: {self.default_bucket!r} "
                    "(3-63 lowercase letters, digits, dots, hyphens)"
                ),
            )
        if not S3_PREFIX_RE.match(self.s3_prefix):
            yield "s3_prefix", f"not a valid S3 key prefix: {self.s3_prefix!r}"
        duration = self.cache_expire_after
        if not ISO_DURATION_RE.match(duration) or duration in ("P", "PT") or duration.endswith("T"):
            yield "cache_expire_after", f"not an ISO 8601 duration: {duration!r} (e.g. P30D, PT12H)"
        if self.image_policy not in POLICIES:
            yield "image_policy", f"not an image policy: {self.image_policy!r} (one of {', '.join(POLICIES)})"
        if not PIPELINE_NAME_RE.match(self.pipeline_name):
            yield "pipeline_name", f"not a valid pipeline name: {self.pipeline_name!r}"
        if self.input_data_uri is not None and not self.input_data_uri.startswith("s3://"):
            yield "input_data_uri", f"InputDataUri must be an s3:// URI on SageMaker, got {self.input_data_uri!r}"

    @classmethod
    def create(cls, **values: Any) -> SageMakerSettings:
        """Build settings from keyword values (None means default); raise MlopsError on invalid ones."""
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise MlopsError(f"invalid SageMaker settings: unknown setting(s) {', '.join(sorted(unknown))}")
        return cls(**{k: v for k, v in values.items() if v is not None})

    @property
    def account_id(self) -> str:
        """The AWS account of the execution role."""
        return self.role_arn.split(":")[4]

    def images(self) -> TrainingImages:
        """The CPU and GPU images of the policy, with the explicit image URIs in their place."""
        images = training_images(self.image_policy, account=self.account_id, region=self.region)
        return dataclasses.replace(images, cpu=self.training_image_uri or images.cpu)

    @property
    def bucket(self) -> str:
        """The S3 bucket: explicit, or the SDK's convention for the role's account."""
        return self.default_bucket or f"sagemaker-{self.region}-{self.account_id}"

    @property
    def is_placeholder_role(self) -> bool:
        """True when no real role was given."""
        return self.role_arn == PLACEHOLDER_ROLE_ARN

    def s3_uri(self, *parts: str) -> str:
        """s3://<bucket>/<prefix>/<parts...>."""
        return "s3://" + "/".join(p.strip("/") for p in (self.bucket, self.s3_prefix, *parts) if p.strip("/"))


# ---------------------------------------------------------------------------------------------- code bundle


def code_root() -> Path:
    """The directory holding the project packages (found from this module, not from the cwd)."""
    return Path(__file__).resolve().parent.parent


def launcher_name(step: Step) -> str:
    """File name of the generated launcher of a step, at the root of the code bundle."""
    return f"_sm_entry_{step.name}.py"


def _launcher_source(step: Step) -> str:
    # SageMaker runs a script file; our entry points are modules run with -m. The launcher bridges that.
    return (
        f'"""Generated by pipelines.sagemaker_pipeline: `python -m {step.entry_point}` in a SageMaker job."""\n'
        "import os\nimport runpy\nimport sys\n\n"
        "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
        f'runpy.run_module("{step.entry_point}", run_name="__main__", alter_sys=True)\n'
    )


def _bundle_files(root: Path, spec: PipelineSpec) -> Iterator[tuple[str, bytes]]:
    for package in CODE_PACKAGES:
        package_dir = root / package
        if not package_dir.is_dir():
            continue
        for path in sorted(package_dir.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and path.suffix in CODE_SUFFIXES and "__pycache__" not in rel.parts:
                yield rel.as_posix(), path.read_bytes()
    for step in spec.steps:
        if step.entry_point:
            yield launcher_name(step), _launcher_source(step).encode()


def build_code_bundle(root: Path | None = None, spec: PipelineSpec = SPEC) -> tuple[bytes, str]:
    """Return (sourcedir.tar.gz bytes, sha256 hex) of the project code; the same code gives the same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in sorted(_bundle_files(root or code_root(), spec)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    # mtime=0 and no file name in the gzip header: otherwise every build differs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(raw.getvalue())
    body = packed.getvalue()
    return body, hashlib.sha256(body).hexdigest()


# ---------------------------------------------------------------------------------------------- data


def resolve_data_uri(repo_root: Path | str, remote_name: str | None = None) -> str:
    """Return the S3 URI of the DVC remote's copy of `data/prompts.jsonl` at the workspace's version."""
    import dvc.api

    try:
        url = dvc.api.get_url(DATA_PATH, repo=str(repo_root), remote=remote_name)
    except Exception as exc:  # DVC raises many types: no repo, not tracked, unknown remote, no remote
        raise MlopsError(
            f"cannot resolve the DVC remote URL of {DATA_PATH} in {repo_root}: {exc}",
            hint="track the dataset with DVC and configure an S3 remote: dvc remote add -d storage s3://bucket/path",
        ) from exc
    if not url.startswith("s3://"):
        raise MlopsError(
            f"the DVC remote{f' {remote_name!r}' if remote_name else ''} is not on S3 ({url}); "
            "SageMaker jobs read their input from S3",
            hint="add an S3 remote (dvc remote add storage s3://bucket/path), dvc push, and pass its name",
        )
    return url


def resolve_data(repo_root: Path | str, remote_name: str | None = None) -> dict[str, str]:
    """Return the InputDataUri and DataMd5 parameter values for the dataset version the repo pins."""
    from ml.dvc_data import pinned_md5

    uri = resolve_data_uri(repo_root, remote_name)
    return {"InputDataUri": uri, "DataMd5": pinned_md5(Path(repo_root)) or ""}


# ---------------------------------------------------------------------------------------------- pipeline


def _producers(spec: PipelineSpec) -> dict[str, Step]:
    return {step.name: step for step in spec.steps}


def _gate_branch(spec: PipelineSpec, gate_step: Step) -> list[Step]:
    """Steps that run only when the gate passes: those depending on it, directly or through each other."""
    branch: list[Step] = []
    names = {gate_step.name}
    for step in spec.steps:
        upstream = set(step.depends_on) | {a.source.split(".")[0] for a in step.inputs if a.source}
        if step.name not in names and upstream & names:
            branch.append(step)
            names.add(step.name)
    return branch


def upload_natural_set(session: Any, settings: SageMakerSettings) -> str:
    """Upload the hand-written held-out set under its content hash; return its S3 URI (NaturalDataUri's default).

    It lives in git, not in the DVC remote: it is written by hand and cannot be regenerated (docs/architecture.md).
    """
    from ml.data import file_md5
    from ml.settings import natural_set_path

    path = natural_set_path()
    if not path.is_file():
        raise MlopsError(
            f"the hand-written held-out set is missing: {path}",
            hint="run from the project's checkout: data/natural_prompts.jsonl is in git",
        )
    uri = settings.s3_uri(settings.pipeline_name, "natural", file_md5(path)[:16], path.name)
    return sdk.upload_bytes(session, path.read_bytes(), uri)


def build_pipeline(settings: SageMakerSettings, spec: PipelineSpec = SPEC) -> Any:
    """Build the SDK Pipeline from the spec; uploads the code bundle to the settings' bucket (needs AWS/moto)."""
    sdk.prepare_environment(validate_role=settings.validate_role)
    session = sdk.pipeline_session(
        region=settings.region, default_bucket=settings.bucket, default_bucket_prefix=settings.s3_prefix
    )
    sdk.ensure_bucket(session)

    bundle, digest = build_code_bundle(spec=spec)
    code_prefix = settings.s3_uri(settings.pipeline_name, "code", digest[:16])
    source_uri = sdk.upload_bytes(session, bundle, f"{code_prefix}/sourcedir.tar.gz")
    # Names the SDK would otherwise timestamp: a function of the code and of the SDK that packs its drivers.
    name_tag = hashlib.sha256(f"{digest}:{sdk.sdk_version()}".encode()).hexdigest()[:12]
    logger.info("code bundle %s (%d bytes) at %s", digest[:16], len(bundle), source_uri)

    images = settings.images()
    # On SageMaker the inputs are S3 URIs (the spec's defaults are local paths), and the training image is the
    # policy's CPU image unless `pipeline start` picks its GPU image for a GPU instance type.
    defaults = {
        **spec.defaults(),
        "InputDataUri": settings.input_data_uri or settings.s3_uri(DATA_PATH),
        "NaturalDataUri": upload_natural_set(session, settings),
        "TrainingImage": images.cpu,
    }
    params = {p.name: sdk.parameter(p.name, p.type, defaults[p.name]) for p in spec.parameters}
    requirements = CONTAINER_REQUIREMENTS if images.installs_requirements else None
    # Every step reads the registry's URI; the training step also records its image and may read a hub token.
    environment = {**STEP_ENVIRONMENT, "MLFLOW_TRACKING_URI": params["MlflowTrackingUri"]}
    training_environment = {
        **environment,
        IMAGE_ENV: params["TrainingImage"],
        HF_TOKEN_SECRET_ENV: params["HfTokenSecret"],
    }
    cache = sdk.cache_config(settings.enable_caching, settings.cache_expire_after)
    producers = _producers(spec)
    built: dict[str, Any] = {}
    property_files: dict[str, Any] = {
        gate.after: sdk.property_file(f"{gate.report_output}-report", gate.report_output, gate.report_file)
        for gate in spec.gates
    }

    def source_of(step: Step, artifact: Artifact) -> Any:
        if artifact.source is None:
            if artifact.name not in EXTERNAL_INPUTS:
                raise MlopsError(f"step {step.name}: input {artifact.name!r} has no source and no parameter")
            return params[EXTERNAL_INPUTS[artifact.name]]
        producer_name, output_name = artifact.source.split(".", 1)
        producer, producer_step = producers[producer_name], built[producer_name]
        output = next(o for o in producer.outputs if o.name == output_name)
        if producer.kind == "processing":
            return sdk.processing_output_uri(producer_step, output_name)
        if output.container_path == "/opt/ml/model":
            return sdk.model_artifacts_uri(producer_step)
        if output.container_path == "/opt/ml/output/data":
            return sdk.training_output_data_uri(producer_step)
        raise MlopsError(f"training output {artifact.source} at {output.container_path} is not one SageMaker uploads")

    gate_by_step = {gate.name: gate for gate in spec.gates}
    branches = {name: _gate_branch(spec, spec.step(name)) for name in gate_by_step}
    in_branch = {s.name: gate for gate, steps in branches.items() for s in steps}

    for step in spec.steps:
        # A step inside a gate's branch already runs after the gate; DependsOn on its own ConditionStep is invalid.
        depends_on = [d for d in step.depends_on if d != in_branch.get(step.name)]
        if step.kind == "processing":
            built[step.name] = sdk.processing_step(
                session=session,
                name=step.name,
                description=step.description,
                image_uri=settings.processing_image_uri or images.cpu,
                role=settings.role_arn,
                instance_type=params[step.instance_type_parameter],
                source_uri=source_uri,
                code_location=code_prefix,
                entry_script=launcher_name(step),
                requirements=requirements,
                inputs=[(a.name, source_of(step, a), a.container_path) for a in step.inputs],
                outputs=[(a.name, a.container_path) for a in step.outputs],
                arguments=[x for name in step.arguments for x in (cli_flag(name), sdk.as_string(params[name]))],
                environment=environment,
                cache=cache,
                property_files=[property_files[step.name]] if step.name in property_files else (),
                depends_on=depends_on,
            )
        elif step.kind == "training":
            channels = []
            for a in step.inputs:
                channel = a.container_path.removeprefix("/opt/ml/input/data/")
                if channel == a.container_path or "/" in channel:
                    raise MlopsError(f"training input {a.name} must be at /opt/ml/input/data/<channel>")
                channels.append((channel, source_of(step, a)))
            built[step.name] = sdk.training_step(
                session=session,
                name=step.name,
                description=step.description,
                image_uri=params["TrainingImage"],
                role=settings.role_arn,
                instance_type=params[step.instance_type_parameter],
                source_uri=source_uri,
                entry_script=launcher_name(step),
                requirements=requirements,
                channels=channels,
                hyperparameters={
                    cli_flag(name).removeprefix("--"): sdk.as_string(params[name]) for name in step.arguments
                },
                environment=training_environment,
                output_path=settings.s3_uri(settings.pipeline_name, "training"),
                cache=cache,
                depends_on=depends_on,
                name_tag=name_tag,
                upload_key_prefix=f"{settings.pipeline_name}/drivers",
            )
        elif step.kind != "condition":  # pragma: no cover - StepKind is a Literal
            raise MlopsError(f"unknown step kind {step.kind!r}")

    # Condition steps last: their branches hold steps that come after them in the spec.
    for step in spec.steps:
        if step.kind == "condition":
            gate = gate_by_step.get(step.name)
            if gate is None:
                raise MlopsError(f"condition step {step.name!r} has no gate in the spec")
            depends_on = [d for d in step.depends_on if d != in_branch.get(step.name)]
            built[step.name] = _gate_step(gate, step, built, property_files, params, branches[step.name], depends_on)

    top_level = [built[s.name] for s in spec.steps if s.name not in in_branch]
    return sdk.pipeline(name=settings.pipeline_name, parameters=list(params.values()), steps=top_level, session=session)


def _gate_step(
    gate: Gate,
    step: Step,
    built: dict[str, Any],
    property_files: dict[str, Any],
    params: dict[str, Any],
    branch: list[Step],
    depends_on: list[str],
) -> Any:
    fail = sdk.fail_step(
        f"{gate.name}-failed",
        f"stop: {gate.fail_message}",
        sdk.join(
            [
                f"{gate.fail_message} ({gate.threshold_parameter} = ",
                sdk.as_string(params[gate.threshold_parameter]),
                ")",
            ]
        ),
    )
    return sdk.condition_gte_step(
        name=gate.name,
        description=step.description,
        left=sdk.json_get(built[gate.after], property_files[gate.after], gate.json_path),
        right=params[gate.threshold_parameter],
        if_steps=[built[s.name] for s in branch],
        else_steps=[fail],
        depends_on=depends_on,
    )


def definition_dict(settings: SageMakerSettings, spec: PipelineSpec = SPEC) -> dict[str, Any]:
    """Build the pipeline (against the configured AWS endpoint) and return its definition as a dict."""
    return sdk.definition(build_pipeline(settings, spec))


def definition_json(settings: SageMakerSettings, spec: PipelineSpec = SPEC, *, offline: bool = False) -> str:
    """Return the pipeline definition as deterministic JSON (sorted keys, indent 2, trailing newline)."""
    if offline:
        with sdk.offline_aws():
            data = definition_dict(settings, spec)
    else:
        data = definition_dict(settings, spec)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def upsert_pipeline(
    settings: SageMakerSettings, spec: PipelineSpec = SPEC, *, description: str | None = None, check: bool = True
) -> dict[str, Any]:
    """Build the pipeline against AWS (uploading its code), check it offline, create or update it on SageMaker."""
    from pipelines.definition_check import assert_valid

    if settings.is_placeholder_role:
        raise MlopsError("upsert needs the real execution role", hint="pass --role arn:aws:iam::<account>:role/<name>")
    pipeline_obj = build_pipeline(settings, spec)
    if check:
        assert_valid(sdk.definition(pipeline_obj))
    response = sdk.upsert(
        pipeline_obj, settings.role_arn, description or f"{spec.name} pipeline (spec v{spec.version})"
    )
    logger.info("upserted pipeline %s: %s", settings.pipeline_name, response.get("PipelineArn"))
    return response


def start_pipeline(
    settings: SageMakerSettings,
    parameters: Mapping[str, str | int | float],
    *,
    tracking_uri: str | None,
    repo: Path,
    data_remote: str | None = None,
    display_name: str | None = None,
) -> tuple[str, dict[str, str | int | float]]:
    """Start an execution of the upserted pipeline; return its ARN and the parameters it was given.

    The execution registers into `tracking_uri`, which must outlive the jobs; trains on the DVC remote's S3 copy of
    the data version `repo` pins (unless InputDataUri is given); records `repo`'s commit; and trains in the GPU image
    of the pipeline's image policy when the training instance type has GPUs.
    """
    from model_registry.tracking import require_remote

    chosen = dict(parameters)
    chosen["MlflowTrackingUri"] = require_remote(
        str(chosen.get("MlflowTrackingUri") or tracking_uri or ""), purpose="a SageMaker pipeline execution"
    )
    if "InputDataUri" not in chosen:
        chosen = {**resolve_data(repo, data_remote), **chosen}
    elif not str(chosen["InputDataUri"]).startswith("s3://"):
        raise MlopsError(f"InputDataUri must be an s3:// URI, got {chosen['InputDataUri']!r}")
    # The commit is recorded on the registered version; it must be the one whose code `upsert` uploaded.
    chosen.setdefault("GitCommit", git_commit(repo))
    sdk.prepare_environment(validate_role=settings.validate_role)
    defaults = sdk.parameter_defaults(region=settings.region, pipeline_name=settings.pipeline_name)
    instance_type = str(chosen.get("TrainingInstanceType") or defaults.get("TrainingInstanceType", ""))
    image = image_for_start(defaults.get("TrainingImage", ""), instance_type, str(chosen.get("TrainingImage") or ""))
    if image != defaults.get("TrainingImage"):
        chosen["TrainingImage"] = image
    arn = sdk.start(
        region=settings.region, pipeline_name=settings.pipeline_name, parameters=chosen, display_name=display_name
    )
    return arn, chosen
