"""The state machine and the functions agree on names: a rename on either side breaks a
test here, not the retries of a real night.

Step Functions matches a function's error by the exact `errorType` Lambda reports (the
exception's class name, no inheritance) and routes on the strings the downloader returns.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from typing import Any

import domain.errors
from entrypoints.handlers import downloader
from infra.asl import TRANSIENT_ERRORS, WorkflowTargets, state_machine_definition

SERVICE_ERRORS = ("Lambda.", "States.", "Sandbox.")
AWS_TRANSIENT = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
    "Sandbox.Timedout",
)
"""What AWS reports for a transient Lambda fault or a timed-out function (moto raises none
of these): each must be retried."""
DEFINITION = state_machine_definition(
    WorkflowTargets("arn:a", "arn:l", "arn:d", "arn:s", "arn:aws:sns:eu-central-1:1:t", "bucket")
)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def routed_statuses() -> set[str]:
    return {
        rule["StringEquals"]
        for rule in walk(DEFINITION)
        if rule.get("Variable") == "$.result.status" and "StringEquals" in rule
    }


def result_fields_read() -> set[str]:
    """Every `$.result.<field>` the definition reads."""
    found: set[str] = set()
    for node in walk(DEFINITION):
        for key, value in node.items():
            if isinstance(value, str) and value.startswith("$.result.") and key != "ResultPath":
                found.add(value.removeprefix("$.result.").split(".")[0])
    return found


def returned_fields() -> set[str]:
    """The keys of the dict the downloader's handler returns, read from its source."""
    tree = ast.parse(inspect.getsource(downloader.handler).lstrip())
    (returned,) = [
        node.value for node in ast.walk(tree) if isinstance(node, ast.Return) and node.value
    ]
    assert isinstance(returned, ast.Dict)
    return {str(key.value) for key in returned.keys if isinstance(key, ast.Constant)}


def test_each_function_error_the_workflow_retries_is_a_retryable_class_of_ours() -> None:
    own = [name for name in TRANSIENT_ERRORS if not name.startswith(SERVICE_ERRORS)]
    assert own, "the workflow retries none of the functions' own errors"
    for name in own:
        error = getattr(domain.errors, name, None)
        assert isinstance(error, type), f"{name} in TRANSIENT_ERRORS names no class"
        assert issubclass(error, domain.errors.DomainError)
        assert error.retryable is True, f"{name} is retried but says it is not retryable"


def test_every_transient_name_aws_reports_is_retried_on_every_task() -> None:
    tasks = [n for n in walk(DEFINITION) if n.get("Type") == "Task" and "Retry" in n]
    assert tasks
    for task in tasks:
        retried = {name for rule in task["Retry"] for name in rule["ErrorEquals"]}
        assert set(AWS_TRANSIENT) <= retried, set(AWS_TRANSIENT) - retried


def test_no_retryable_error_of_ours_escapes_the_retry_list() -> None:
    # Step Functions matches the exact class name: a retryable subclass must be listed too
    retryable = {
        name
        for name, value in vars(domain.errors).items()
        if isinstance(value, type)
        and issubclass(value, domain.errors.DomainError)
        and getattr(value, "retryable", False)
    }
    assert retryable <= set(TRANSIENT_ERRORS), retryable - set(TRANSIENT_ERRORS)
    assert "StorageAccessDeniedError" not in TRANSIENT_ERRORS  # a person must act


def test_the_routed_statuses_are_the_ones_the_downloader_returns() -> None:
    returned = set(downloader.STATUS.values())
    assert routed_statuses() <= returned, routed_statuses() - returned
    # the statuses that must not end the video's branch are routed
    assert {"continue", "failed"} <= routed_statuses()


def test_the_fields_the_workflow_reads_are_the_ones_the_downloader_returns() -> None:
    read = result_fields_read()
    assert {"status", "retry", "retry_after_seconds"} <= read
    assert read <= returned_fields(), read - returned_fields()
