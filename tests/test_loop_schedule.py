"""The loop's scheduling examples work as written: every `mlops` command in the GitHub Actions workflow and the
EventBridge rule is one the CLI accepts (command and options), and the rule, put through moto's EventBridge, fires
on the pipeline execution that registers a challenger and on nothing else."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import click
import pytest
import yaml
from click.testing import CliRunner

from mlops_cli.main import cli
from pipelines.spec import SPEC
from tests.conftest import ROOT

EXAMPLES = ROOT / "docs" / "examples"
WORKFLOW = EXAMPLES / "loop-schedule.github-actions.yml"
RULE = EXAMPLES / "loop-eventbridge-rule.json"


def mlops_commands(script: str) -> Iterator[list[str]]:
    """Each `mlops ...` command line of a shell script (continuations joined, redirections and pipes cut), split."""
    for line in script.replace("\\\n", " ").splitlines():
        match = re.search(r"(?:^|\s|/)mlops\s+(.*)", line)
        if not match:
            continue
        words = shlex.split(re.split(r"\s[|>]", match.group(1))[0])
        yield words


def resolve(words: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """(the subcommand path, its command, the option flags given) of `mlops WORDS`."""
    command: click.Command = cli
    path: list[str] = []
    rest = list(words)
    while isinstance(command, click.Group) and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    flags = [w.split("=", 1)[0] for w in rest if w.startswith("-")]
    return path, command, flags


def check_command(words: list[str]) -> None:
    path, command, flags = resolve(words)
    assert not isinstance(command, click.Group), f"`mlops {' '.join(words)}` names no command"
    accepted = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    unknown = [flag for flag in flags if flag not in accepted]
    assert not unknown, f"`mlops {' '.join(path)}` has no {unknown}"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output, result.output


def workflow_scripts() -> list[str]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def test_the_workflow_runs_hourly_and_one_at_a_time() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    triggers = workflow.get("on") or workflow[True]
    (cron,) = [entry["cron"] for entry in triggers["schedule"]]
    minute, hour, *rest = cron.split()
    assert minute.isdigit() and int(minute) < 60 and hour == "*" and rest == ["*", "*", "*"]
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_every_mlops_command_in_the_workflow_is_one_the_cli_accepts() -> None:
    commands = [words for script in workflow_scripts() for words in mlops_commands(script)]
    assert [resolve(words)[0] for words in commands] == [
        ["data", "pull"],
        ["loop", "run"],
        ["loop", "run"],
        ["loop", "audit"],
    ]
    for words in commands:
        check_command(words)


def rule() -> dict[str, Any]:
    return json.loads(RULE.read_text())


def test_the_rule_targets_a_loop_command_the_cli_accepts() -> None:
    (target,) = rule()["Targets"]
    overrides = json.loads(target["Input"])["environmentVariablesOverride"]
    (command,) = [v["value"] for v in overrides if v["name"] == "LOOP_COMMAND"]
    (words,) = list(mlops_commands(command))
    assert resolve(words)[0] == ["loop", "run"]
    check_command(words)


def execution_event(status: str, pipeline: str = SPEC.name) -> dict[str, Any]:
    """A pipeline execution status change as SageMaker sends it to EventBridge."""
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{pipeline}"
    return {
        "Source": "aws.sagemaker",
        "DetailType": "SageMaker Model Building Pipeline Execution Status Change",
        "Detail": json.dumps(
            {
                "pipelineArn": arn,
                "pipelineExecutionArn": f"{arn}/execution/abc123",
                "currentPipelineExecutionStatus": status,
                "previousPipelineExecutionStatus": "Executing",
                "executionStartTime": "2026-12-03T05:00:00Z",
                "executionEndTime": "2026-12-03T05:40:00Z",
            }
        ),
        "Resources": [arn],
    }


def test_the_rule_fires_on_a_successful_execution_of_the_pipeline_only(moto_server: str) -> None:
    events = boto3.client("events", endpoint_url=moto_server, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="us-east-1")
    spec = rule()
    pattern = json.dumps(spec["EventPattern"])
    events.put_rule(Name=spec["Name"], EventPattern=pattern, State=spec["State"], Description=spec["Description"])
    queue = sqs.create_queue(QueueName="loop-trigger")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The rule's own target (CodeBuild) is not in moto; a queue stands in to see what the rule delivers.
    events.put_targets(Rule=spec["Name"], Targets=[{"Id": "probe", "Arn": queue_arn}])

    # (moto does not implement TestEventPattern: the events go through the bus, the rule matching them.)
    fires = execution_event("Succeeded")
    others = [execution_event("Failed"), execution_event("Executing"), execution_event("Succeeded", "another")]
    sent = events.put_events(Entries=[*others, fires])
    assert sent["FailedEntryCount"] == 0
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["currentPipelineExecutionStatus"] for m in received] == ["Succeeded"]
    assert json.loads(received[0]["Body"])["detail"]["pipelineArn"].endswith(f":pipeline/{SPEC.name}")


@pytest.mark.parametrize("path", [WORKFLOW, RULE])
def test_the_examples_are_linked_from_the_loop_docs(path: Path) -> None:
    assert f"examples/{path.name}" in (ROOT / "docs" / "loop.md").read_text()
