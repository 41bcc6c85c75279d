"""Video Downloader (R3): one video per invocation.

Returns `status`: `completed` (stored now or before), `busy` (another execution holds it),
`continue` (the invocation's time ran short: call again, the upload resumes where it
stopped) or `failed`. A failure says whether to `retry` and after how many seconds: the
state machine waits (R8.1: three retries, 30 s doubling), not the Lambda. An archived
video's thumbnail is then tried once (`thumbnail`: `kept`, `failed`, or null when there is
nothing to do); it never changes the status.
"""

from __future__ import annotations

from typing import Any

from domain.credentials import Credentials
from domain.thumbnails import wants_thumbnail
from domain.transfer import TransferPorts, TransferResult, transfer_video
from entrypoints.container import (
    Container,
    lease,
    load_credentials,
    origin_policy,
    report_source_changes,
    thumbnail_keeper,
    transfer_ports,
)
from entrypoints.handlers.runtime import LambdaContext, invocation, text, whole

MAX_RETRIES = 3
STATUS = {
    TransferResult.COMPLETED: "completed",
    TransferResult.ALREADY_ARCHIVED: "completed",
    TransferResult.BUSY: "busy",
    TransferResult.PAUSED: "continue",
    TransferResult.FAILED: "failed",
}


def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    with invocation(event, context, "downloader") as (container, fields, provider):
        media_id = text(fields, "media_id")
        attempt = whole(fields, "attempt", 0)
        worker = text(fields, "worker")
        settings = container.settings()
        margin_ms = settings.deadline_margin_seconds * 1000
        credentials = load_credentials(container, provider)  # once: the video and its thumbnail
        ports = transfer_ports(container, provider, credentials)
        outcome = transfer_video(
            media_id,
            worker,
            ports,
            lease(settings),
            should_pause=lambda: context.get_remaining_time_in_millis() < margin_ms,
            origin=origin_policy(settings),
        )
        retry = outcome.retryable and attempt < MAX_RETRIES
        report_source_changes(container, provider, ports.source)
        thumbnail = None
        if outcome.result in (TransferResult.COMPLETED, TransferResult.ALREADY_ARCHIVED):
            thumbnail = _thumbnail(container, ports, provider, media_id, credentials)
        return {
            "media_id": media_id,
            "status": STATUS[outcome.result],
            "key": outcome.object_key,
            "error": outcome.error,
            "retry": retry,
            "retry_after_seconds": int(settings.retry_base_seconds * 2**attempt) if retry else 0,
            "attempt": attempt,
            "thumbnail": thumbnail,
        }


def _thumbnail(
    container: Container,
    ports: TransferPorts,
    provider: str,
    media_id: str,
    credentials: Credentials,
) -> str | None:
    """The archived video's thumbnail, tried once now (`kept`, `failed`); a failure leaves
    it to the next night's listing. None: nothing to do."""
    record = ports.tracker.get(media_id)
    if record is None or not wants_thumbnail(record, record.item):
        return None
    keeper = thumbnail_keeper(container, provider, credentials, 1)
    if keeper is None:
        return None
    keeper.keep(record, record.item)
    return "kept" if keeper.tally.kept else "failed"
