"""The nightly trigger (R6.1): EventBridge Scheduler starts the state machine with
`{"provider": "gopro"}` every day at 02:00 CET, retrying a failed start."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra.config import StackSettings
from infra.policies import assume_role_for_account, scheduler_policy
from infra.schedule import NIGHTLY


class Schedule(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        machine_arn: pulumi.Input[str],
        account_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("cloud-sync:schedule:Schedule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.from_input(account_id).apply(
                lambda account: json.dumps(
                    assume_role_for_account("scheduler.amazonaws.com", account)
                )
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.from_input(machine_arn).apply(
                lambda arn: json.dumps(scheduler_policy(arn))
            ),
            opts=child,
        )
        self.schedule = aws.scheduler.Schedule(
            f"{name}-nightly",
            name=settings.name("gopro-sync-nightly"),
            schedule_expression=NIGHTLY.expression,
            schedule_expression_timezone=NIGHTLY.timezone,
            flexible_time_window={"mode": "OFF"},
            target={
                "arn": machine_arn,
                "role_arn": role.arn,
                "input": json.dumps({"provider": "gopro"}),
                "retry_policy": {
                    "maximum_retry_attempts": 3,
                    "maximum_event_age_in_seconds": 3600,
                },
            },
            opts=child,
        )
        self.register_outputs({"schedule": self.schedule.name})
