"""The transfer use case: one video from the provider into the archive, exactly once.

1. Claim the video's record (a conditional write): an archived video is reported as such,
   a video another worker holds is left to it (R4.3).
2. Resolve the download and its expected size: the size the source serves, not the
   listing's (a listing a few KB off is archived and reported); unknown is refused.
3. Place, stream and verify each file (domain.file_transfer): at the first usable key,
   through a guard that counts and checksums every byte and stops the stream the moment
   it exceeds the expected size, or at its end when it falls short or its MD5s do not
   give the source's ETag, so the store never commits a wrong object; each read from one
   version of the source.
4. Verify what the store reports against what was read (R3.4); record COMPLETED with key,
   checksum, the origin check and time (R3.5), or FAILED with the reason, an alert on a
   verification failure (R3.6), and a metric either way (R7.1-R7.3).

A large video may outlast one invocation. When `should_pause` says time is short, the store
stops after its current part and hands back a checkpoint; the record keeps it (and the
lease), and the next invocation resumes the same upload from the checkpoint's offset with
the running checksum it saved. A failure aborts an open upload; the retry starts over.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from domain.errors import (
    AlreadyCompletedError,
    ConcurrentUpdateError,
    DomainError,
    LeaseHeldError,
    ObjectMismatchError,
    TransferRejectedError,
    UnexpectedTransferError,
    UnknownMediaError,
    VerificationFailedError,
)
from domain.file_transfer import FileJob, TransferPorts, transfer_file
from domain.model import MediaItem, SourceVersion, StoredChapter, SyncRecord, UploadCheckpoint
from domain.origin import OriginPolicy, OriginResult
from domain.ports import Clock, MediaDownload, MediaSource, Metrics, SyncTracker

__all__ = [
    "DEFAULT_LEASE",
    "TransferOutcome",
    "TransferPorts",
    "TransferResult",
    "count_synced",
    "transfer_video",
]

log = logging.getLogger("cloudsync.transfer")

CHECK_ORIGIN = OriginPolicy()
"""The default: the origin is checked, with the default number of part sizes."""
DEFAULT_LEASE = timedelta(minutes=20)
"""Longer than one downloader invocation may run (15 minutes), so a live worker keeps it."""


class TransferResult(StrEnum):
    COMPLETED = "completed"
    PAUSED = "paused"
    """Out of time: the upload is checkpointed; invoke again to continue."""
    ALREADY_ARCHIVED = "already_archived"
    BUSY = "busy"
    """Another worker holds the video, or won the race to write its record."""
    FAILED = "failed"


@dataclass(frozen=True)
class TransferOutcome:
    media_id: str
    result: TransferResult
    object_key: str | None = None
    size_bytes: int | None = None
    error: str | None = None
    retryable: bool = False
    """For FAILED: whether an attempt soon after may succeed without anyone acting."""
    offset: int | None = None
    """For PAUSED: the bytes stored so far."""


def _logged(outcome: TransferOutcome, level: int = logging.INFO) -> TransferOutcome:
    """Log the outcome as a `transfer.<result>` event and hand it back."""
    log.log(
        level,
        "video %s: %s",
        outcome.media_id,
        outcome.result.value,
        extra={
            "event_type": f"transfer.{outcome.result.value}",
            "metadata": {k: v for k, v in vars(outcome).items() if v is not None},
        },
    )
    return outcome


def transfer_video(
    media_id: str,
    worker: str,
    ports: TransferPorts,
    lease_for: timedelta = DEFAULT_LEASE,
    should_pause: Callable[[], bool] | None = None,
    *,
    origin: OriginPolicy = CHECK_ORIGIN,
) -> TransferOutcome:
    """Transfer one video on behalf of `worker` (a name unique to this attempt's runner,
    kept across the invocations of one paused transfer); `origin` says whether the bytes
    are checked against the source's ETag (domain.origin)."""
    record = ports.tracker.get(media_id)
    if record is None:
        raise UnknownMediaError(media_id)
    try:
        claimed = record.claim(worker, ports.clock.now(), lease_for)
        ports.tracker.replace(record, claimed)
    except AlreadyCompletedError:
        if record.count_pending:  # archived by an attempt that died before counting it
            count_synced(record, ports.tracker, ports.metrics, ports.clock)
        return _logged(
            TransferOutcome(
                media_id, TransferResult.ALREADY_ARCHIVED, record.object_key, record.stored_size
            )
        )
    except (LeaseHeldError, ConcurrentUpdateError) as error:
        return _logged(TransferOutcome(media_id, TransferResult.BUSY, error=str(error)))
    return _archive(claimed, worker, ports, lease_for, should_pause, origin=origin)


