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

from adapters.aws.errors import aws_call
from domain.errors import StorageError
from domain.model import RunningExecution, RunReport


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

    def start(self, machine: str, provider: str, name: str) -> str:
        """Start an execution of `machine` for `provider`, named `name`: its ARN."""
        with aws_call("Step Functions StartExecution", machine):
            answer = self._sfn.start_execution(
                stateMachineArn=machine, name=name, input=json.dumps({"provider": provider})
            )
        return str(answer["executionArn"])

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


LIST_STATE = "List"
"""The state whose output (`$.listing`) says what the run set out to archive."""
FAILURE_STATE = "DescribeFailure"
"""The state a caught failure goes to (infra/asl.py): the state before it failed."""
HISTORY_EVENTS = 200
"""The newest events read of a failed run (its failure is among the last few)."""


def _object_at(output: str | None, field: str) -> dict[str, Any]:
    """The JSON object at `field` of a state's output (`summary`, `listing`); {} else."""
    try:
        loaded = json.loads(output or "{}")
    except ValueError:
        return {}
    found = loaded.get(field) if isinstance(loaded, dict) else None
    return found if isinstance(found, dict) else {}


def _named(summary: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    named = summary.get("failed")
    if not isinstance(named, list):
        return ()
    return tuple(
        (str(n.get("media_id")), str(n.get("error"))) for n in named if isinstance(n, dict)
    )


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class StepFunctionsRunReports:
    """The workflow's executions as reports: what each did, and why a failed one failed
    (from the execution, its map run and, when it failed, the newest page of its history).
    """

    def __init__(self, client: Any) -> None:
        self._sfn = client
        self._listed: dict[str, tuple[int | None, int | None, dict[str, int] | None]] = {}

    def recent(self, machine: str, limit: int) -> list[RunReport]:
        with aws_call("Step Functions ListExecutions", machine):
            listed = self._sfn.list_executions(stateMachineArn=machine, maxResults=limit)
        return [self.report(e["executionArn"]) for e in listed["executions"][:limit]]

    def report(self, execution: str) -> RunReport:
        with aws_call("Step Functions DescribeExecution", execution):
            described = self._sfn.describe_execution(executionArn=execution)
        summary = _object_at(described.get("output"), "summary")
        total, handled, running = self._progress(execution)
        total_bytes = skipped = None
        if total is not None:  # the listing is done: its count is the true total
            to_sync, total_bytes, skipped = self._to_sync(execution)
            total = to_sync if to_sync is not None else total
        status = str(described["status"])
        state = error = cause = None
        if status not in ("RUNNING", "SUCCEEDED"):
            state, error, cause = self._failure(execution, described)
        return RunReport(
            name=str(described.get("name") or execution.rpartition(":")[2]),
            arn=execution,
            status=status,
            started=described["startDate"],
            stopped=described.get("stopDate"),
            total=total,
            handled=handled,
            running=running,
            total_bytes=total_bytes,
            skipped=skipped,
            videos=_count(summary.get("videos")),
            failures=_count(summary.get("failures")),
            drill=str(summary["drill"])[:500] if isinstance(summary.get("drill"), str) else None,
            failed=_named(summary),
            failed_state=state,
            error=error,
            cause=cause,
        )

    def _progress(self, execution: str) -> tuple[int | None, int, int]:
        """(videos in the run's map, handled, in progress); the map may not exist yet."""
        with aws_call("Step Functions ListMapRuns", execution):
            runs = self._sfn.list_map_runs(executionArn=execution, maxResults=1)["mapRuns"]
        if not runs:
            return None, 0, 0
        with aws_call("Step Functions DescribeMapRun", runs[0]["mapRunArn"]):
            counts = self._sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
        done = sum(counts.get(k, 0) for k in ("succeeded", "failed", "aborted", "timedOut"))
        return counts.get("total", 0), done, counts.get("running", 0)

    def _newest_events(self, execution: str) -> list[dict[str, Any]]:
        """The execution's newest history events, newest first (moto ignores
        `reverseOrder`; the sort makes both answers the same)."""
        with aws_call("Step Functions GetExecutionHistory", execution):
            events = self._sfn.get_execution_history(
                executionArn=execution, reverseOrder=True, maxResults=HISTORY_EVENTS
            )["events"]
        return sorted(events, key=lambda e: -int(e.get("id", 0)))

    def _to_sync(self, execution: str) -> tuple[int | None, int | None, dict[str, int] | None]:
        """The listing's `to_sync`, `to_sync_bytes` and `skipped`, from the List state's
        output (read once): the Map run's own total counts only the items it has read so far."""
        if execution not in self._listed:
            found: tuple[int | None, int | None, dict[str, int] | None] = (None, None, None)
            for event in self._newest_events(execution):
                details = event.get("stateExitedEventDetails") or {}
                if details.get("name") == LIST_STATE:
                    listing = _object_at(details.get("output"), "listing")
                    skipped = listing.get("skipped")
                    found = (
                        _count(listing.get("to_sync")),
                        _count(listing.get("to_sync_bytes")),
                        {
                            str(reason): count
                            for reason, count in skipped.items()
                            if isinstance(count, int) and not isinstance(count, bool)
                        }
                        if isinstance(skipped, dict)
                        else None,
                    )
                    break
            self._listed[execution] = found
        return self._listed[execution]

    def _failure(
        self, execution: str, described: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None]:
        """The state that failed and the error it caught: the newest events, read back to
        the failure the workflow caught (or the last state entered, when none was)."""
        events = self._newest_events(execution)
        entered = [
            (e["stateEnteredEventDetails"]["name"], e["stateEnteredEventDetails"].get("input"))
            for e in events
            if "stateEnteredEventDetails" in e
        ]
        for position, (name, data) in enumerate(entered):
            if name != FAILURE_STATE:
                continue
            caught = _caught(data)
            before = next((n for n, _ in entered[position + 1 :] if n != FAILURE_STATE), None)
            if caught is not None:
                return before, caught[0], caught[1]
        last = entered[0][0] if entered else None
        return last, described.get("error"), described.get("cause")


def _caught(data: str | None) -> tuple[str | None, str | None] | None:
    """The error a Catch put at `$.error` in a state's input."""
    try:
        loaded = json.loads(data or "{}")
    except ValueError:
        return None
    error = loaded.get("error") if isinstance(loaded, dict) else None
    if not isinstance(error, dict):
        return None
    return error.get("Error"), _cause(error.get("Cause"))


def _cause(cause: Any) -> str | None:
    """A Lambda function's error comes as `{"errorType", "errorMessage", …}`: its message."""
    if not isinstance(cause, str):
        return None
    try:
        told = json.loads(cause)
    except ValueError:
        return cause
    message = told.get("errorMessage") if isinstance(told, dict) else None
    return message if isinstance(message, str) else cause
