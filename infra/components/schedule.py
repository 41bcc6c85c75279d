"""The nightly trigger (R6.1): EventBridge Scheduler starts the state machine with
`{"provider": "gopro"}` every day at 02:00 CET, retrying a failed start.

A start that still fails (a deleted state machine, a broken role, throttling for an hour)
would reach nobody: the scheduler puts it in a dead-letter queue, and an alarm on that
queue alerts the topic."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.monitoring import alerting
from infra.config import StackSettings
from infra.names import SCHEDULE, SCHEDULE_DEAD_LETTERS, SCHEDULE_FAILED
from infra.policies import assume_role_for_account, scheduler_policy
from infra.schedule import NIGHTLY


@dataclass(frozen=True)
class ScheduleArgs:
    settings: StackSettings
    machine_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    """Where the dead-letter alarm goes."""


class Schedule(pulumi.ComponentResource):
    def __init__(self, name: str, args: ScheduleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cloud-sync:schedule:Schedule", name, None, opts)
        settings, machine_arn, account_id = args.settings, args.machine_arn, args.account_id
        topic_arn = args.topic_arn
        child = pulumi.ResourceOptions(parent=self)
        self.dead_letters = aws.sqs.Queue(
            f"{name}-dead-letters",
            name=settings.name(SCHEDULE_DEAD_LETTERS),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600,  # the most SQS keeps
            opts=child,
        )
        self.dead_letter_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-start-failed",
            name=settings.name(SCHEDULE_FAILED),
            alarm_description=(
                "The nightly schedule could not start the sync; the failed start is in the "
                "dead-letter queue"
            ),
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letters.name},
            statistic="Maximum",
            period=300,
            **alerting(topic_arn, above=0),
            opts=child,
        )
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
            policy=pulumi.Output.all(machine_arn, self.dead_letters.arn).apply(
                lambda arns: json.dumps(scheduler_policy(arns[0], arns[1]))
            ),
            opts=child,
        )
        self.schedule = aws.scheduler.Schedule(
            f"{name}-nightly",
            name=settings.name(SCHEDULE),
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
                "dead_letter_config": {"arn": self.dead_letters.arn},
            },
            opts=child,
        )
        self.register_outputs({"schedule": self.schedule.name})
