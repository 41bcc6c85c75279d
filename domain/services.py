"""Use cases: authenticate, discover, transfer one video. Written against the ports only."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.credentials import REFRESH_WINDOW, Credentials, OAuthCredentials
from domain.errors import ConcurrentUpdateError, CredentialsRejectedError, StorageError
from domain.etag_review import origin_matched, origin_refused
from domain.model import MediaItem, SyncRecord
from domain.ports import (
    Clock,
    CredentialStore,
    MediaSource,
    Metrics,
    ProviderAuth,
    ProviderSignIn,
    SyncTracker,
)
from domain.rules import SelectionPolicy, SkipReason, plan_sync, record_wants_work
from domain.status import WAITING
from domain.thumbnails import ThumbnailKeeper
from domain.transfer import count_synced

log = logging.getLogger("cloudsync.sync")


class AuthMode(StrEnum):
    OAUTH = "oauth"
    SESSION = "session"


@dataclass(frozen=True)
class AuthOutcome:
    """What authentication reports: no secret, only facts safe to log and pass on."""

    provider: str
    mode: AuthMode
    refreshed: bool
    expires_at: datetime | None
    """None for a session token, whose expiry cannot be read."""
    secret_version: str | None
    """The credential store's version id of a newly stored token."""


def authenticate(
    provider: str,
    store: CredentialStore,
    auth: ProviderAuth,
    clock: Clock,
    window: timedelta = REFRESH_WINDOW,
) -> AuthOutcome:
    """Make sure the stored credentials work for the next day's sync (R2.2, R2.3).

    OAuth credentials are refreshed when the token expires within `window`, and the new
    token is stored with the time of the refresh. A session token cannot be refreshed: it
    is probed, and a rejected one raises CredentialsRejectedError saying how to replace it.
    """
    credentials = store.load(provider)
    if not isinstance(credentials, OAuthCredentials):
        auth.probe(credentials)
        return AuthOutcome(provider, AuthMode.SESSION, False, None, None)
    now = clock.now()
    if not credentials.needs_refresh(now, window):
        return AuthOutcome(provider, AuthMode.OAUTH, False, credentials.expires_at, None)
    renewed = credentials.refreshed(auth.refresh(credentials), now)
    version = store.save(provider, renewed)
    outcome = AuthOutcome(provider, AuthMode.OAUTH, True, renewed.expires_at, version)
    log.info(
        "%s token refreshed",
        provider,
        extra={"event_type": "auth.refreshed", "metadata": asdict(outcome)},
    )
    return outcome


def sign_in(
    provider: str,
    username: str,
    password: str,
    *,
    signer: ProviderSignIn,
    store: CredentialStore,
    clock: Clock,
) -> AuthOutcome:
    """Sign in once with an e-mail and password and store refreshable OAuth credentials:
    the client, the tokens and their expiry. The password is used for the one exchange and
    kept nowhere; from then on `authenticate` refreshes."""
    signed = signer.sign_in(username, password)
    grant = signed.grant
    if grant.refresh_token is None:
        raise CredentialsRejectedError(provider, "the sign-in gave no refresh token")
    now = clock.now()
    credentials = OAuthCredentials(
        client_id=signed.client_id,
        client_secret=signed.client_secret,
        refresh_token=grant.refresh_token,
    ).refreshed(grant, now)
    version = store.save(provider, credentials)
    return AuthOutcome(provider, AuthMode.OAUTH, True, credentials.expires_at, version)


def replace_credentials(
    provider: str,
    given: Credentials,
    *,
    auth: ProviderAuth,
    store: CredentialStore,
    clock: Clock,
    force: bool = False,
) -> tuple[AuthOutcome, str | None]:
    """Store `given` in place of the provider's credentials, once the provider has taken
    them: a session token is probed; OAuth credentials are refreshed, and the refreshed
    ones are stored (a provider may rotate the refresh token as it grants). Refused ones
    raise CredentialsRejectedError and nothing is stored, unless `force`: then they are
    stored as given, and the refusal is returned with the outcome."""
    refused: str | None = None
    kept = given
    try:
        if isinstance(given, OAuthCredentials):
            kept = given.refreshed(auth.refresh(given), clock.now())
        else:
            auth.probe(given)
    except CredentialsRejectedError as error:
        if not force:
            raise
        refused = str(error)
    version = store.save(provider, kept)
    if isinstance(kept, OAuthCredentials):
        return AuthOutcome(provider, AuthMode.OAUTH, refused is None, kept.expires_at, version), (
            refused
        )
    return AuthOutcome(provider, AuthMode.SESSION, False, None, version), refused


@dataclass(frozen=True)
class DiscoveryOutcome:
    """The media ids to transfer, and counts of everything else."""

    provider: str
    media_ids: tuple[str, ...]
    listed: int
    new_records: int
    skipped: dict[SkipReason, int]
    resume: str | None = None
    """Where the listing goes on when it stopped before its end (None: it reached it)."""
    size_bytes: int = 0
    """The chosen videos' sizes as the listing gives them (an unknown size counts 0)."""


