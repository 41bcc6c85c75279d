"""An emulated AWS account (moto, in-process) with the resources the system uses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import boto3
from moto import mock_aws

from adapters.aws.dynamodb_tracker import DynamoDbSyncTracker, TrackerSettings
from adapters.aws.notifier import SnsNotifier
from adapters.aws.s3_store import S3ObjectStore, S3Settings, s3_client
from adapters.aws.secrets_store import SecretsManagerCredentialStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

REGION: Literal["eu-central-1"] = "eu-central-1"
BUCKET = "cloud-sync-archive-test"
TABLE = "cloud-sync-tracker-test"
MIB = 1 << 20


@dataclass
class Account:
    s3: S3Client
    dynamodb: DynamoDBClient
    secrets: SecretsManagerClient
    sns: SNSClient
    sqs: SQSClient
    kms_key_arn: str
    topic_arn: str
    queue_url: str

    def store(self, single_put_limit: int = 100 * MIB, part_size: int = 50 * MIB) -> S3ObjectStore:
        settings = S3Settings(BUCKET, self.kms_key_arn, single_put_limit, part_size)
        return S3ObjectStore(self.s3, settings)

    def tracker(self) -> DynamoDbSyncTracker:
        return DynamoDbSyncTracker(self.dynamodb, TrackerSettings(TABLE, sleep=lambda _: None))

    def credential_store(self) -> SecretsManagerCredentialStore:
        return SecretsManagerCredentialStore(self.secrets)

    def notifier(self) -> SnsNotifier:
        return SnsNotifier(self.sns, self.topic_arn)

    def alerts(self) -> list[dict[str, str]]:
        """Every notification the topic delivered so far."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    def open_uploads(self) -> list[str]:
        return [u["Key"] for u in self.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]


def emulated_account(config: dict[str, Any] | None = None) -> Iterator[Account]:
    with mock_aws(config=config):  # type: ignore[arg-type]
        session = boto3.session.Session(region_name=REGION)
        kms = session.client("kms")
        key = kms.create_key(Description="archive key")["KeyMetadata"]["Arn"]
        s3 = s3_client(session)  # the store's own client configuration
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "media_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "media_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sns, sqs = session.client("sns"), session.client("sqs")
        topic = sns.create_topic(Name="gopro-sync-alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
        yield Account(s3, dynamodb, session.client("secretsmanager"), sns, sqs, key, topic, queue)
