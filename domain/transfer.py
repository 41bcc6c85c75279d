"""The transfer use case: one video from the provider into the archive, exactly once.

1. Claim the video's record (a conditional write): an archived video is reported as such,
   a video another worker holds is left to it (R4.3).
2. Resolve the download and its expected size: the size the source serves, not the
   listing's (a listing a few KB off is archived and reported); unknown is refused.
3. Place it: the first candidate key that is free, or that holds this very video from an
   earlier attempt which died before recording success. Such an object is not trusted on
   its size alone: the source is read again (nothing is uploaded) and checksummed.
4. Stream through a guard that counts and checksums every byte and stops the stream the
   moment it exceeds the expected size, or at its end when it falls short, so the store
   never commits a wrong object.
5. Verify what the store reports against what was read (R3.4); record COMPLETED with key,
   checksum and time (R3.5), or FAILED with the reason, an alert on a verification failure
   (R3.6), and a metric either way (R7.1-R7.3).

A large video may outlast one invocation. When `should_pause` says time is short, the store
stops after its current part and hands back a checkpoint; the record keeps it (and the
lease), and the next invocation resumes the same upload from the checkpoint's offset with
the running checksum it saved. A failure aborts an open upload; the retry starts over.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

from domain.errors import (
    AlreadyCompletedError,
    ConcurrentUpdateError,
    DomainError,
    KeyLostError,
    KeyTakenError,
    LeaseHeldError,
    NoFreeKeyError,
    ObjectMismatchError,
    StorageError,
    TransferRejectedError,
    UnexpectedTransferError,
    UnknownMediaError,
    VerificationFailedError,
)
from domain.keys import candidate_keys
from domain.model import MediaItem, StoredChapter, StoredObject, SyncRecord, UploadCheckpoint
from domain.ports import (
    Clock,
    MediaDownload,
    MediaSource,
    Metrics,
    Notifier,
    ObjectStore,
    SyncTracker,
)
from domain.verification import GuardedStream, TransferEvidence, verify_transfer

log = logging.getLogger("cloudsync.transfer")

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


@dataclass(frozen=True)
class TransferPorts:
    """Everything outside that one transfer touches."""

    source: MediaSource
    tracker: SyncTracker
    store: ObjectStore
    metrics: Metrics
    notifier: Notifier
    clock: Clock


@dataclass(frozen=True)
class Placement:
    """A file stored and read through: where, what the store holds, and whether the object
    was there already (left by an earlier attempt, and checked against the source)."""

    key: str
    stored: StoredObject
    adopted: bool


def _place(
    record: SyncRecord,
    item: MediaItem,
    ports: TransferPorts,
    stream: GuardedStream,
    *,
    pause: Callable[[], bool] | None,
    reserve: Callable[[str], None],
    chapter: int | None,
) -> Placement | UploadCheckpoint:
    """Store `item` (the video, or its chapter `chapter`) at its first usable key, or stop
    where `pause` asked and say where the upload (or the check) stands. `reserve` writes a
    free key down before anything is stored there."""
    checkpoint = record.checkpoint
    if checkpoint is not None and checkpoint.upload_id == CHECKING:
        # A re-read of the source to check an object found there, paused: go on with it.
        existing = ports.store.describe(checkpoint.key)
        if existing is None or existing.owner_media_id != item.media_id:
            raise KeyLostError(f"{checkpoint.key!r} changed while it was being checked")
        return _check_existing(checkpoint.key, existing, stream, pause)
    if checkpoint is not None:  # a paused upload: go on where it stopped
        return _resume(checkpoint, item, ports, stream, pause)
    keys = tuple(
        dict.fromkeys(k for k in (record.reserved_key, *candidate_keys(item, chapter)) if k)
    )
    for key in keys:
        existing = ports.store.describe(key)
        if existing is None:
            reserve(key)
            try:
                stored = ports.store.create(
                    key, item.media_id, stream, stream.expected, pause=pause
                )
            except KeyTakenError:
                existing = ports.store.describe(key)  # lost a race: who won it?
                if existing is None:
                    raise StorageError(f"{key!r} was reported taken but holds nothing") from None
            else:
                return _stored(key, stored)
        if existing.owner_media_id == item.media_id:
            return _check_existing(key, existing, stream, pause)
    raise NoFreeKeyError(item.media_id, keys)


def _stored(key: str, stored: StoredObject | UploadCheckpoint) -> Placement | UploadCheckpoint:
    return stored if isinstance(stored, UploadCheckpoint) else Placement(key, stored, False)


def _resume(
    checkpoint: UploadCheckpoint,
    item: MediaItem,
    ports: TransferPorts,
    stream: GuardedStream,
    pause: Callable[[], bool] | None,
) -> Placement | UploadCheckpoint:
    """Go on with a paused upload; when it completed before its invocation could say so,
    check the rest of the source against the object (the stream's checksum goes on from
    the checkpoint's)."""
    try:
        stored = ports.store.resume(checkpoint, item.media_id, stream, stream.expected, pause=pause)
    except KeyTakenError:
        existing = ports.store.describe(checkpoint.key)
        if existing is None or existing.owner_media_id != item.media_id:
            raise KeyLostError(
                f"{checkpoint.key!r} was taken by another video while the upload was paused"
            ) from None
        return _check_existing(checkpoint.key, existing, stream, pause)
    return _stored(checkpoint.key, stored)


CHECKING = "(checking the stored object)"
"""The upload id of a checkpoint that is no upload: a paused re-read of the source to check
an object an earlier attempt left (no store's upload id has parentheses and spaces)."""


def _check_existing(
    key: str, existing: StoredObject, stream: GuardedStream, pause: Callable[[], bool] | None
) -> Placement | UploadCheckpoint:
    """Read the source through to checksum it against `existing` (storing nothing), pausing
    like an upload when time runs short, so a video larger than one invocation can read is
    checked over several."""
    for _ in stream:
        if pause is not None and stream.received < stream.expected and pause():
            return UploadCheckpoint(key, CHECKING, 0, stream.received, stream.crc.value)
    return Placement(key, existing, True)


def transfer_video(
    media_id: str,
    worker: str,
    ports: TransferPorts,
    lease_for: timedelta = DEFAULT_LEASE,
    should_pause: Callable[[], bool] | None = None,
) -> TransferOutcome:
    """Transfer one video on behalf of `worker` (a name unique to this attempt's runner,
    kept across the invocations of one paused transfer)."""
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
    return _archive(claimed, worker, ports, lease_for, should_pause)


def _archive(
    claimed: SyncRecord,
    worker: str,
    ports: TransferPorts,
    lease_for: timedelta,
    should_pause: Callable[[], bool] | None,
) -> TransferOutcome:
    """Archive the claimed video file by file: one for most media, one per chapter for a
    chaptered recording, each chapter recorded as it is stored."""
    media_id, current = claimed.media_id, claimed

    def reserve(key: str) -> None:
        """Write down the key the file is about to be stored at, before it is stored: a
        crash after the store's write then finds it there, whatever the listing says later."""
        nonlocal current
        if current.reserved_key != key:
            reserved = current.reserve(worker, ports.clock.now(), lease_for, key)
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
            placed = _transfer_file(
                current, download,
                chapter=number if chaptered else None,
                ports=ports, pause=should_pause, reserve=reserve,
            )  # fmt: skip
            if isinstance(placed, UploadCheckpoint):
                return _pause(current, worker, ports, lease_for, placed)
            key, stored = placed.key, placed.stored
            if number == len(downloads):
                break
            chapter = StoredChapter(number, key, stored.size_bytes, stored.checksum)
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
    done = current.complete(worker, ports.clock.now(), stored)
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


def _transfer_file(
    record: SyncRecord,
    download: MediaDownload,
    *,
    chapter: int | None,
    ports: TransferPorts,
    pause: Callable[[], bool] | None,
    reserve: Callable[[str], None],
) -> Placement | UploadCheckpoint:
    """Stream one file (the video, or one chapter) into the store and verify it: where it
    is stored, or the checkpoint of a paused upload."""
    item = record.item
    expected = download.expected_size
    if expected is None and chapter is None:
        expected = item.size_bytes  # the listing's size of the whole, as a last resort
    if expected is None:
        raise VerificationFailedError("the source never said how large the video is")
    resume = record.checkpoint
    stream = (
        GuardedStream(download, expected, resume.offset, resume.crc32)
        if resume is not None
        else GuardedStream(download, expected)
    )
    try:
        placed = _place(record, item, ports, stream, pause=pause, reserve=reserve, chapter=chapter)
    except KeyLostError as lost:
        # Start the file over from its first byte at the next free key (the paused upload
        # is left to the bucket's rule for unfinished uploads).
        log.warning(
            "video %s: %s; starting the file over",
            record.media_id,
            lost,
            extra={"event_type": "transfer.key_lost", "metadata": {"reason": str(lost)}},
        )
        stream = GuardedStream(download, expected)
        fresh = replace(record, checkpoint=None)
        placed = _place(fresh, item, ports, stream, pause=pause, reserve=reserve, chapter=chapter)
    if isinstance(placed, UploadCheckpoint):
        return placed
    stored = placed.stored
    verdict = verify_transfer(
        TransferEvidence(
            expected_size=expected,
            bytes_received=stream.received,
            bytes_stored=stored.size_bytes,
            source_checksum=stream.crc.checksum(),
            stored_checksum=stored.checksum,
        )
    )
    if not verdict.passed:
        if placed.adopted:
            raise ObjectMismatchError(placed.key, record.media_id, verdict.reason)
        raise VerificationFailedError(verdict.reason)
    return placed


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
