"""Run a SageMaker pipeline definition the way SageMaker runs it, on this machine, below a temporary root.

What SageMaker does for each job, this does too, and nothing more:

- downloads each input's S3 prefix into its LocalPath (processing) or into /opt/ml/input/data/<channel> (training),
  and writes the training job's /opt/ml/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json;
- runs the job's own entry point with the image's interpreter: the driver scripts the SDK generated and uploaded
  (runproc.sh for a processing job; sm_train.sh, environment.py and torchrun_driver.py for a training job), with the
  definition's ContainerArguments and Environment, and the image's own environment (Dockerfile.train's ENV lines);
- uploads each processing output's LocalPath to its S3 URI, and a training job's /opt/ml/model and /opt/ml/output/data
  as model.tar.gz and output.tar.gz;
- resolves pipeline expressions (parameters, step properties, Std:Join, Std:JsonGet) and evaluates condition steps.

Two things differ, because nothing here runs as root in a container: every `/opt/ml` path is below `root` (the
driver scripts are rewritten to say so, and the step code is told by MLOPS_CONTAINER_ROOT), and S3 is a directory.
The image is a virtualenv holding exactly the image's lock, so a package the jobs need and the image lacks fails a
job here as it would on SageMaker.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXECUTION_ID = "emulated-execution"
_PROPERTY_TOKENS = re.compile(r"\.?([A-Za-z0-9_]+)|\['([^']*)'\]")


@dataclass
class JobResult:
    """How one job ended, and what it printed."""

    name: str
    returncode: int
    log: str
    seconds: float = 0.0


@dataclass
class SageMakerEmulator:
    """Runs a definition's jobs below `root` with the image's `python`, S3 being `root/s3`."""

    definition: dict[str, Any]
    python: Path
    root: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    image_env: Mapping[str, str] = field(default_factory=dict)
    instance_type: str = "ml.m5.2xlarge"
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[JobResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        defaults = {p["Name"]: p.get("DefaultValue") for p in self.definition["Parameters"]}
        self.parameters = {**defaults, **self.parameters}

    # ------------------------------------------------------------------------------------------------ S3

    def s3_path(self, uri: str) -> Path:
        """The local directory or file standing in for an S3 URI."""
        if not uri.startswith("s3://"):
            raise ValueError(f"not an S3 URI: {uri!r}")
        return self.root / "s3" / uri.removeprefix("s3://")

    def put(self, uri: str, data: bytes) -> None:
        """Write one object."""
        path = self.s3_path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def download(self, uri: str, dest: Path) -> None:
        """S3Prefix semantics: every object under the prefix, at its path relative to the prefix (a single object
        lands under its own name)."""
        source = self.s3_path(uri.rstrip("/"))
        dest.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copy2(source, dest / source.name)
        elif source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        else:
            raise FileNotFoundError(f"no S3 object under {uri}")

    def upload_dir(self, local: Path, uri: str) -> None:
        """Upload a directory's files under a prefix."""
        shutil.copytree(local, self.s3_path(uri), dirs_exist_ok=True)

    # -------------------------------------------------------------------------------------- expressions

    def resolve(self, value: Any) -> Any:
        """A definition value with every pipeline expression replaced by its value."""
        if isinstance(value, dict) and len(value) == 1:
            ((op, arg),) = value.items()
            if op == "Get":
                return self._get(arg)
            if op == "Std:Join":
                return arg["On"].join(str(self.resolve(v)) for v in arg["Values"])
            if op == "Std:JsonGet":
                return self._json_get(arg)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _get(self, reference: str) -> Any:
        kind, _, rest = reference.partition(".")
        if kind == "Parameters":
            return self.parameters[rest]
        if kind == "Execution":
            return {"PipelineExecutionId": EXECUTION_ID}[rest]
        if kind == "Steps":
            step, _, path = rest.partition(".")
            value: Any = self.properties[step]
            for name, key in _PROPERTY_TOKENS.findall(path):
                value = value[name or key]
            return value
        raise ValueError(f"cannot resolve {reference!r}")

    def _json_get(self, arg: Mapping[str, Any]) -> Any:
        step = arg["PropertyFile"]["Get"].split(".")[1]
        file_name = arg["PropertyFile"]["Get"].split(".")[-1]
        prop = next(p for p in self._step(step)["PropertyFiles"] if p["PropertyFileName"] == file_name)
        uri = self.properties[step]["ProcessingOutputConfig"]["Outputs"][prop["OutputName"]]["S3Output"]["S3Uri"]
        value: Any = json.loads((self.s3_path(uri) / prop["FilePath"]).read_text())
        for key in arg["Path"].split("."):
            value = value[key]
        return value

    # ------------------------------------------------------------------------------------------------ jobs

    def _step(self, name: str) -> dict[str, Any]:
        def walk(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
            for step in steps:
                if step["Name"] == name:
                    return step
                if step["Type"] == "Condition":
                    found = walk(step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"])
                    if found:
                        return found
            return None

        found = walk(self.definition["Steps"])
        if found is None:
            raise KeyError(name)
        return found

    def run(self) -> bool:
        """Run the pipeline's steps in order, condition branches included; stop at the first failure."""
        return self._run_steps(self.definition["Steps"])

    def _run_steps(self, steps: list[dict[str, Any]]) -> bool:
        for step in steps:
            if step["Type"] == "Processing":
                ok = self.processing_job(step)
            elif step["Type"] == "Training":
                ok = self.training_job(step)
            elif step["Type"] == "Condition":
                passed = all(self._condition(c) for c in step["Arguments"]["Conditions"])
                branch = step["Arguments"]["IfSteps" if passed else "ElseSteps"]
                ok = self._run_steps(branch)
            elif step["Type"] == "Fail":
                message = self.resolve(step["Arguments"]["ErrorMessage"])
                self.results.append(JobResult(step["Name"], 1, f"FailStep: {message}"))
                ok = False
            else:
                raise ValueError(f"step type {step['Type']} is not emulated")
            if not ok:
                return False
        return True

    def _condition(self, condition: Mapping[str, Any]) -> bool:
        left, right = self.resolve(condition["LeftValue"]), self.resolve(condition["RightValue"])
        ops = {"GreaterThanOrEqualTo": lambda a, b: a >= b, "GreaterThan": lambda a, b: a > b}
        return bool(ops[condition["Type"]](float(left), float(right)))

    def _job_env(self, environment: Mapping[str, Any]) -> dict[str, str]:
        """What a job process sees: the image's environment, then the definition's, relocated below root."""
        path = f"{self.python.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        base = {"PATH": path, "HOME": str(self.root / "home"), "LANG": "C.UTF-8", "TMPDIR": str(self.root / "tmp")}
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        job = {k: str(v) for k, v in self.resolve(dict(environment)).items()}
        return {**base, **self.image_env, **job, "MLOPS_CONTAINER_ROOT": str(self.root)}

    def _relocate(self, path: Path) -> None:
        """Point a downloaded driver script's /opt/ml paths below root (the one difference from a real job)."""
        for file in [path] if path.is_file() else [p for p in path.rglob("*") if p.suffix in (".sh", ".py", ".json")]:
            text = file.read_text()
            if "/opt/ml" in text:
                file.write_text(text.replace("/opt/ml", f"{self.root}/opt/ml"))

    def _local(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def processing_job(self, step: Mapping[str, Any]) -> bool:
        """A processing job: inputs down, runproc.sh with the container arguments, outputs up."""
        args = self.resolve(step["Arguments"])
        self._reset("/opt/ml/processing")
        for item in args["ProcessingInputs"]:
            local = self._local(item["S3Input"]["LocalPath"])
            self.download(item["S3Input"]["S3Uri"], local)
            if item["InputName"] == "entrypoint":
                self._relocate(local)
        outputs = args["ProcessingOutputConfig"]["Outputs"]
        for item in outputs:
            self._local(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        app = args["AppSpecification"]
        command = [self._local(c) if c.startswith("/opt/ml") else c for c in app["ContainerEntrypoint"]]
        returncode = self._execute(
            step["Name"],
            [*map(str, command), *map(str, app.get("ContainerArguments", []))],
            args.get("Environment", {}),
        )
        if returncode == 0:
            for item in outputs:
                self.upload_dir(self._local(item["S3Output"]["LocalPath"]), item["S3Output"]["S3Uri"])
        self.properties[step["Name"]] = {
            "ProcessingOutputConfig": {"Outputs": {o["OutputName"]: {"S3Output": o["S3Output"]} for o in outputs}}
        }
        return returncode == 0

    def training_job(self, step: Mapping[str, Any]) -> bool:
        """A training job: channels and config down, the algorithm's entry point, model and output tarballs up."""
        args = self.resolve(step["Arguments"])
        self._reset("/opt/ml/input", "/opt/ml/model", "/opt/ml/output", "/opt/ml/code")
        data = self._local("/opt/ml/input/data")
        channels = {}
        for channel in args["InputDataConfig"]:
            name = channel["ChannelName"]
            self.download(channel["DataSource"]["S3DataSource"]["S3Uri"], data / name)
            channels[name] = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}
        self._relocate(data / "sm_drivers")
        config = self._local("/opt/ml/input/config")
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(json.dumps(args.get("HyperParameters", {})))
        (config / "inputdataconfig.json").write_text(json.dumps(channels))
        resources = {
            "current_host": "algo-1",
            "hosts": ["algo-1"],
            "current_instance_type": self.instance_type,
            "current_group_name": "homogeneousCluster",
            "network_interface_name": "eth0",
        }
        (config / "resourceconfig.json").write_text(json.dumps(resources))
        for path in ("/opt/ml/model", "/opt/ml/output/data"):
            self._local(path).mkdir(parents=True, exist_ok=True)
        algorithm = args["AlgorithmSpecification"]
        command = [
            str(self._local(c)) if c.startswith("/opt/ml") else c
            for c in [*algorithm["ContainerEntrypoint"], *algorithm.get("ContainerArguments", [])]
        ]
        command = [c.replace("/opt/ml", f"{self.root}/opt/ml") for c in command]
        job_name = f"{step['Name']}-{EXECUTION_ID}"
        # The platform's own variables in every training container (the SDK's driver scripts read them).
        platform = {
            "TRAINING_JOB_NAME": job_name,
            "TRAINING_JOB_ARN": f"arn:aws:sagemaker:us-east-1:000000000000:training-job/{job_name}",
        }
        returncode = self._execute(step["Name"], command, {**platform, **args.get("Environment", {})})
        output = f"{args['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output"
        if returncode == 0:
            for local, archive in (("/opt/ml/model", "model.tar.gz"), ("/opt/ml/output/data", "output.tar.gz")):
                self._tar(self._local(local), self.s3_path(f"{output}/{archive}"))
        self.properties[step["Name"]] = {
            "ModelArtifacts": {"S3ModelArtifacts": f"{output}/model.tar.gz"},
            "OutputDataConfig": {"S3OutputPath": args["OutputDataConfig"]["S3OutputPath"]},
            "TrainingJobName": job_name,
        }
        return returncode == 0

    def _reset(self, *paths: str) -> None:
        """Each job starts on a fresh instance: nothing of the previous job's disk is left."""
        for path in paths:
            shutil.rmtree(self._local(path), ignore_errors=True)

    @staticmethod
    def _tar(directory: Path, archive: Path) -> None:
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "w:gz") as tar:
            for item in sorted(directory.iterdir()):
                tar.add(item, arcname=item.name)

    def _execute(self, name: str, command: list[str], environment: Mapping[str, Any]) -> int:
        started = time.monotonic()
        proc = subprocess.run(
            command, env=self._job_env(environment), cwd=self.root, capture_output=True, text=True, timeout=900
        )
        seconds = time.monotonic() - started
        self.results.append(JobResult(name, proc.returncode, proc.stdout + proc.stderr, seconds))
        return proc.returncode


def image_environment(dockerfile: Path, lock_dir: Path) -> dict[str, str]:
    """Dockerfile.train's ENV (ARG defaults filled in), with its lock copied where MLOPS_ENV_LOCK says it is."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, flags=re.MULTILINE))
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV\s+(.+)$", text, flags=re.MULTILINE):
        for key, value in re.findall(r"(\w+)=(\S+)", line):
            env[key] = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], value)
    lock = env.get("MLOPS_ENV_LOCK")
    if lock:
        target = lock_dir / lock.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(dockerfile.parent / "pipelines" / Path(lock).name, target)
        env["MLOPS_ENV_LOCK"] = str(target)
    return env
