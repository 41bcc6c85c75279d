"""Media Lister (R1): list the library, record new videos as PENDING, and keep the ids to
sync in a run list in S3; and, after the downloads, summarize the run from the tracker.

The workflow's state never holds the ids: 100,000 of them are ten times Step Functions'
256 KiB limit. It holds where the list is.

`step: "list"` (the default) first, when it is the run's first call and names its
`execution`, ends as `status: "skipped"` (with `held_by`) when an earlier run of the same
provider is still running (domain.one_run). Then it reads pages from `cursor.resume` until
the library ends or the
invocation's time runs short, writes the ids it chose as one part of the run list, and
answers `status: "continue"` with the next cursor, or `status: "done"` with the sealed
list's `bucket`, `key` and `to_sync` count. The counts (`listed`, `new_records`, `skipped`)
are the run's so far.

`step: "summarize"` reads the sealed list and the videos' records and answers `videos` and
`failures` (the videos not archived), which the partial-failure alert reports, and the
`origin` checks' counts: several refused and none matched judges GoPro's ETags not to be
content hashes (domain.etag_review: one alert, sent from here). It then
rewrites the catalog (`catalog/{provider}.csv`) from the tracker's COMPLETED records (a
record that cannot be read is skipped, and named as an `unreadable` discrepancy) and,
unless NIGHTLY_VERIFY is false, checks every object's presence and size in the archive's
listing and the objects of a rotating thirtieth of the archive (HeadObject, 16 at a time;
tonight's new objects were read back when stored), answering `verified`, `discrepancies` and a
`report` naming the first ten, which the discrepancy alert sends.

The summary watches its deadline as the listing does: counting a long run list goes on in
the next invocation (`status: "continue"` with a `cursor`: the phase, the position and the
counts so far), the catalog and the check start in an invocation of their own when counting
left less than CATALOG_BUDGET_SECONDS, and the check's HeadObjects stop at the deadline
margin (`deferred`: the slice's objects left for its next turn). It ends `status: "done"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from domain.audit import Finding, NightlyCheck, nightly_check, unreadable_record
from domain.catalog import write_catalog
from domain.etag_review import review_etags
from domain.keys import archive_prefix
from domain.model import ManifestLocation
from domain.one_run import holder
from domain.ports import RunManifest
from domain.services import RunSummary, discover, summarize
from entrypoints.container import Container, media_source
from entrypoints.handlers.runtime import BadEventError, LambdaContext, invocation, text, whole


def _cursor(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The event's cursor, checked; a first call has none."""
    cursor = fields.get("cursor")
    if cursor is None:
        return {"resume": None, "parts": 0, "listed": 0, "new_records": 0, "skipped": {}}
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
    }


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
    margin_ms = container.settings().deadline_margin_seconds * 1000
    outcome = discover(
        provider,
        media_source(container, provider),
        container.tracker(),
        container.clock(),
        container.policy(),
        metrics=container.metrics(),
        start=cursor["resume"],
        should_stop=lambda: context.get_remaining_time_in_millis() < margin_ms,
    )
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
    }
    counts = {k: progress[k] for k in ("listed", "new_records", "skipped")}
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
        **counts,
    }


REPORT_LINES = 10
"""Discrepancies named in the answer (and so in the alert); the count is always whole."""
FRESH = timedelta(days=1)
"""Tonight, for a summary whose event does not say when its execution started: objects
stored since are not described by the nightly check (each was read back from S3 when it
was stored)."""
CATALOG_BUDGET_SECONDS = 180
"""The time the catalog and the nightly check are started with: less left after counting,
and they run in the next invocation."""


