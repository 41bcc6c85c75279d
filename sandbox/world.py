"""The whole system on this machine: emulated AWS (moto's server), the GoPro emulator, and
the three Lambda functions run in-process, provisioned from the stack's own builders.

Everything listens on 127.0.0.1. The resources follow the `dev` stack: the same names,
bucket encryption, public-access block, versioning and lifecycle, table, secret, topic,
functions and state machine definition (infra.catalog, infra.asl). The one difference: the
stack's TLS-only bucket policy is not applied, since the local endpoint is plain http.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
from moto.server import ThreadedMotoServer

from infra.asl import WorkflowOptions, WorkflowTargets, state_machine_definition
from infra.catalog import (
    ABORT_INCOMPLETE_UPLOADS_DAYS,
    RUNTIME,
    SPECS,
    archive_tiers,
    handler_environment,
)
from infra.config import StackSettings
from infra.policies import ARCHIVE_PREFIX
from sandbox.gopro.server import GoProEmulator
from sandbox.lambda_dispatch import Dispatcher, dispatch_lambdas

REGION = "eu-central-1"
BUCKET = "gopro-archive-sandbox"
SETTINGS = StackSettings(environment="dev")
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lifecycle_configuration(settings: StackSettings) -> dict[str, Any]:
    """The stack's lifecycle rules in S3's API shape."""
    tiers = archive_tiers(settings)
    return {
        "Rules": [
            {
                "ID": "archive-tiers",
                "Status": "Enabled",
                "Filter": {"Prefix": ARCHIVE_PREFIX},
                "Transitions": [{"Days": t.days, "StorageClass": t.storage_class} for t in tiers],
                "NoncurrentVersionTransitions": [
                    {"NoncurrentDays": t.days, "StorageClass": t.storage_class} for t in tiers
                ],
            },
            {
                "ID": "abort-incomplete-uploads",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {
                    "DaysAfterInitiation": ABORT_INCOMPLETE_UPLOADS_DAYS
                },
            },
        ]
    }


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


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "code runs in-process in the sandbox")
    return buffer.getvalue()


def _provision(session: boto3.session.Session, endpoint: str) -> dict[str, str]:
    def client(service: str) -> Any:
        make: Any = session.client
        return make(service, endpoint_url=endpoint)

    key = client("kms").create_key(Description="cloud-sync sandbox archive key")
    key_arn = key["KeyMetadata"]["Arn"]
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    # The stack's bucket policy refuses every request without TLS; the sandbox's endpoint is
    # plain http on loopback, so that one policy is left out here (and only here).
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration=lifecycle_configuration(SETTINGS)
    )
    table = SETTINGS.name("gopro-sync-tracker")
    client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "media_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "media_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client("secretsmanager").create_secret(Name=SETTINGS.secret_name)
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name=SETTINGS.name("gopro-sync-alerts"))["TopicArn"]
    inbox = sqs.create_queue(QueueName="sandbox-alert-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn["Attributes"]["QueueArn"])
    return {"key": key_arn, "table": table, "topic": topic, "inbox": inbox}


def deploy_workflow(
    client: Callable[[str], Any],
    topic: str,
    options: WorkflowOptions,
) -> str:
    """The three functions (handlers run in-process) and the state machine, named as the dev
    stack names them; `client(service)` makes the boto3 clients. Returns the machine's ARN."""
    role = client("iam").create_role(
        RoleName="cloud-sync-sandbox",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lambdas = client("lambda")
    arns = {
        key: lambdas.create_function(
            FunctionName=SETTINGS.name(spec.base_name),
            Runtime=RUNTIME,
            Role=role,
            Handler=f"entrypoints.handlers.{spec.handler}.handler",
            Code={"ZipFile": _zip()},
            Timeout=spec.timeout_seconds,
            MemorySize=spec.memory_mb,
        )["FunctionArn"]
        for key, spec in SPECS.items()
    }
    targets = WorkflowTargets(arns["authenticator"], arns["lister"], arns["downloader"], topic)
    return str(
        client("stepfunctions").create_state_machine(
            name=SETTINGS.name("gopro-sync-orchestrator"),
            definition=json.dumps(state_machine_definition(targets, options)),
            roleArn=role,
        )["stateMachineArn"]
    )


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
    emulator: GoProEmulator | None = None, gopro_url: str | None = None
) -> Iterator[World]:
    """Start the sandbox; `gopro_url` points the functions at another GoPro API instead of
    `emulator` (a loopback URL also allows loopback download URLs)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
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
        made = _provision(session, endpoint)
        make: Any = session.client
        machine = deploy_workflow(
            lambda service: make(service, endpoint_url=endpoint),
            made["topic"],
            WorkflowOptions(retry_interval_seconds=1),
        )
        url = gopro_url or (emulator.base_url if emulator else "")
        loopback = httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")
        handler_env = {
            **handler_environment(SETTINGS),
            "TRACKER_TABLE": made["table"],
            "ARCHIVE_BUCKET": BUCKET,
            "ARCHIVE_KMS_KEY": made["key"],
            "ALERT_TOPIC_ARN": made["topic"],
            "GOPRO_API_URL": url,
            "GOPRO_ALLOW_LOOPBACK": "true" if loopback else "false",
            "RETRY_BASE_SECONDS": "1",
            "GOPRO_RETRY_WAIT_SECONDS": "0.05",
            "METRICS": "api",  # PutMetricData to the local endpoint, not lines on stdout
        }
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
