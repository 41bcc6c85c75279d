"""Executions named as AWS names them: StartExecution without a `name` gets a UUID.

moto's executing Step Functions backend (the version sandbox.lambda_dispatch names) keeps
the name it is given, None included, so an execution started as the reference README
starts one (`aws stepfunctions start-execution --state-machine-arn … --input …`, no
`--name`) would run with a null `$$.Execution.Name`. AWS generates a UUID; so does this.
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


def install() -> None:
    """Name every unnamed execution (idempotent)."""
    StepFunctionsParserBackend.start_execution = _named  # type: ignore[method-assign]