def _send_held_counts(
    provider: str,
    records: Mapping[str, SyncRecord],
    tracker: SyncTracker,
    metrics: Metrics,
    clock: Clock,
) -> None:
    """Send the VideosSynced count of each archived video a crash held back."""
    for archived in records.values():
        if archived.count_pending:
            try:
                count_synced(archived, tracker, metrics, clock)
            except StorageError as error:  # tried again at the next discovery
                log.warning("%s: counting %s failed: %s", provider, archived.media_id, error)


def _count_skipped(provider: str, skipped: Mapping[SkipReason, int], metrics: Metrics) -> None:
    """The ItemsSkipped counts; a metric that cannot be sent does not fail the listing."""
    for reason, count in skipped.items():
        try:
            metrics.items_skipped(provider, reason.value, count)
        except StorageError as error:
            log.warning("%s: the %s count could not be sent: %s", provider, reason.value, error)


def discover(
    provider: str,
    source: MediaSource,
    tracker: SyncTracker,
    clock: Clock,
    policy: SelectionPolicy,
    *,
    metrics: Metrics | None = None,
    start: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    thumbnails: ThumbnailKeeper | None = None,
) -> DiscoveryOutcome:
    """List the library, choose what needs syncing (R1.4, R1.5, R4.2, R8.5), and record
    each newly seen video as PENDING so its metadata waits in the tracker for the transfer.
    A waiting record whose metadata the provider has since changed is refreshed. With
    `metrics`, an archived video whose count a crashed transfer never sent is counted.

    The library is read a page at a time, from `start` (a page's resume token) or the
    first page. After each page `should_stop()` may end the call early: the outcome's
    `resume` then says where the next call goes on. With `thumbnails`, an archived item
    whose thumbnail is not kept yet gets it (within the keeper's budget).
    """
    chosen: list[str] = []
    sizes: dict[str, int] = {}
    skipped: Counter[SkipReason] = Counter()
    listed = created = refreshed = 0
    resume: str | None = None
    for page in source.pages(start):
        listed += len(page.items)
        page_created, page_refreshed, page_chosen = _discover_page(
            provider,
            page.items,
            tracker=tracker,
            clock=clock,
            policy=policy,
            metrics=metrics,
            skipped=skipped,
            thumbnails=thumbnails,
        )
        created += page_created
        refreshed += page_refreshed
        chosen += page_chosen
        picked = set(page_chosen)
        sizes |= {i.media_id: i.size_bytes or 0 for i in page.items if i.media_id in picked}
        resume = page.resume
        if resume is not None and should_stop is not None and should_stop():
            break
    else:
        resume = None
    if unreadable := source.unreadable_items():
        skipped[SkipReason.UNREADABLE] = unreadable
    if metrics is not None:
        _count_skipped(provider, skipped, metrics)
    unique = tuple(dict.fromkeys(chosen))
    outcome = DiscoveryOutcome(
        provider, unique, listed, created, dict(skipped), resume,
        sum(sizes.get(media_id, 0) for media_id in unique),
    )  # fmt: skip
    log.info(
        "%s: %d listed, %d to transfer%s",
        provider,
        outcome.listed,
        len(outcome.media_ids),
        "" if resume is None else f"; the listing goes on from {resume!r}",
        extra={
            "event_type": "discovery.finished",
            "metadata": {
                "listed": outcome.listed,
                "to_transfer": len(outcome.media_ids),
                "new_records": created,
                "refreshed_records": refreshed,
                "skipped": {reason.value: count for reason, count in skipped.items()},
                "resume": resume,
            },
        },
    )
    return outcome


