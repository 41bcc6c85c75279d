"""The whole system on this machine: emulated AWS (moto's server), the GoPro emulator, and
the three Lambda functions run in-process, provisioned from the stack's own builders.

Everything listens on 127.0.0.1; the resources are the dev stack's (sandbox.provision).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
from moto.server import ThreadedMotoServer

from infra.asl import WorkflowOptions
from infra.catalog import (
    handler_environment,
)
from sandbox.gopro.server import GoProEmulator
from sandbox.lambda_dispatch import Dispatcher, dispatch_lambdas
from sandbox.moto_dynamodb import install as install_transactions
from sandbox.moto_executions import install as install_names
from sandbox.moto_restore import install as install_restores
from sandbox.moto_speed import install as install_routing
from sandbox.provision import BUCKET, REGION, SETTINGS, deploy_workflow, provision_resources

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class World:
    """Handles on a running sandbox."""

    endpoint: str
    gopro_url: str
    environment: dict[str, str]
    state_machine_arn: str
    topic_arn: str
    inbox_url: str
    dispatcher: Dispatcher
    session: boto3.session.Session

    @property
    def table(self) -> str:
        return self.environment["TRACKER_TABLE"]

    @property
    def secret_name(self) -> str:
        return SETTINGS.secret_name

    def client(self, service: str) -> Any:
        make: Any = self.session.client  # one untyped door for every service
        return make(service, endpoint_url=self.endpoint)

    def notifications(self) -> list[dict[str, str]]:
        """Everything the alert topic delivered since the last call."""
        sqs, found = self.client("sqs"), list[dict[str, str]]()
        while True:
            batch = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return found
            for message in batch:
                body = json.loads(message["Body"])
                found.append({"subject": body.get("Subject", ""), "message": body["Message"]})
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])

    def run(
        self, name: str, tick: Callable[[], None] | None = None, timeout: float = 3600
    ) -> dict[str, Any]:
        """Start an execution with `{"provider": "gopro"}` and wait for its end."""
        stepfunctions = self.client("stepfunctions")
        arn = stepfunctions.start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input='{"provider": "gopro"}'
        )["executionArn"]
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            described = stepfunctions.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return dict(described)
            if tick:
                tick()
            time.sleep(0.2)
        raise TimeoutError(f"execution {name} still running after {timeout:.0f}s")


RESTORE_SECONDS = 30.0
"""How long a sandbox restore is in progress (S3's: up to 12 or 48 hours)."""


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def local_world(
    emulator: GoProEmulator | None = None,
    gopro_url: str | None = None,
    restore_seconds: float = RESTORE_SECONDS,
) -> Iterator[World]:
    """Start the sandbox; `gopro_url` points the functions at another GoPro API instead of
    `emulator` (a loopback URL also allows loopback download URLs). A restore from an
    archive class takes `restore_seconds` (sandbox.moto_restore)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    install_transactions()
    install_restores(restore_seconds)
    install_routing()
    install_names()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with ExitStack() as stack:
        stack.callback(server.stop)
        aws_env = {
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
            "MOTO_PORT": str(port),
        }
        stack.enter_context(_environment(aws_env))
        # moto's backends live in the process: start from an empty account every time.
        httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
        httpx.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG).raise_for_status()
        session = boto3.session.Session(region_name=REGION)
        made = provision_resources(session, endpoint)
        make: Any = session.client
        url = gopro_url or (emulator.base_url if emulator else "")
        loopback = httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")
        handler_env = {
            **handler_environment(SETTINGS),
            "TRACKER_TABLE": made["table"],
            "ARCHIVE_BUCKET": BUCKET,
            "ARCHIVE_KMS_KEY": made["key"],
            "ALERT_TOPIC_ARN": made["topic"],
            "GOPRO_API_URL": url,
            "GOPRO_THUMBNAIL_URL": f"{url}/resize/450wwp/{{token}}",
            "GOPRO_ALLOW_LOOPBACK": "true" if loopback else "false",
            "RETRY_BASE_SECONDS": "1",
            "GOPRO_RETRY_WAIT_SECONDS": "0.05",
            "METRICS": "api",  # PutMetricData to the local endpoint, not lines on stdout
        }
        machine = deploy_workflow(
            lambda service: make(service, endpoint_url=endpoint),
            made["topic"],
            WorkflowOptions(retry_interval_seconds=1),
            environment=handler_env,
        )
        stack.enter_context(_environment(handler_env))
        dispatcher = stack.enter_context(dispatch_lambdas())
        yield World(
            endpoint=endpoint,
            gopro_url=url,
            environment={**aws_env, **handler_env},
            state_machine_arn=machine,
            topic_arn=made["topic"],
            inbox_url=made["inbox"],
            dispatcher=dispatcher,
            session=session,
        )
