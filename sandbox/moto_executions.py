"""Executions as AWS shows them, in two shims of moto's executing Step Functions backend
(the version sandbox.lambda_dispatch names):

- StartExecution without a `name`: moto keeps the name it is given, None included, so an
  execution started as the reference README starts one (`aws stepfunctions
  start-execution --state-machine-arn … --input …`, no `--name`) would run with a null
  `$$.Execution.Name`. AWS generates a UUID; so does this.
- ListMapRuns of an execution whose interpreter has not started (or has let go of its
  environment): moto fails inside (a 500 and a traceback on the server's terminal); AWS
  answers an empty list. So does this.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

_ORIGINAL = StepFunctionsParserBackend.start_execution


@functools.wraps(_ORIGINAL)
def _named(
    self: StepFunctionsParserBackend, state_machine_arn: str, name: Any = None, *rest: Any,
    **more: Any,
) -> Any:  # fmt: skip
    return _ORIGINAL(self, state_machine_arn, name or str(uuid.uuid4()), *rest, **more)


_LIST_MAP_RUNS = StepFunctionsParserBackend.list_map_runs


@functools.wraps(_LIST_MAP_RUNS)
def _map_runs(self: StepFunctionsParserBackend, execution_arn: str) -> dict[str, Any]:
    execution = self.describe_execution(execution_arn=execution_arn)
    worker = getattr(execution, "exec_worker", None)
    if worker is None or getattr(worker, "env", None) is None:
        return {"mapRuns": []}
    return _LIST_MAP_RUNS(self, execution_arn)


def install() -> None:
    """Name every unnamed execution, and list no map run before there can be one
    (idempotent)."""
    StepFunctionsParserBackend.start_execution = _named  # type: ignore[method-assign]
    StepFunctionsParserBackend.list_map_runs = _map_runs  # type: ignore[method-assign]
