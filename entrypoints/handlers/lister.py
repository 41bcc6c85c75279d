"""Media Lister (R1): list the library, record new videos as PENDING, and keep the ids to
sync in a run list in S3. (After the downloads, the run summary function,
entrypoints.handlers.summary, says how the run ended.)

The workflow's state never holds the ids: 100,000 of them are ten times Step Functions'
256 KiB limit. It holds where the list is.

`step: "list"` (the default) first, when it is the run's first call and names its
`execution`, ends as `status: "skipped"` (with `held_by`) when an earlier run of the same
provider is still running (domain.one_run). Then it reads pages from `cursor.resume` until
the library ends or the
invocation's time runs short, writes the ids it chose as one part of the run list, and
answers `status: "continue"` with the next cursor, or `status: "done"` with the sealed
list's `bucket`, `key`, `to_sync` count and `to_sync_bytes` (the listed sizes). The counts
(`listed`, `new_records`, `skipped`, and `thumbnails` kept and failed for archived videos
that had none) are the run's so far.

"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.one_run import holder
from domain.ports import RunManifest
from domain.services import discover
from entrypoints.container import (
    Container,
    load_credentials,
    media_source,
    report_source_changes,
    thumbnail_keeper,
)
from entrypoints.handlers.runtime import BadEventError, LambdaContext, invocation, text, whole


def _cursor(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The event's cursor, checked; a first call has none."""
    cursor = fields.get("cursor")
    if cursor is None:
        return {
            "resume": None, "parts": 0, "listed": 0, "new_records": 0, "skipped": {}, "bytes": 0,
            "thumbnails": _tally(None), "provider_changes": 0,
        }  # fmt: skip
    if not isinstance(cursor, Mapping):
        raise BadEventError(f"event field 'cursor' must be an object or null, got {cursor!r:.60}")
    resume = cursor.get("resume")
    if resume is not None:
        resume = text(cursor, "resume")
    skipped = cursor.get("skipped", {})
    if not isinstance(skipped, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in skipped.items()
    ):
        raise BadEventError(
            f"event field 'cursor.skipped' must map reasons to counts, got {skipped!r:.60}"
        )
    return {
        "resume": resume,
        "parts": whole(cursor, "parts", 0),
        "listed": whole(cursor, "listed", 0),
        "new_records": whole(cursor, "new_records", 0),
        "skipped": dict(skipped),
        "bytes": whole(cursor, "bytes", 0),
        "thumbnails": _tally(cursor.get("thumbnails")),
        "provider_changes": whole(cursor, "provider_changes", 0),
    }


def _tally(value: object) -> dict[str, int]:
    """The cursor's thumbnail counts (kept, failed); a cursor of before they existed has none."""
    if value is None:
        return {"kept": 0, "failed": 0}
    if not isinstance(value, Mapping):
        raise BadEventError(f"event field 'cursor.thumbnails' must be an object, got {value!r:.60}")
    return {name: whole(value, name, 0) for name in ("kept", "failed")}


def _list(
    container: Container, fields: Mapping[str, Any], provider: str, context: LambdaContext
) -> dict[str, Any]:
    run = text(fields, "correlation_id")
    cursor = _cursor(fields)
    if fields.get("cursor") is None and "execution" in fields:
        held = holder(container.runs(), text(fields, "execution"), provider)
        if held is not None:  # one run of a library at a time (domain.one_run)
            return {
                "provider": provider,
                "status": "skipped",
                "held_by": held.name,
                "reason": f"run {held.name}, started {held.started_at.isoformat()}, "
                f"holds the {provider} library",
            }
    settings = container.settings()
    margin_ms = settings.deadline_margin_seconds * 1000
    credentials = load_credentials(container, provider)  # once: the listing and thumbnails
    source = media_source(container, provider, credentials)
    keeper = thumbnail_keeper(container, provider, credentials, settings.thumbnails_per_invocation)
    try:
        outcome = discover(
            provider,
            source,
            container.tracker(),
            container.clock(),
            container.policy(),
            metrics=container.metrics(),
            start=cursor["resume"],
            should_stop=lambda: context.get_remaining_time_in_millis() < margin_ms,
            thumbnails=keeper,
        )
    finally:  # also when a page GoPro changed ended the listing
        changed = report_source_changes(container, provider, source)
    tally = keeper.tally.as_dict() if keeper else {}
    manifest: RunManifest = container.manifest()
    manifest.add(run, cursor["parts"], outcome.media_ids)
    skipped = dict(cursor["skipped"])
    for reason, count in outcome.skipped.items():
        skipped[reason.value] = skipped.get(reason.value, 0) + count
    progress = {
        "resume": outcome.resume,
        "parts": cursor["parts"] + 1,
        "listed": cursor["listed"] + outcome.listed,
        "new_records": cursor["new_records"] + outcome.new_records,
        "skipped": skipped,
        "bytes": cursor["bytes"] + outcome.size_bytes,
        "thumbnails": {
            name: cursor["thumbnails"][name] + tally.get(name, 0) for name in ("kept", "failed")
        },
        "provider_changes": whole(cursor, "provider_changes", 0) + changed,
    }
    counts = {
        k: progress[k]
        for k in ("listed", "new_records", "skipped", "thumbnails", "provider_changes")
    }
    if outcome.resume is not None:
        return {"provider": provider, "status": "continue", "cursor": progress, **counts}
    location = manifest.seal(run, progress["parts"])
    return {
        "provider": provider,
        "status": "done",
        "cursor": None,
        "bucket": location.bucket,
        "key": location.key,
        "to_sync": location.count,
        "to_sync_bytes": progress["bytes"],
        **counts,
    }


def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    with invocation(event, context, "lister") as (container, fields, provider):
        step = fields.get("step", "list")
        if step != "list":
            raise BadEventError(
                f"event field 'step' must be 'list' (the summary is the run-summary "
                f"function's), got {step!r:.60}"
            )
        return _list(container, fields, provider, context)
