"""The archive: a KMS key and a private, versioned, encrypted bucket with lifecycle rules."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.catalog import lifecycle_configuration
from infra.config import StackSettings
from infra.policies import bucket_policy, key_policy


@dataclass(frozen=True)
class StorageArgs:
    settings: StackSettings
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]


class Storage(pulumi.ComponentResource):
    """KMS key (rotation on), bucket with SSE-KMS + Bucket Key, public access blocked,
    versioning, TLS-only policy, and the STANDARD -> GLACIER_IR -> DEEP_ARCHIVE lifecycle."""

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cloud-sync:storage:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        self.key = aws.kms.Key(
            f"{name}-key",
            description="cloud-sync: archive objects and alert messages",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.all(args.account_id, args.region).apply(
                lambda values: json.dumps(key_policy(values[0], values[1]))
            ),
            # Every archived object is encrypted with it: deleting it would make the whole
            # archive unreadable once its deletion window ends. A protected stack keeps it
            # even through `pulumi destroy` (it costs $1 a month; see docs/uninstalling.md).
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=settings.deletion_protection,
                retain_on_delete=settings.deletion_protection,
            ),
        )
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix="gopro-archive-",
            force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=settings.deletion_protection),
        )
        # S3 answers concurrent changes to one bucket's configuration with 409
        # OperationAborted: each waits for the one before.
        after = self._after
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self.key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=after(encryption),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=after(public_access),
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(bucket_policy(arn))),
            opts=after(versioning),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=lifecycle_rules(settings),
            opts=after(policy),
        )
        self.register_outputs({"bucket": self.bucket.bucket, "key": self.key.arn})

    def _after(self, previous: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=[previous])


def lifecycle_rules(
    settings: StackSettings,
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
    """infra.catalog's lifecycle rules in Pulumi's shape (snake_case keys)."""
    rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = pulumi_shape(
        lifecycle_configuration(settings)["Rules"]
    )
    return rules


def pulumi_shape(value: Any) -> Any:
    """S3's API shape (`NoncurrentDays`, `ID`) as Pulumi's arguments (`noncurrent_days`,
    `id`): keys renamed, values kept."""
    if isinstance(value, list):
        return [pulumi_shape(item) for item in value]
    if isinstance(value, dict):
        return {_snake(key): pulumi_shape(item) for key, item in value.items()}
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()
