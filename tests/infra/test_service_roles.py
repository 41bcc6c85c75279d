"""The state machine's and the scheduler's roles cover what AWS does on their behalf, read
from what the program declares: each Task's integration, the Distributed Map's child
executions, logging and tracing; the schedule's target and its dead-letter queue.

Sources: Step Functions Developer Guide, "IAM policies for using Distributed Map states",
"IAM policies for logging to CloudWatch Logs", "AWS X-Ray and Step Functions"; EventBridge
Scheduler User Guide, "Set up the execution role" and "Configuring a dead-letter queue".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.infra.iam import Need, Statement, allowed_by, declared, statements
from tests.infra.recorder import ACCOUNT, REGION, Recorder, run_program

LOG_DELIVERY = [
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
]  # fmt: skip
TRACING = [
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
]  # fmt: skip


@pytest.fixture(scope="module")
def stack() -> Recorder:
    return run_program("dev")


def states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        yield name, state
        for inner in ("ItemProcessor", "Iterator"):
            if inner in state:
                yield from states(state[inner])


def state_machine_needs(stack: Recorder) -> list[Need]:
    machine = stack.one("aws:sfn/stateMachine:StateMachine")
    definition = json.loads(machine.inputs["definition"])
    name, arn = machine.inputs["name"], machine.outputs["arn"]
    topic_keys = declared().topic_keys
    found: list[Need] = []
    for state_name, state in states(definition):
        resource = state.get("Resource", "")
        if state["Type"] == "Task" and resource.startswith("arn:aws:lambda:"):
            found.append(Need("lambda:InvokeFunction", resource, state_name))
        elif resource == "arn:aws:states:::sns:publish":
            topic = state["Parameters"]["TopicArn"]
            found.append(Need("sns:Publish", topic, state_name))
            found += [Need(a, topic_keys[topic], f"{state_name}: encrypted topic")
                      for a in ("kms:GenerateDataKey", "kms:Decrypt")]  # fmt: skip
        elif state["Type"] == "Task":
            raise AssertionError(f"{state_name}: no IAM mapping for {resource}; add one here")
        found += map_files_needs(stack, state_name, state)
        mode = state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode")
        if mode == "DISTRIBUTED":
            child = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}/{state_name}:0f1e2d3c"
            # The form AWS's Distributed Map policy example grants, beside the child's own
            documented = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}:0f1e2d3c"
            found += [Need("states:StartExecution", arn, f"{state_name}: child executions")]
            found += [
                Need(action, execution, f"{state_name}: child executions")
                for action in (
                    "states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"
                )
                for execution in (child, documented)
            ]  # fmt: skip
    if machine.inputs.get("loggingConfiguration"):
        found += [Need(a, "*", "logging") for a in LOG_DELIVERY]
    if machine.inputs.get("tracingConfiguration", {}).get("enabled"):
        found += [Need(a, "*", "tracing") for a in TRACING]
    return found


RESULT_WRITER = [
    "s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload",
]  # fmt: skip
"""What ResultWriter needs on its prefix (Step Functions guide, "IAM policies for
ResultWriter")."""


def map_files_needs(stack: Recorder, state_name: str, state: dict[str, Any]) -> list[Need]:
    """A Distributed Map's ItemReader reads its items from S3 and its ResultWriter writes the
    results there, both in the archive bucket, whose objects the archive key encrypts."""
    bucket = stack.one("aws:s3/bucket:Bucket").outputs["bucket"]
    key = stack.one("aws:kms/key:Key").outputs["arn"]
    found: list[Need] = []
    reader = state.get("ItemReader")
    if reader is not None:
        assert reader["Resource"] == "arn:aws:states:::s3:getObject", reader
        run_list = f"arn:aws:s3:::{bucket}/runs/sync-0f1e2d3c/to-sync.json"  # as the lister writes
        found += [
            Need("s3:GetObject", run_list, f"{state_name}: ItemReader"),
            Need("kms:Decrypt", key, f"{state_name}: ItemReader, encrypted run list"),
        ]
    writer = state.get("ResultWriter")
    if writer is not None:
        assert writer["Parameters"]["Bucket"] == bucket, writer
        results = (
            f"arn:aws:s3:::{bucket}/{writer['Parameters']['Prefix']}/0f1e2d3c/SUCCEEDED_0.json"
        )
        found += [Need(a, results, f"{state_name}: ResultWriter") for a in RESULT_WRITER]
        found += [Need(a, key, f"{state_name}: ResultWriter, encrypted results")
                  for a in ("kms:GenerateDataKey", "kms:Decrypt")]  # fmt: skip
    return found


def scheduler_needs(stack: Recorder) -> list[Need]:
    target = stack.one("aws:scheduler/schedule:Schedule").inputs["target"]
    found = [Need("states:StartExecution", target["arn"], "the nightly start")]
    if "deadLetterConfig" in target:
        found.append(Need("sqs:SendMessage", target["deadLetterConfig"]["arn"], "a failed start"))
    return found


def refused(needs: list[Need], policy: list[Statement]) -> list[str]:
    return [
        f"may not {n.action} on {n.resource} ({n.because})"
        for n in needs
        if not allowed_by(n, policy)
    ]


def test_the_state_machine_role_covers_every_task_child_log_and_trace(stack: Recorder) -> None:
    needs = state_machine_needs(stack)
    assert {n.action for n in needs} >= {
        "lambda:InvokeFunction",
        "sns:Publish",
        "states:StartExecution",
        "s3:GetObject",
        "s3:PutObject",
    }
    policy = statements(stack.one("aws:iam/rolePolicy:RolePolicy", "workflow").policy())
    assert refused(needs, policy) == []
    # A role without one of them is caught
    stop = "states:StopExecution"
    trimmed = [Statement(s.sid, s.effect, tuple(a for a in s.actions if a != stop),
                         s.resources, s.conditional) for s in policy]  # fmt: skip
    assert refused(needs, trimmed) == [
        f"may not states:StopExecution on arn:aws:states:{REGION}:{ACCOUNT}:execution:"
        "gopro-sync-orchestrator-dev/DownloadVideos:0f1e2d3c (DownloadVideos: child executions)",
        f"may not states:StopExecution on arn:aws:states:{REGION}:{ACCOUNT}:execution:"
        "gopro-sync-orchestrator-dev:0f1e2d3c (DownloadVideos: child executions)",
    ]


def test_the_scheduler_role_covers_its_target_and_dead_letters(stack: Recorder) -> None:
    needs = scheduler_needs(stack)
    assert [n.action for n in needs] == ["states:StartExecution", "sqs:SendMessage"]
    policy = statements(stack.one("aws:iam/rolePolicy:RolePolicy", "schedule").policy())
    assert refused(needs, policy) == []
    assert refused(needs, [s for s in policy if "sqs:SendMessage" not in s.actions]) != []
