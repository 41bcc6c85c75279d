"""StepFunctionsRuns: the workflow's running executions, from Step Functions.

ListExecutions of the execution's own state machine (its ARN is the execution's, with
`stateMachine` for `execution` and without the name), RUNNING only: a handful of pages at
most. Each other execution's input is read (DescribeExecution) for the provider it serves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from domain.errors import StorageError
from domain.model import RunningExecution


def state_machine_of(execution: str) -> str:
    """`arn:…:execution:<machine>:<name>` -> `arn:…:stateMachine:<machine>`."""
    head, marker, rest = execution.partition(":execution:")
    machine, _, name = rest.rpartition(":")
    if not marker or not machine or not name:
        raise StorageError(f"{execution!r} is not a Step Functions execution ARN")
    return f"{head}:stateMachine:{machine}"


class StepFunctionsRuns:
    def __init__(self, client: Any) -> None:
        """`client`: a boto3 Step Functions client."""
        self._sfn = client

    def running(self, execution: str) -> Sequence[RunningExecution]:
        return self.running_in(state_machine_of(execution), execution)

    def running_in(self, machine: str, execution: str = "") -> list[RunningExecution]:
        """The running executions of `machine`; the input of each but `execution` is read."""
        found: list[RunningExecution] = []
        try:
            pages = self._sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine, statusFilter="RUNNING"
            )
            for page in pages:
                for listed in page["executions"]:
                    arn = listed["executionArn"]
                    provider = None if arn == execution else self._provider(arn)
                    found.append(
                        RunningExecution(arn, listed["name"], listed["startDate"], provider)
                    )
        except (ClientError, BotoCoreError) as error:
            raise StorageError(
                f"Step Functions ListExecutions {machine!r} failed: {error}"
            ) from None
        return found

    def _provider(self, execution: str) -> str | None:
        try:
            described = self._sfn.describe_execution(executionArn=execution)
            value = json.loads(described.get("input") or "{}").get("provider")
        except (ClientError, BotoCoreError, ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None