def _opener(
    source: MediaSource, item: MediaItem, first: MediaDownload, number: int, count: int
) -> Callable[[], MediaDownload]:
    """File `number` of `count`: `first` at the first call, resolved anew at each later one
    (its source changed)."""
    opened = [first]

    def open_download() -> MediaDownload:
        if opened:
            return opened.pop()
        downloads = source.open_chapters(item)
        if len(downloads) != count:
            raise TransferRejectedError(
                f"the source now offers {len(downloads)} file(s), not {count}"
            )
        return downloads[number - 1]

    return open_download


def _log_origin(media_id: str, key: str, result: OriginResult | None) -> None:
    if result is None:
        return
    log.info(
        "video %s: origin %s",
        media_id,
        result,
        extra={
            "event_type": f"transfer.origin_{result.status.value}",
            "metadata": {"media_id": media_id, "key": key, "origin": str(result)},
        },
    )


def _archive(
    claimed: SyncRecord,
    worker: str,
    ports: TransferPorts,
    lease_for: timedelta,
    should_pause: Callable[[], bool] | None,
    *,
    origin: OriginPolicy,
) -> TransferOutcome:
    """Archive the claimed video file by file: one for most media, one per chapter for a
    chaptered recording, each chapter recorded as it is stored."""
    media_id, current = claimed.media_id, claimed

    def reserve(key: str, source: SourceVersion | None) -> None:
        """Write down the key the file is about to be stored at, and the version of the
        source it is stored from, before it is stored: a crash after the store's write
        then finds it there, whatever the listing or the source says later."""
        nonlocal current
        if (current.reserved_key, current.reserved_source) != (key, source):
            reserved = current.reserve(worker, ports.clock.now(), lease_for, key, source)
            ports.tracker.replace(current, reserved)
            current = reserved

    try:
        downloads = ports.source.open_chapters(claimed.item)
        if len(downloads) <= len(claimed.chapters):
            raise TransferRejectedError(
                f"the source now offers {len(downloads)} file(s), and {len(claimed.chapters)} "
                "chapters are already archived"
            )
        chaptered = len(downloads) > 1
        for number, download in enumerate(downloads, start=1):
            if number <= len(current.chapters):
                continue  # archived and verified by an earlier invocation: never again
            placed = transfer_file(
                current,
                _opener(ports.source, current.item, download, number, len(downloads)),
                FileJob(number if chaptered else None, ports, should_pause, reserve, origin),
            )
            if isinstance(placed, UploadCheckpoint):
                return _pause(current, worker, ports, lease_for, placed)
            key, stored = placed.key, placed.stored
            checked = None if placed.origin is None else str(placed.origin)
            _log_origin(media_id, key, placed.origin)
            if number == len(downloads):
                break
            chapter = StoredChapter(number, key, stored.size_bytes, stored.checksum, checked)
            updated = current.chapter_stored(worker, ports.clock.now(), lease_for, chapter)
            try:
                ports.tracker.replace(current, updated)
            except ConcurrentUpdateError as error:
                return _logged(
                    TransferOutcome(media_id, TransferResult.BUSY, key, error=str(error))
                )
            current = updated
            if should_pause is not None and should_pause():
                return _logged(TransferOutcome(media_id, TransferResult.PAUSED, key))
    except Exception as error:  # no failure may leave the record IN_PROGRESS
        known = (
            error
            if isinstance(error, DomainError)
            else UnexpectedTransferError(f"{type(error).__name__}: {error}")
        )
        return _fail(current, worker, ports, known)
    done = current.complete(worker, ports.clock.now(), stored, origin=checked)
    try:
        ports.tracker.replace(current, done)
    except ConcurrentUpdateError as error:
        # The lease ran out and another worker took over; it will find this object ours.
        return _logged(TransferOutcome(media_id, TransferResult.BUSY, key, error=str(error)))
    _send_count(done, ports.tracker, ports.metrics, ports.clock)  # COMPLETED holds the claim
    _report_size_drift(done)
    return _logged(
        TransferOutcome(media_id, TransferResult.COMPLETED, done.object_key, done.stored_size)
    )