def _discover_page(
    provider: str,
    items: Sequence[MediaItem],
    *,
    tracker: SyncTracker,
    clock: Clock,
    policy: SelectionPolicy,
    metrics: Metrics | None,
    skipped: Counter[SkipReason],
    thumbnails: ThumbnailKeeper | None = None,
) -> tuple[int, int, list[str]]:
    """One page of `discover`: (records created, records refreshed, ids chosen); the
    reasons for the rest are added to `skipped`."""
    records = tracker.get_many(list(dict.fromkeys(item.media_id for item in items)))
    broken = tracker.unreadable()
    if broken:
        # Neither new nor archived: its record is there and cannot be read. Passed over
        # (and named) so that the rest of the page goes on.
        items = [item for item in items if item.media_id not in broken]
        skipped[SkipReason.UNREADABLE_RECORD] += len(broken)
        for media_id, reason in broken.items():
            log.warning(
                "%s: the record of %s cannot be read: %s",
                provider,
                media_id,
                reason,
                extra={
                    "event_type": "discovery.unreadable_record",
                    "metadata": {"media_id": media_id, "reason": reason[:300]},
                },
            )
    now = clock.now()
    if metrics is not None:
        _send_held_counts(provider, records, tracker, metrics, clock)
    plan = plan_sync(items, records, now, policy)
    skipped.update(plan.skipped)
    if thumbnails is not None:
        _keep_thumbnails(items, records, thumbnails)
    created = refreshed = 0
    unstorable: set[str] = set()
    # The page's new records in one batch; item by item only when the batch is refused,
    # so that the one record the tracker cannot take is found and skipped alone.
    new = {i.media_id: i for i in plan.to_sync if i.media_id not in records}
    batched = False
    if new:
        with contextlib.suppress(StorageError):
            taken = tracker.create_many([SyncRecord.discovered(i, now) for i in new.values()])
            created, batched = len(new) - len(taken), True
    for item in plan.to_sync:
        record = records.get(item.media_id)
        try:
            if record is None:
                if batched:
                    continue
                tracker.create(SyncRecord.discovered(item, now))
                created += 1
            elif record.item != item and record.status in WAITING:
                tracker.replace(record, record.refreshed(item, now))
                refreshed += 1
        except ConcurrentUpdateError:
            continue  # a concurrent worker wrote it first; its record serves
        except StorageError as error:
            # One item the tracker cannot take must not stop the library's sync.
            unstorable.add(item.media_id)
            log.warning(
                "%s: %s could not be recorded: %s",
                provider,
                item.media_id,
                error,
                extra={
                    "event_type": "discovery.unstorable",
                    "metadata": {"media_id": item.media_id, "reason": str(error)[:300]},
                },
            )
    if unstorable:
        skipped[SkipReason.UNSTORABLE] += len(unstorable)
    return created, refreshed, [m for m in plan.media_ids if m not in unstorable]


def _keep_thumbnails(
    items: Sequence[MediaItem], records: Mapping[str, SyncRecord], thumbnails: ThumbnailKeeper
) -> None:
    """Each archived item of the page that has no thumbnail yet gets one, if it can (the
    keeper passes over the rest)."""
    for item in items:
        record = records.get(item.media_id)
        if record is not None:
            thumbnails.keep(record, item)


@dataclass(frozen=True)
class RunSummary:
    """How a run's downloads ended, read from the tracker."""

    videos: int
    failures: int
    """Videos of the run that are not archived (FAILED, or left waiting for the next run)
    and that no other execution is working on."""
    origin_matched: int = 0
    """Archived videos of the run whose bytes (every file's) gave the source's ETag."""
    origin_mismatched: int = 0
    """Videos of the run refused because their bytes did not give the source's ETag."""
    failed: tuple[tuple[str, str], ...] = ()
    """The first FAILED_NAMED videos not archived, each with why (media id, reason)."""


FAILED_NAMED = 5
"""How many of a run's videos that were not archived its summary names, with why."""
REASON_CHARS = 300
"""A named failure's reason is cut to this length (the summary travels in the state)."""


def _why(record: SyncRecord) -> str:
    reason = record.error or f"left {record.status.value}, to be tried again by the next run"
    return reason[:REASON_CHARS]


def summarize(
    media_ids: Sequence[str],
    tracker: SyncTracker,
    now: datetime,
    batch: int = 100,
    *,
    start: int = 0,
    so_far: RunSummary | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[RunSummary, int | None]:
    """The run's outcome from the records of the videos it set out to sync (R6.6). Read
    from the tracker, not gathered from the downloads, so it holds at any library size;
    `batch` records at a time, so memory does not grow with it either.

    A video is fine when archived, or when another execution holds it under a live lease
    (a manual run during the nightly one); anything else did not get archived.

    Counts from position `start` of the unique ids, added to `so_far`, until the ids end
    or `should_stop()` says the time is short: (the counts, None when every id is counted,
    else the position to go on from in the next call)."""
    unique = list(dict.fromkeys(media_ids))
    counted = so_far or RunSummary(0, 0)
    videos, failures = counted.videos, counted.failures
    matched, mismatched = counted.origin_matched, counted.origin_mismatched
    failed = list(counted.failed)
    position = start
    while position < len(unique):
        if position > start and should_stop is not None and should_stop():
            break
        ids = unique[position : position + batch]
        records = tracker.get_many(ids)
        # Archived or held: just what discovery would not pick up again.
        fine = sum(1 for r in records.values() if not record_wants_work(r, now))
        for media_id in ids:
            if len(failed) >= FAILED_NAMED:
                break
            record = records.get(media_id)
            if record is None:
                failed.append((media_id, "no record: discovery did not record it"))
            elif record_wants_work(record, now):
                failed.append((media_id, _why(record)))
        videos += len(ids)
        failures += len(ids) - fine
        matched += sum(1 for r in records.values() if origin_matched(r))
        mismatched += sum(1 for r in records.values() if origin_refused(r))
        position += len(ids)
    summary = RunSummary(videos, failures, matched, mismatched, tuple(failed))
    return summary, (position if position < len(unique) else None)
