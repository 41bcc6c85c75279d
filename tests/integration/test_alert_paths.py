"""The critical alert is written whatever the caught error holds: AWS documents a Catch's
`Cause` as "usually" present, and a path to a missing field fails the state that reads
it. The definition's failure tail runs on moto's Step Functions interpreter."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from infra.asl import state_machine_definition
from tests.infra.test_asl import TARGETS
from tests.integration.aws import REGION, emulated_account
from tests.integration.workflow import MOTO_CONFIG

TAIL = ("DescribeFailure", "MergeFailure", "NotifyCriticalFailure", "SyncFailed")


@pytest.mark.parametrize(
    ("caught", "says"),
    [
        ({"Error": "CredentialsRejectedError", "Cause": "the token was refused"},
         "CredentialsRejectedError: the token was refused"),
        ({"Error": "States.Runtime"}, "States.Runtime: no cause was given"),
        ({}, "unknown error: no cause was given"),
    ],
)  # fmt: skip
def test_the_critical_alert_is_sent_with_or_without_a_cause(
    monkeypatch: pytest.MonkeyPatch, caught: dict[str, str], says: str
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    for account in emulated_account(MOTO_CONFIG):
        definition = state_machine_definition(TARGETS)
        states = {name: definition["States"][name] for name in TAIL}
        states["NotifyCriticalFailure"]["Parameters"]["TopicArn"] = account.topic_arn
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="tail",
            definition=json.dumps({"StartAt": "DescribeFailure", "States": states}),
            roleArn="arn:aws:iam::123456789012:role/tail",
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=machine,
            input=json.dumps({"provider": "gopro", "error": caught}),
        )["executionArn"]
        for _ in range(100):
            status = sfn.describe_execution(executionArn=execution)["status"]
            if status != "RUNNING":
                break
            time.sleep(0.05)
        assert status == "FAILED"  # SyncFailed, after the alert
        (alert,) = account.alerts()
        assert alert["Subject"] == "cloud-sync: sync failed"
        assert alert["Message"].endswith(says)
