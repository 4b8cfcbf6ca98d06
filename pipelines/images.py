"""Which image each SageMaker job runs in, and the one policy that decides it for CPU and GPU instances.

Two policies:

- `project` (the default): the project's own training image, built from `Dockerfile.train` with the project's pins
  (Python 3.11, torch 2.13, and every package of `pipelines/training_image*.lock`), pushed to ECR as
  `<account>.dkr.ecr.<region>.amazonaws.com/intent-mlops-train:<digest>-cpu|gpu`. The digest is a content hash of the
  Dockerfile and the lock, so a definition names exactly the image its pins describe. Jobs install nothing at
  start-up (no egress needed), and train with the versions the local runner and the tests use.
- `aws`: AWS's PyTorch training image (`pytorch-training:2.8-{cpu,gpu}-py312`), with
  `pipelines/container_requirements.txt` installed at every job's start-up: torch 2.8 on Python 3.12, which the
  project's tests never run (the registry records it on every version trained there).

Either way a GPU instance type gets the GPU image, and the image a version was trained in is recorded on it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ml.errors import MlopsError

POLICIES = ("project", "aws")
TRAINING_REPOSITORY = "intent-mlops-train"
DOCKERFILE = Path(__file__).resolve().parent.parent / "Dockerfile.train"
LOCKS = {
    "cpu": Path(__file__).with_name("training_image.lock"),
    "gpu": Path(__file__).with_name("training_image.gpu.lock"),
}
# GPUs per instance for the GPU families SageMaker trains on; sizes not listed have one.
# Source: https://aws.amazon.com/sagemaker/pricing/ (instance details) and the EC2 accelerated-computing table.
_GPU_FAMILIES = ("g4dn", "g5", "g6", "g6e", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en")
_MULTI_GPU = {
    "g4dn.12xlarge": 4, "g5.12xlarge": 4, "g5.24xlarge": 4, "g5.48xlarge": 8, "g6.12xlarge": 4, "g6.24xlarge": 4,
    "g6.48xlarge": 8, "g6e.12xlarge": 4, "g6e.24xlarge": 4, "g6e.48xlarge": 8, "p3.8xlarge": 4, "p3.16xlarge": 8,
    "p3dn.24xlarge": 8, "p4d.24xlarge": 8, "p4de.24xlarge": 8, "p5.48xlarge": 8, "p5e.48xlarge": 8,
    "p5en.48xlarge": 8,
}  # fmt: skip
_INSTANCE_RE = re.compile(r"^ml\.([a-z0-9]+)\.([a-z0-9]+)$")


def gpu_count(instance_type: str) -> int:
    """GPUs of a SageMaker instance type (0 for a CPU type); MlopsError for a name that is not one."""
    match = _INSTANCE_RE.match(instance_type)
    if not match:
        raise MlopsError(f"not a SageMaker instance type: {instance_type!r}", hint="e.g. ml.m5.2xlarge or ml.g5.xlarge")
    family, size = match.groups()
    if family not in _GPU_FAMILIES:
        return 0
    return _MULTI_GPU.get(f"{family}.{size}", 1)


def project_image_tag(kind: str) -> str:
    """`<digest>-cpu|gpu`: the digest hashes Dockerfile.train and both locks, so the two tags differ only in kind."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in (DOCKERFILE, *LOCKS.values()))).hexdigest()[:12]
    return f"{digest}-{kind}"


@dataclass(frozen=True)
class TrainingImages:
    """The CPU and the GPU image of a policy, and whether jobs must install the container requirements."""

    policy: str
    cpu: str
    gpu: str

    @property
    def installs_requirements(self) -> bool:
        """Whether a job pip-installs the container requirements at start-up (AWS's image lacks them)."""
        return self.policy == "aws"

    def for_instance(self, instance_type: str) -> str:
        """The image for an instance type: the GPU one on a GPU instance."""
        return self.gpu if gpu_count(instance_type) else self.cpu


def training_images(policy: str, *, account: str, region: str) -> TrainingImages:
    """The images of a policy in an account and region (offline: ECR and the SDK's image tables are not called)."""
    if policy == "project":
        registry = f"{account}.dkr.ecr.{region}.amazonaws.com/{TRAINING_REPOSITORY}"
        return TrainingImages(
            policy, f"{registry}:{project_image_tag('cpu')}", f"{registry}:{project_image_tag('gpu')}"
        )
    if policy == "aws":
        from pipelines import sagemaker_sdk as sdk

        return TrainingImages(
            policy, sdk.aws_training_image(region, gpu=False), sdk.aws_training_image(region, gpu=True)
        )
    raise MlopsError(f"unknown image policy {policy!r}", hint=f"use one of {', '.join(POLICIES)}")


def image_kind(image_uri: str) -> str | None:
    """`cpu` or `gpu` for an image of either policy (by its tag), None for another image."""
    tag = image_uri.rsplit(":", 1)[-1]
    for kind in ("cpu", "gpu"):
        if tag.endswith(f"-{kind}") or f"-{kind}-" in tag:
            return kind
    return None


def image_for_start(default_image: str, instance_type: str, given: str | None = None) -> str:
    """The training image an execution should use: the given one (checked), else the default's variant for the
    instance type (the GPU image of the same policy on a GPU instance)."""
    gpus = gpu_count(instance_type)
    if given:
        if gpus and image_kind(given) == "cpu":
            raise MlopsError(
                f"TrainingImage {given} is a CPU image, but {instance_type} has {gpus} GPU(s): they would be paid for "
                "and never used",
                hint="leave TrainingImage out (the pipeline's image policy gives the GPU image), or give a GPU one",
            )
        return given
    kind = image_kind(default_image)
    if not gpus or kind is None:
        return default_image
    return re.sub(r"(-|:)(cpu)(-|$)", lambda m: f"{m.group(1)}gpu{m.group(3)}", default_image, count=1)
