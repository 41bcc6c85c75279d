"""The three Lambda functions, each with its own log group and least-privilege role."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.catalog import RUNTIME, SPECS, handler_environment
from infra.config import StackSettings
from infra.names import LAYER
from infra.packaging import LambdaArtifacts
from infra.policies import (
    Document,
    assume_role,
    authenticator_policy,
    downloader_policy,
    lister_policy,
    summary_policy,
)


@dataclass(frozen=True)
class FunctionsArgs:
    settings: StackSettings
    artifacts: LambdaArtifacts
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    secret_arn: pulumi.Input[str]
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    state_machine_arn: pulumi.Input[str]
    """The workflow's, which the lister asks for the runs in progress."""


class Functions(pulumi.ComponentResource):
    def __init__(self, name: str, args: FunctionsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cloud-sync:functions:Functions", name, None, opts)
        self._args = args
        settings = args.settings
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-dependencies",
            layer_name=settings.name(LAYER),
            code=pulumi.FileArchive(str(args.artifacts.layer)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[settings.lambda_architecture],
            opts=pulumi.ResourceOptions(parent=self),
        )
        a = args
        self.authenticator = self._function(
            "authenticator",
            lambda logs: pulumi.Output.all(a.secret_arn, logs).apply(
                lambda v: authenticator_policy(v[0], v[1])
            ),
        )
        self.lister = self._function(
            "lister",
            lambda logs: pulumi.Output.all(
                a.secret_arn,
                a.table_arn,
                a.bucket_arn,
                a.key_arn,
                a.state_machine_arn,
                a.topic_arn,
                logs,
            ).apply(
                lambda v: lister_policy(
                    secret_arn=v[0],
                    table_arn=v[1],
                    bucket_arn=v[2],
                    key_arn=v[3],
                    state_machine_arn=v[4],
                    topic_arn=v[5],
                    log_group_arn=v[6],
                )
            ),
        )
        self.summary = self._function(
            "summary",
            lambda logs: pulumi.Output.all(
                a.table_arn, a.bucket_arn, a.key_arn, a.topic_arn, logs
            ).apply(
                lambda v: summary_policy(
                    table_arn=v[0],
                    bucket_arn=v[1],
                    key_arn=v[2],
                    topic_arn=v[3],
                    log_group_arn=v[4],
                )
            ),
        )
        self.downloader = self._function(
            "downloader",
            lambda logs: pulumi.Output.all(
                a.bucket_arn, a.key_arn, a.secret_arn, a.table_arn, a.topic_arn, logs
            ).apply(
                lambda v: downloader_policy(
                    bucket_arn=v[0],
                    key_arn=v[1],
                    secret_arn=v[2],
                    table_arn=v[3],
                    topic_arn=v[4],
                    log_group_arn=v[5],
                )
            ),
        )
        self.register_outputs(
            {
                "authenticator": self.authenticator.arn,
                "lister": self.lister.arn,
                "summary": self.summary.arn,
                "downloader": self.downloader.arn,
            }
        )

    def _function(
        self, key: str, policy: Callable[[pulumi.Output[str]], pulumi.Output[Document]]
    ) -> aws.lambda_.Function:
        args, spec = self._args, SPECS[key]
        settings = args.settings
        function_name = settings.name(spec.base_name)
        child = pulumi.ResourceOptions(parent=self)
        logs = aws.cloudwatch.LogGroup(
            f"{key}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=settings.log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{key}-role",
            assume_role_policy=json.dumps(assume_role("lambda.amazonaws.com")),
            description=f"cloud-sync {function_name}: least privilege",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{key}-policy",
            role=role.id,
            policy=policy(logs.arn).apply(json.dumps),
            opts=child,
        )
        return aws.lambda_.Function(
            f"{key}-function",
            name=function_name,
            runtime=RUNTIME,
            architectures=[settings.lambda_architecture],
            handler=f"entrypoints.handlers.{spec.handler}.handler",
            code=pulumi.FileArchive(str(args.artifacts.code)),
            layers=[self.layer.arn],
            role=role.arn,
            memory_size=spec.memory_mb,
            timeout=spec.timeout_seconds,
            # -1: no reservation (Lambda's own default); see downloaderReservedConcurrency
            reserved_concurrent_executions=(
                settings.downloader_reserved_concurrency or -1 if key == "downloader" else -1
            ),
            environment={
                "variables": {
                    "TRACKER_TABLE": args.table_name,
                    "ARCHIVE_BUCKET": args.bucket_name,
                    "ARCHIVE_KMS_KEY": args.key_arn,
                    "ALERT_TOPIC_ARN": args.topic_arn,
                    **handler_environment(settings),
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )
