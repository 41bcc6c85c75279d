"""The real state machine on moto's Step Functions interpreter, its Lambda tasks run
in-process by the real handlers (sandbox.lambda_dispatch)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from domain.keys import ARCHIVE_PREFIX
from entrypoints.handlers.runtime import reset_container
from infra.asl import WorkflowOptions
from sandbox.gopro.server import GoProEmulator
from sandbox.lambda_dispatch import Dispatcher, dispatch_lambdas
from sandbox.moto_executions import install as install_names
from sandbox.moto_speed import install as install_speed
from sandbox.provision import deploy_workflow
from tests.infra.iam import assert_granted
from tests.integration.aws import BUCKET, REGION, TABLE, Account, emulated_account

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@dataclass
class Workflow:
    account: Account
    emulator: GoProEmulator
    dispatcher: Dispatcher
    state_machine_arn: str
    stepfunctions: Any

    def run(self, provider: str = "gopro", timeout: float = 120) -> dict[str, Any]:
        """Start one execution and wait for its end."""
        arn = self.stepfunctions.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=f"sync-{uuid.uuid4().hex[:12]}",
            input=json.dumps({"provider": provider}),
        )["executionArn"]
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            described = self.stepfunctions.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.05)
        raise AssertionError(f"execution {arn} still running after {timeout}s")

    def records(self) -> dict[str, Any]:
        tracker = self.account.tracker()
        return dict(tracker.get_many(list(self.emulator.media)))

    def objects(self, prefix: str = ARCHIVE_PREFIX) -> list[str]:
        """The keys under `prefix`: by default the archive's videos."""
        pages = self.account.s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=prefix
        )
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]


def provision(account: Account, emulator: GoProEmulator, dispatcher: Dispatcher) -> Workflow:
    """The dev stack's functions and state machine (as the sandbox makes them) on moto."""
    machine = deploy_workflow(
        lambda service: boto3.client(service, region_name=REGION),  # type: ignore[call-overload]
        account.topic_arn,
        WorkflowOptions(retry_interval_seconds=1),
        BUCKET,
    )
    account.secrets.create_secret(
        Name="gopro/credentials",
        SecretString=json.dumps(
            {"provider": "gopro", "access_token": emulator.session_token, "user_id": "u1"}
        ),
    )
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    return Workflow(account, emulator, dispatcher, machine, stepfunctions)


def workflow_environment(
    monkeypatch: pytest.MonkeyPatch, emulator: GoProEmulator, account: Account
) -> None:
    for name, value in {
        "TRACKER_TABLE": TABLE,
        "ARCHIVE_BUCKET": BUCKET,
        "ARCHIVE_KMS_KEY": account.kms_key_arn,
        "ALERT_TOPIC_ARN": account.topic_arn,
        "GOPRO_API_URL": emulator.base_url,
        "GOPRO_THUMBNAIL_URL": f"{emulator.base_url}/resize/450wwp/{{token}}",
        "GOPRO_ALLOW_LOOPBACK": "true",
        "PART_SIZE_MIB": "5",
        "SINGLE_PUT_LIMIT_MIB": "5",
        "RETRY_BASE_SECONDS": "1",
        "GOPRO_RETRY_WAIT_SECONDS": "0.01",
        "METRICS": "emf",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def workflow(monkeypatch: pytest.MonkeyPatch, emulator: GoProEmulator) -> Iterator[Workflow]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for account in emulated_account(MOTO_CONFIG):
        workflow_environment(monkeypatch, emulator, account)
        reset_container()
        install_speed()
        install_names()
        with dispatch_lambdas() as dispatcher:
            yield provision(account, emulator, dispatcher)
            # Every AWS call the functions made is one their deployed roles allow.
            assert_granted(dispatcher.aws.calls, os.environ)
        reset_container()


def ready_videos(workflow: Workflow) -> set[str]:
    return {
        m.id
        for m in workflow.emulator.media.values()
        if m.ready_to_view == "ready" and m.type not in ("Photo", "TimeLapse")
    }


@pytest.fixture
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every invocation finds its time short after each part: transfers go by "continue"."""
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", "899.999")
