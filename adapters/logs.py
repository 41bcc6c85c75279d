"""Structured JSON logs (R7.6) with secrets kept out.

Each line is one JSON object: `timestamp`, `level`, `correlation_id`, `function_name`,
`event_type`, `message` and `metadata`. Code logs with the standard `logging` module and
says what happened in `extra={"event_type": …, "metadata": {…}}`; this module turns that
into the line.

Before a line is written, every URL loses its query string (signed URLs carry their
credentials there), bearer tokens and `gp_access_token` cookies are masked, and so is
every value registered with `LogRedactor.register` (the tokens and client secret the
process loaded).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, TextIO

MASK = "<redacted>"
correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")

_URL_QUERY = re.compile(r"(https?://[^\s?#\"']+)\?[^\s#\"']*")
_BEARER = re.compile(r"(Bearer\s+)[^\s\"',;]+", re.IGNORECASE)
_COOKIE = re.compile(r"(gp_access_token=)[^\s\"',;]+")
_USERINFO = re.compile(r"(https?://)[^\s/?#@\"']+@")


class LogRedactor:
    """Masks what must never reach a log line."""

    secrets: ClassVar[set[str]] = set()

    @classmethod
    def register(cls, values: Iterable[str | None]) -> None:
        """Mask these values wherever they appear (empty and very short ones are ignored)."""
        cls.secrets.update(value for value in values if value and len(value) >= 6)

    @classmethod
    def scrub(cls, text: str) -> str:
        text = _URL_QUERY.sub(rf"\1?{MASK}", text)
        text = _USERINFO.sub(rf"\1{MASK}@", text)
        text = _BEARER.sub(rf"\1{MASK}", text)
        text = _COOKIE.sub(rf"\1{MASK}", text)
        for secret in sorted(cls.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


class JsonFormatter(logging.Formatter):
    def __init__(self, function_name: str) -> None:
        super().__init__()
        self._function_name = function_name

    def format(self, record: logging.LogRecord) -> str:
        metadata: Any = getattr(record, "metadata", {})
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "correlation_id": correlation_id.get(),
            "function_name": self._function_name,
            "event_type": getattr(record, "event_type", record.name),
            "message": record.getMessage(),
            "metadata": metadata,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return LogRedactor.scrub(json.dumps(line, default=str, ensure_ascii=False))


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs (recognised so it is installed once)."""


def configure_logging(
    function_name: str,
    level: int = logging.INFO,
    replace_others: bool = False,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send the process's log records through the JSON formatter, to `stream` (stderr).

    Installed once: a later call only renames the function. `replace_others` removes the
    handlers already on the root logger (Lambda's runtime installs a plain-text one);
    elsewhere they are left alone.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, _JsonHandler):
            existing.setFormatter(JsonFormatter(function_name))
            return existing
        if replace_others:
            root.removeHandler(existing)
    handler = _JsonHandler(stream)
    handler.setFormatter(JsonFormatter(function_name))
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in ("httpx", "httpcore", "botocore", "urllib3"):  # a line per request
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    return handler