def _summary_cursor(fields: Mapping[str, Any]) -> tuple[str, int, RunSummary]:
    """(phase, position, counts so far) from the event's cursor; a first call has none."""
    cursor = fields.get("cursor")
    if cursor is None:
        return "count", 0, RunSummary(0, 0)
    if not isinstance(cursor, Mapping):
        raise BadEventError(f"event field 'cursor' must be an object or null, got {cursor!r:.60}")
    phase = text(cursor, "phase")
    if phase not in ("count", "catalog"):
        raise BadEventError(
            f"event field 'cursor.phase' must be 'count' or 'catalog', got {phase!r:.60}"
        )
    counts = RunSummary(
        whole(cursor, "videos", 0),
        whole(cursor, "failures", 0),
        whole(cursor, "matched", 0),
        whole(cursor, "mismatched", 0),
    )
    return phase, whole(cursor, "position", 0), counts


def _started(fields: Mapping[str, Any]) -> datetime | None:
    """When the execution started (`started`, ISO 8601, as Step Functions gives it)."""
    if fields.get("started") is None:
        return None
    value = text(fields, "started")
    try:
        started = datetime.fromisoformat(value)
    except ValueError:
        raise BadEventError(
            f"event field 'started' must be an ISO 8601 time, got {value!r:.60}"
        ) from None
    if started.tzinfo is None:
        raise BadEventError(f"event field 'started' must carry its time zone, got {value!r:.60}")
    return started


def _summarize(
    container: Container, fields: Mapping[str, Any], provider: str, context: LambdaContext
) -> dict[str, Any]:
    location = ManifestLocation(text(fields, "bucket"), text(fields, "key"), 0)
    phase, position, summary = _summary_cursor(fields)
    started = _started(fields)
    margin_ms = container.settings().deadline_margin_seconds * 1000

    def short() -> bool:
        return context.get_remaining_time_in_millis() < margin_ms

    now = container.clock().now()
    tracker = container.tracker()
    if phase == "count":
        manifest: RunManifest = container.manifest()
        summary, resume = summarize(
            manifest.read(location), tracker, now, start=position, so_far=summary, should_stop=short
        )
        if (
            resume is not None
            or context.get_remaining_time_in_millis() < CATALOG_BUDGET_SECONDS * 1000
        ):
            cursor = {
                "phase": "count" if resume is not None else "catalog",
                "position": resume or 0,
                "videos": summary.videos,
                "failures": summary.failures,
                "matched": summary.origin_matched,
                "mismatched": summary.origin_mismatched,
            }
            return {"status": "continue", "cursor": cursor}
    etags = review_etags(
        provider,
        summary.origin_matched,
        summary.origin_mismatched,
        container.verdicts(),
        container.notifier(),
    )
    records = list(tracker.completed(provider))
    found = [
        unreadable_record(media_id, why) for media_id, why in sorted(tracker.unreadable().items())
    ]
    store = container.store()
    present = store.sizes(archive_prefix(provider))
    catalog_rows = write_catalog(provider, records, present, container.catalog())
    check = NightlyCheck(0, [])
    if container.settings().nightly_verify:
        check = nightly_check(
            records,
            store,
            now.toordinal(),
            present,
            should_stop=short,
            stored_since=started or now - FRESH,
        )
        found += check.discrepancies
    report = "; ".join(d.line() for d in found[:REPORT_LINES])
    if len(found) > REPORT_LINES:
        report += f"; and {len(found) - REPORT_LINES} more (cloudsync verify lists them all)"
    return {
        "status": "done",
        "cursor": None,
        "videos": summary.videos,
        "failures": summary.failures,
        "catalog_rows": catalog_rows,
        "verified": check.described,
        "deferred": check.deferred,
        "discrepancies": len(found),
        "unreadable_records": sum(d.finding is Finding.UNREADABLE for d in found),
        "origin": {
            "matched": summary.origin_matched,
            "mismatched": summary.origin_mismatched,
            "etags": etags or "unchanged",
        },
        "report": report[:2000] or "none",
    }


def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    with invocation(event, context, "lister") as (container, fields, provider):
        step = fields.get("step", "list")
        if step == "list":
            return _list(container, fields, provider, context)
        if step == "summarize":
            return _summarize(container, fields, provider, context)
        raise BadEventError(f"event field 'step' must be 'list' or 'summarize', got {step!r:.60}")
