"""Every AWS API call the functions make in the sandbox, with the function that made it.

botocore gives each new session the handlers in `botocore.handlers.BUILTIN_HANDLERS` (moto
hooks in the same way); while `record_calls()` is active, two more are there: one keeps a
call's parameters, one records the call with the HTTP status S3 or any service answered.
The function is the one `calling_function` names in the calling context (the in-process
Lambda dispatch sets it; a thread the function starts must run in a copy of its context).
Calls made by no function (a test's own setup) are not recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from botocore import handlers

calling_function: ContextVar[str | None] = ContextVar("calling_function", default=None)


@dataclass(frozen=True)
class AwsCall:
    function: str
    service: str
    """botocore's service name: s3, dynamodb, secretsmanager, sns, cloudwatch, …"""
    operation: str
    parameters: dict[str, Any]
    status: int


@dataclass
class CallLedger:
    calls: list[AwsCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keep(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["cloud_sync_parameters"] = {
            name: value for name, value in params.items() if name != "Body"
        }

    def _record(self, http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
        function = calling_function.get()
        if function is None:
            return
        call = AwsCall(
            function=function,
            service=model.service_model.service_name,
            operation=model.name,
            parameters=context.get("cloud_sync_parameters", {}),
            status=int(http_response.status_code),
        )
        with self._lock:
            self.calls.append(call)

    def by_function(self, function: str) -> list[AwsCall]:
        with self._lock:
            return [c for c in self.calls if c.function == function]


@contextmanager
def record_calls() -> Iterator[CallLedger]:
    """Record the calls of every botocore session created while active."""
    ledger = CallLedger()
    added = [("before-parameter-build", ledger._keep), ("after-call", ledger._record)]
    handlers.BUILTIN_HANDLERS.extend(added)
    try:
        yield ledger
    finally:
        for handler in added:
            handlers.BUILTIN_HANDLERS.remove(handler)
