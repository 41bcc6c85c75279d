"""The orchestrator `gopro-sync-orchestrator`: a Standard state machine built from
infra/asl.py, logging errors (without execution data) and traced with X-Ray."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.asl import WorkflowTargets, state_machine_definition
from infra.config import StackSettings
from infra.names import MACHINE
from infra.policies import assume_role_for_account, state_machine_policy


def machine_arn(
    settings: StackSettings, region: pulumi.Input[str], account_id: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The state machine's ARN, from its name: roles must name it before it exists."""
    return pulumi.Output.format(
        "arn:aws:states:{0}:{1}:stateMachine:{2}", region, account_id, settings.name(MACHINE)
    )


@dataclass(frozen=True)
class WorkflowArgs:
    settings: StackSettings
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    authenticator_arn: pulumi.Input[str]
    lister_arn: pulumi.Input[str]
    downloader_arn: pulumi.Input[str]
    summary_arn: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]


class Workflow(pulumi.ComponentResource):
    def __init__(self, name: str, args: WorkflowArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cloud-sync:workflow:Workflow", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        machine_name = args.settings.name(MACHINE)
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/vendedlogs/states/{machine_name}",
            retention_in_days=args.settings.log_retention_days,
            opts=child,
        )
        self.machine_arn = machine_arn(args.settings, args.region, args.account_id)
        executions = pulumi.Output.format(
            "arn:aws:states:{0}:{1}:execution:{2}", args.region, args.account_id, machine_name
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(assume_role_for_account("states.amazonaws.com", account))
            ),
            opts=child,
        )
        functions = [
            args.authenticator_arn, args.lister_arn, args.downloader_arn, args.summary_arn
        ]  # fmt: skip
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                *functions,
                args.topic_arn,
                args.key_arn,
                args.bucket_arn,
                self.machine_arn,
                executions,
            ).apply(
                lambda v: json.dumps(
                    state_machine_policy(
                        function_arns=list(v[:4]),
                        topic_arn=v[4],
                        key_arn=v[5],
                        bucket_arn=v[6],
                        state_machine_arn=v[7],
                        executions_arn=v[8],
                    )
                )
            ),
            opts=child,
        )
        definition = pulumi.Output.all(*functions, args.topic_arn, args.bucket_name).apply(
            lambda v: json.dumps(state_machine_definition(WorkflowTargets(*v)), indent=1)
        )
        self.machine = aws.sfn.StateMachine(
            f"{name}-machine",
            name=machine_name,
            type="STANDARD",
            role_arn=role.arn,
            definition=definition,
            logging_configuration={
                "level": "ERROR",
                "include_execution_data": False,
                "log_destination": logs.arn.apply(lambda arn: f"{arn}:*"),
            },
            tracing_configuration={"enabled": True},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs({"state_machine": self.machine.arn})