def count_synced(record: SyncRecord, tracker: SyncTracker, metrics: Metrics, clock: Clock) -> None:
    """Send the pending VideosSynced count of a COMPLETED record read from the tracker,
    where nobody holds the right to send it: the right is claimed first with a conditional
    write, so of two readers at once only one sends. A claim whose holder died before
    recording the count sent expires (COUNT_HOLD), and the next reader after that sends
    it: a count is never lost, and only a crash between sending and recording it can send
    it twice."""
    now = clock.now()
    if record.count_claimed_until is not None and now < record.count_claimed_until:
        return  # its holder is sending it
    claimed = record.count_claimed(now)
    try:
        tracker.replace(record, claimed)
    except ConcurrentUpdateError:
        return  # another reader claimed it, or recorded it sent
    _send_count(claimed, tracker, metrics, clock)


def _send_count(claimed: SyncRecord, tracker: SyncTracker, metrics: Metrics, clock: Clock) -> None:
    """Send the count whose right `claimed` holds, then record it sent."""
    metrics.video_synced(claimed.provider, claimed.stored_size or 0)
    with contextlib.suppress(ConcurrentUpdateError):  # its claim expired and was taken
        tracker.replace(claimed, claimed.counted(clock.now()))


def _report_size_drift(done: SyncRecord) -> None:
    """The size that counts is the one the source served (R3.4, see decisions); a listing
    that disagrees is kept on the record (`item.size_bytes` beside `stored_size`) and
    reported as a `<provider>.size_mismatch` event, so drift is visible."""
    listed, served = done.item.size_bytes, done.stored_size
    if listed is None or served is None or listed == served:
        return
    log.warning(
        "video %s: the listing says %d bytes, the source served %d",
        done.media_id,
        listed,
        served,
        extra={
            "event_type": f"{done.provider}.size_mismatch",
            "metadata": {
                "media_id": done.media_id,
                "listed_bytes": listed,
                "served_bytes": served,
                "difference": listed - served,
            },
        },
    )


def _pause(
    claimed: SyncRecord,
    worker: str,
    ports: TransferPorts,
    lease_for: timedelta,
    checkpoint: UploadCheckpoint,
) -> TransferOutcome:
    paused = claimed.pause(worker, ports.clock.now(), lease_for, checkpoint)
    try:
        ports.tracker.replace(claimed, paused)
    except ConcurrentUpdateError as error:
        return _logged(TransferOutcome(claimed.media_id, TransferResult.BUSY, error=str(error)))
    return _logged(
        TransferOutcome(
            claimed.media_id, TransferResult.PAUSED, checkpoint.key, offset=checkpoint.offset
        )
    )


def _fail(
    claimed: SyncRecord, worker: str, ports: TransferPorts, error: DomainError
) -> TransferOutcome:
    """Record the failure with its reason (R8.3), count it, and alert when a person must look.

    The record is written first: a metric or an alert that cannot be sent must not leave
    the video looking as if it were still in progress.
    """
    message = str(error)
    error_type = type(error).__name__
    failed = claimed.fail(worker, ports.clock.now(), f"{error_type}: {message}")
    try:
        ports.tracker.replace(claimed, failed)
    except ConcurrentUpdateError:
        return _logged(TransferOutcome(claimed.media_id, TransferResult.BUSY, error=message))
    ports.metrics.sync_failed(claimed.provider, error_type)
    if isinstance(error, VerificationFailedError | ObjectMismatchError):
        ports.notifier.alert(
            f"cloud-sync: {claimed.provider} video {claimed.media_id} failed verification",
            f"{claimed.item.filename} ({claimed.media_id}): {message}",
        )
    return _logged(
        TransferOutcome(
            claimed.media_id, TransferResult.FAILED, error=message, retryable=error.retryable
        ),
        logging.WARNING,
    )
