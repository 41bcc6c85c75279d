"""Run Summary: how a run ended, the catalog, and the nightly check, each invocation
inside its deadline. A function of its own (`run-summary`), with a role of its own: it
reads the tracker and the archive, writes only the catalog and the ETag judgement.

It reads the sealed run list and the videos' records and answers `videos` and `failures`
(the videos not archived), which the partial-failure alert reports, and the `origin`
checks' counts: several refused and none matched judges GoPro's ETags not to be content
hashes (domain.etag_review: one alert, sent from here). It then rewrites the catalog
(`catalog/{provider}.csv`) from the tracker's COMPLETED records (a record that cannot be
read is skipped, and named as an `unreadable` discrepancy) and, unless NIGHTLY_VERIFY is
false, checks every object's presence and size in the archive's listing and the objects of
a rotating thirtieth of the archive (HeadObject, 16 at a time; objects stored since the
execution `started` were read back when stored and are not described again), answering
`verified`, `discrepancies` and a `report` naming the first ten, which the discrepancy
alert sends.

It watches its deadline as the listing does: counting a long run list goes on in the next
invocation (`status: "continue"` with a `cursor`: the phase, the position and the counts so
far), the catalog and the check start in an invocation of their own when counting left
less than CATALOG_BUDGET_SECONDS, and the check's HeadObjects stop at the deadline margin
(`deferred`: the slice's objects left for its next turn). It ends `status: "done"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from domain.audit import Finding, NightlyCheck, nightly_check, unreadable_record
from domain.catalog import write_catalog
from domain.drift import Change, ChangeKind, report_changes
from domain.drill import drill_step
from domain.errors import DomainError
from domain.etag_review import review_etags
from domain.keys import archive_prefix
from domain.model import ManifestLocation, SyncRecord
from domain.ports import RunManifest
from domain.services import FAILED_NAMED, RunSummary, summarize
from entrypoints.container import Container
from entrypoints.cost import load_prices, restore_prices
from entrypoints.handlers.runtime import BadEventError, LambdaContext, invocation, text, whole

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
        _failed_so_far(cursor.get("failed")),
    )
    return phase, whole(cursor, "position", 0), counts


def _failed_so_far(named: Any) -> tuple[tuple[str, str], ...]:
    """The cursor's named failures; a cursor written before they were named has none."""
    if named is None:
        return ()
    if not isinstance(named, list) or not all(
        isinstance(n, Mapping)
        and isinstance(n.get("media_id"), str)
        and isinstance(n.get("error"), str)
        for n in named
    ):
        raise BadEventError(
            "event field 'cursor.failed' must be a list of {media_id, error} texts, "
            f"got {named!r:.60}"
        )
    return tuple((n["media_id"], n["error"]) for n in named[:FAILED_NAMED])


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


def _named(summary: RunSummary) -> list[dict[str, str]]:
    return [{"media_id": media_id, "error": why} for media_id, why in summary.failed]


def summarize_step(
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
                "failed": _named(summary),
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
    listed = fields.get("listed")
    if isinstance(listed, int) and not isinstance(listed, bool):
        _listing_shrank(container, provider, listed, len(records))
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
    drill = _drill(container, provider, records, now)
    report = "; ".join(d.line() for d in found[:REPORT_LINES])
    if len(found) > REPORT_LINES:
        report += f"; and {len(found) - REPORT_LINES} more (cloudsync verify lists them all)"
    return {
        "status": "done",
        "cursor": None,
        "videos": summary.videos,
        "failures": summary.failures,
        "failed": _named(summary),
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
        "drill": drill,
    }


def _drill(container: Container, provider: str, records: list[SyncRecord], now: datetime) -> str:
    """Tonight's part of the restore drill (domain.drill); it never fails the summary."""
    if not container.settings().restore_drill:
        return "restore drill off (restoreDrill: false)"
    try:
        return drill_step(
            provider, records, archive=container.drill_archive(), drills=container.drills(),
            notifier=container.notifier(), now=now, prices=restore_prices(load_prices()),
        )  # fmt: skip
    except DomainError as error:
        return f"restore drill: not tonight: {error}"[:500]


SHRANK_BELOW = 0.5
"""A listing holding under this share of the items the archive holds has shrunk."""
SHRANK_MINIMUM = 10
"""Below this many archived items, a small listing is no sign of anything."""


def _listing_shrank(container: Container, provider: str, listed: int, archived: int) -> None:
    """GoPro suddenly lists far fewer items than the archive holds: a change of its own
    (an API answering short, an account emptied), reported once (domain.drift)."""
    if listed < 0 or archived < SHRANK_MINIMUM or listed >= archived * SHRANK_BELOW:
        return
    change = Change(
        ChangeKind.LISTING_SHRANK, "listing", "about as many items as the archive holds",
        "under half as many", f"{listed} listed, {archived} archived",
    )  # fmt: skip
    report_changes(
        provider, [change], container.changes(), container.notifier(), container.metrics()
    )


def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    with invocation(event, context, "summary") as (container, fields, provider):
        return summarize_step(container, fields, provider, context)
