"""One GoPro API call with bounded retries (tenacity): timeouts, connection errors, 5xx and
429 are retried, honouring Retry-After; everything else is answered at once."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from adapters.gopro.errors import redact
from adapters.gopro.settings import MEDIA_ACCEPT, GoProSettings
from domain.credentials import Credentials
from domain.errors import TransientSourceError

log = logging.getLogger("cloudsync.gopro")


class RetryableStatus(Exception):
    """A 5xx or 429 answer, raised so tenacity retries it."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.retry_after = retry_after_seconds(response)
        super().__init__(f"HTTP {self.status}")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the delta form; the date form is treated as absent)."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def check_retry_after(settings: GoProSettings, retry_after: float | None, what: str) -> None:
    """The one rule for every wait, API call or download: a Retry-After longer than a call
    may wait ends the attempt as retryable, so the state machine waits instead of a Lambda
    billed for sleeping."""
    if retry_after is not None and retry_after > settings.retry_max_wait:
        raise TransientSourceError(
            f"GoPro asked to wait {retry_after:g}s before {what}; more than the "
            f"{settings.retry_max_wait:g}s a call may wait (a later attempt tries again)"
        )


def backoff(settings: GoProSettings, attempt: int, retry_after: float | None) -> float:
    """The wait before try `attempt + 1`: Retry-After when given, else doubling."""
    if retry_after is not None:
        return retry_after
    return float(min(settings.retry_max_wait, settings.retry_wait * 2 ** (attempt - 1)))


def _wait(settings: GoProSettings) -> Any:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, RetryableStatus) else None
        return backoff(settings, state.attempt_number, retry_after)

    return wait


def _log_retry(method: str, url: str) -> Any:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s %s: %s, try %d",
            method,
            redact(url),
            error,
            state.attempt_number,
            extra={
                "event_type": "gopro.retry",
                "metadata": {"attempt": state.attempt_number, "fault": str(error)},
            },
        )

    return before_sleep


def api_headers(credentials: Credentials) -> dict[str, str]:
    """Bearer and cookie forms both, as the contract advises."""
    token = credentials.access_token
    headers = {"Accept": MEDIA_ACCEPT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
        cookie = f"gp_access_token={token}"
        if credentials.user_id:
            cookie += f"; gp_user_id={credentials.user_id}"
        headers["Cookie"] = cookie
    return headers


def send(
    client: httpx.Client, settings: GoProSettings, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """Send with retries; the last 5xx/429/transport fault becomes TransientSourceError."""
    retrying = Retrying(
        stop=stop_after_attempt(settings.api_attempts) | stop_after_delay(settings.retry_budget),
        wait=_wait(settings),
        retry=retry_if_exception_type((httpx.TransportError, RetryableStatus)),
        sleep=settings.sleep,
        before_sleep=_log_retry(method, str(client.base_url.join(url))),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                response = client.request(method, url, **kwargs)
                if response.status_code >= 500 or response.status_code == 429:
                    error = RetryableStatus(response)
                    check_retry_after(
                        settings, error.retry_after, f"{method} {redact(response.url)}"
                    )
                    raise error
                return response
    except RetryableStatus as error:
        raise TransientSourceError(
            f"{method} {redact(client.base_url.join(url))} answered HTTP {error.status} "
            f"{settings.api_attempts} times"
        ) from None
    except httpx.TransportError as error:
        raise TransientSourceError(
            f"{method} {redact(client.base_url.join(url))} failed: {type(error).__name__}"
        ) from None
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
