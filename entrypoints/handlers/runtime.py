"""What the three handlers share: the container built once per cold start, event fields
read with clear errors, and the correlation id on every log line."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from adapters.logs import configure_logging, correlation_id
from entrypoints.container import Container
from entrypoints.settings import Settings

_container: Container | None = None
_building = threading.Lock()


class LambdaContext(Protocol):
    function_name: str
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


class BadEventError(ValueError):
    """The event lacks a field or has one of the wrong shape; the message names it."""


def container() -> Container:
    """The process's container: built at the first invocation, reused while warm. Built
    once even when invocations start together on a cold process (as in the sandbox, where
    one process serves every invocation): a second container would open clients of its
    own, and one of them would never be closed."""
    global _container  # noqa: PLW0603 - one composition root per cold start
    with _building:
        if _container is None:
            _container = Container(settings=Settings.from_env(os.environ))
        return _container


def reset_container(replacement: Container | None = None) -> None:
    """Close the cached container's resources and drop (or replace) it, as a new cold
    start would."""
    global _container  # noqa: PLW0603
    with _building:
        if _container is not None:
            _container.shutdown_resources()
        _container = replacement


def text(event: Mapping[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadEventError(f"event field {name!r} must be non-empty text, got {value!r:.60}")
    return value


def whole(event: Mapping[str, Any], name: str, default: int) -> int:
    value = event.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadEventError(f"event field {name!r} must be a whole number >= 0, got {value!r:.60}")
    return value


@contextmanager
def invocation(
    event: object, context: LambdaContext, function: str
) -> Iterator[tuple[Container, Mapping[str, Any], str]]:
    """(container, event, provider) for one invocation, with logging set up."""
    if not isinstance(event, Mapping):
        raise BadEventError(f"the event must be a JSON object, got {type(event).__name__}")
    configure_logging(
        f"{function}:{context.function_name}",
        replace_others="AWS_LAMBDA_FUNCTION_NAME" in os.environ,  # inside Lambda
    )
    token = correlation_id.set(str(event.get("correlation_id") or context.aws_request_id))
    try:
        yield container(), event, text(event, "provider")
    finally:
        correlation_id.reset(token)
