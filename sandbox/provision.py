"""The dev stack's resources, created on emulated AWS from the stack's own builders
(infra.catalog, infra.asl), so the sandbox cannot drift from what `pulumi up` deploys.

The one difference: the stack's TLS-only bucket policy is not applied, since the local
endpoint is plain http.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import boto3

from infra.asl import WorkflowOptions, WorkflowTargets, state_machine_definition
from infra.catalog import RUNTIME, SPECS, lifecycle_configuration
from infra.config import StackSettings
from infra.names import MACHINE, TABLE, TOPIC

REGION = "eu-central-1"
BUCKET = "gopro-archive-sandbox"
SETTINGS = StackSettings(environment="dev")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "code runs in-process in the sandbox")
    return buffer.getvalue()


def provision_resources(session: boto3.session.Session, endpoint: str) -> dict[str, str]:
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
    table = SETTINGS.name(TABLE)
    client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "media_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "media_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client("secretsmanager").create_secret(Name=SETTINGS.secret_name)
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name=SETTINGS.name(TOPIC))["TopicArn"]
    inbox = sqs.create_queue(QueueName="sandbox-alert-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn["Attributes"]["QueueArn"])
    return {"key": key_arn, "table": table, "topic": topic, "inbox": inbox}


def deploy_workflow(
    client: Callable[[str], Any],
    topic: str,
    options: WorkflowOptions,
    bucket: str = BUCKET,
    environment: dict[str, str] | None = None,
) -> str:
    """The three functions (handlers run in-process) and the state machine, named as the dev
    stack names them; `client(service)` makes the boto3 clients. Each function carries
    `environment`, as the stack's do: the command line reads the deployment from it.
    Returns the machine's ARN."""
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
            Environment={"Variables": environment or {}},
        )["FunctionArn"]
        for key, spec in SPECS.items()
    }
    targets = WorkflowTargets(
        authenticator_arn=arns["authenticator"],
        lister_arn=arns["lister"],
        downloader_arn=arns["downloader"],
        summary_arn=arns["summary"],
        alert_topic_arn=topic,
        bucket=bucket,
    )
    return str(
        client("stepfunctions").create_state_machine(
            name=SETTINGS.name(MACHINE),
            definition=json.dumps(state_machine_definition(targets, options)),
            roleArn=role,
        )["stateMachineArn"]
    )
