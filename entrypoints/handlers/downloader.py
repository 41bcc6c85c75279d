"""Video Downloader (R3): one video per invocation.

Returns `status`: `completed` (stored now or before), `busy` (another execution holds it),
`continue` (the invocation's time ran short: call again, the upload resumes where it
stopped) or `failed`. A failure says whether to `retry` and after how many seconds: the
state machine waits (R8.1: three retries, 30 s doubling), not the Lambda.
"""

from __future__ import annotations

from typing import Any

from domain.transfer import TransferResult, transfer_video
from entrypoints.container import lease, origin_policy, transfer_ports
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
        outcome = transfer_video(
            media_id,
            worker,
            transfer_ports(container, provider),
            lease(settings),
            should_pause=lambda: context.get_remaining_time_in_millis() < margin_ms,
            origin=origin_policy(settings),
        )
        retry = outcome.retryable and attempt < MAX_RETRIES
        return {
            "media_id": media_id,
            "status": STATUS[outcome.result],
            "key": outcome.object_key,
            "error": outcome.error,
            "retry": retry,
            "retry_after_seconds": int(settings.retry_base_seconds * 2**attempt) if retry else 0,
            "attempt": attempt,
        }
