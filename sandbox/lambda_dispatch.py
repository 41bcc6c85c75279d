"""Run Lambda functions in-process for moto's Step Functions interpreter.

moto executes a state machine's Task states by invoking Lambda through its own backend;
without Docker (`mock_aws(config={"lambda": {"use_docker": False}})`) that backend only
echoes. While `dispatch_lambdas()` is active, an invocation instead imports the function's
configured handler (`Handler`, e.g. `entrypoints.handlers.lister.handler`) and calls it
with the event and a context whose remaining time follows the function's `Timeout`: on
the invocation's modeled clock (sandbox.latency), which stops the invocation as Lambda
does when it passes the timeout, unless `dispatch_lambdas(model=None)` (this machine's
time). An
exception becomes a function error `{"errorType": <class name>, "errorMessage": …}`, as
Lambda reports it, so the definition's Retry and Catch see the same error names.

moto has no public hook for this: the shim replaces `LambdaSimpleBackend.invoke`, checked
against the moto version it was written for. `check_moto()` fails loudly when moto changes.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import moto
from moto.awslambda_simple.models import LambdaSimpleBackend

from sandbox.aws_calls import CallLedger, calling_function, record_calls
from sandbox.latency import (
    TYPICAL,
    InvocationClock,
    InvocationKilledError,
    LatencyModel,
    invocation_clock,
)
from sandbox.latency import keep_time as charging

TESTED_MOTO = "5.2.5"
EXPECTED_PARAMETERS = ["self", "function_name", "qualifier", "body", "headers", "response_headers"]


class MotoChangedError(RuntimeError):
    """The moto in use is not the one this shim was written and tested for."""


def check_moto() -> None:
    parameters = list(inspect.signature(LambdaSimpleBackend.invoke).parameters)
    if moto.__version__ != TESTED_MOTO or parameters != EXPECTED_PARAMETERS:
        raise MotoChangedError(
            f"sandbox.lambda_dispatch was written for moto {TESTED_MOTO} whose "
            f"LambdaSimpleBackend.invoke takes {EXPECTED_PARAMETERS}; found moto "
            f"{moto.__version__} taking {parameters}. Check the shim against the new moto, "
            "then update TESTED_MOTO."
        )


@dataclass
class LocalContext:
    """The parts of Lambda's context object the handlers use."""

    function_name: str
    aws_request_id: str
    deadline: float
    clock: InvocationClock | None = None
    """The modeled clock, when time is kept; else the deadline is this machine's."""

    def get_remaining_time_in_millis(self) -> int:
        if self.clock is not None:
            return int(self.clock.remaining() * 1000)
        return int(max(0.0, self.deadline - time.monotonic()) * 1000)


@dataclass
class Invocation:
    function_name: str
    event: Any
    result: Any = None
    error: str | None = None
    modeled_seconds: float | None = None
    """What the invocation took on its modeled clock (None when time is not kept)."""
    calls: int = 0
    """The AWS and GoPro requests it made (counted when time is kept)."""
    timeout: float = 0.0


KILLED_ERROR = "Sandbox.Timedout"


_PROJECT = Path(__file__).resolve().parents[1]
_OURS = tuple(str(_PROJECT / package) + os.sep for package in ("domain", "adapters", "entrypoints"))


def _ours(filename: str) -> bool:
    return filename.startswith(_OURS)


