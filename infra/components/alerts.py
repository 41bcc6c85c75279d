"""The alert topic `gopro-sync-alerts` (R7.5): KMS-encrypted, alarms may publish to it, and
an optional e-mail subscription from the stack's config."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import StackSettings
from infra.names import TOPIC
from infra.policies import topic_policy


@dataclass(frozen=True)
class AlertsArgs:
    settings: StackSettings
    key_arn: pulumi.Input[str]
    """The key the topic is encrypted with."""
    account_id: pulumi.Input[str]


class Alerts(pulumi.ComponentResource):
    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cloud-sync:alerts:Alerts", name, None, opts)
        settings, key_arn, account_id = args.settings, args.key_arn, args.account_id
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=settings.name(TOPIC),
            kms_master_key_id=key_arn,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, account_id).apply(
                lambda v: json.dumps(topic_policy(v[0], v[1]))
            ),
            opts=child,
        )
        if settings.alert_email:
            aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=settings.alert_email,
                opts=child,
            )
        self.register_outputs({"topic": self.topic.arn})