@dataclass
class Dispatcher:
    """Records every invocation and the most that ran at once, per function."""

    invocations: list[Invocation] = field(default_factory=list)
    aws: CallLedger = field(default_factory=CallLedger)
    """The AWS calls each function made (sandbox.aws_calls)."""
    running: dict[str, int] = field(default_factory=dict)
    most_at_once: dict[str, int] = field(default_factory=dict)
    model: LatencyModel | None = TYPICAL
    """The latencies charged to each invocation's clock; None: this machine's time."""
    kills: dict[str, float] = field(default_factory=dict)
    """Media id -> seconds into the next invocation for it at which that invocation dies
    (once): a crash at a moment nobody chose, as a timeout or lost sandbox is."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, function_name: str) -> list[Invocation]:
        with self._lock:
            return [i for i in self.invocations if i.function_name == function_name]

    def _enter(self, name: str) -> None:
        with self._lock:
            self.running[name] = self.running.get(name, 0) + 1
            self.most_at_once[name] = max(self.most_at_once.get(name, 0), self.running[name])

    def _leave(self, name: str) -> None:
        with self._lock:
            self.running[name] -= 1

    def invoke(
        self,
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        function = backend.get_function(function_name, qualifier)
        module_name, _, attribute = str(function.handler).rpartition(".")
        handler: Callable[[Any, Any], Any] = getattr(
            importlib.import_module(module_name), attribute
        )
        event = json.loads(body) if isinstance(body, str | bytes) and body else (body or {})
        timeout = float(function.timeout)
        record = Invocation(function.function_name, event, timeout=timeout)
        clock = None if self.model is None else InvocationClock(timeout, self.model)
        context = LocalContext(
            function.function_name, str(uuid.uuid4()), time.monotonic() + timeout, clock
        )
        timing = invocation_clock.set(clock)
        with self._lock:
            self.invocations.append(record)
        self._enter(function.function_name)
        caller = calling_function.set(function.function_name)
        media_id = event.get("media_id") if isinstance(event, dict) else None
        with self._lock:
            kill_after = self.kills.pop(media_id, None) if isinstance(media_id, str) else None
        try:
            record.result = self._run(handler, event, context, kill_after)
            if clock is not None and clock.dead:  # its own code swallowed the death
                raise InvocationKilledError("timed out")
            return json.dumps(record.result).encode()
        except InvocationKilledError:
            record.error = KILLED_ERROR
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = {"errorType": KILLED_ERROR, "errorMessage": "the invocation died"}
            return json.dumps(payload).encode()
        except Exception as error:
            record.error = type(error).__name__
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = {"errorType": type(error).__name__, "errorMessage": str(error)}
            return json.dumps(payload).encode()
        finally:
            if clock is not None:
                record.modeled_seconds, record.calls = clock.elapsed(), clock.calls
            invocation_clock.reset(timing)
            calling_function.reset(caller)
            self._leave(function.function_name)

    def _run(
        self,
        handler: Callable[[Any, Any], Any],
        event: Any,
        context: LocalContext,
        kill_after: float | None,
    ) -> Any:
        """The handler's result; with `kill_after`, it dies that many seconds in, at the
        next line of the project's own code it runs (never inside a library, where a lock
        may be held: the sandbox's process, unlike a Lambda's, goes on after the death)."""
        if kill_after is None:
            return handler(event, context)
        deadline = time.monotonic() + kill_after
        fired = [False]

        def line(frame: FrameType, what: str, arg: object) -> Any:
            if what == "line" and not fired[0] and time.monotonic() >= deadline:
                fired[0] = True
                raise InvocationKilledError(f"killed {kill_after:.3f}s in")
            return line

        def scope(frame: FrameType, what: str, arg: object) -> Any:
            return line if not fired[0] and _ours(frame.f_code.co_filename) else None

        sys.settrace(scope)
        try:
            return handler(event, context)
        finally:
            sys.settrace(None)


@contextmanager
def dispatch_lambdas(model: LatencyModel | None = TYPICAL) -> Iterator[Dispatcher]:
    """While active, Lambda invocations in moto run the real handlers in this process,
    each on a clock charged with `model`'s latencies (None: on this machine's time)."""
    check_moto()
    ledger = ExitStack()
    dispatcher = Dispatcher(aws=ledger.enter_context(record_calls()), model=model)
    if model is not None:
        ledger.enter_context(charging())
    original = LambdaSimpleBackend.invoke

    def invoke(  # noqa: PLR0917 - moto's signature
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        return dispatcher.invoke(self, function_name, qualifier, body, response_headers)

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    try:
        yield dispatcher
    finally:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]
        ledger.close()
