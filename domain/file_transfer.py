"""One file of a transfer (the video, or one chapter): placed at its key, streamed from the
source, verified, or paused with a checkpoint that proves where it stands.

- **Placing.** The first candidate key that is free, or that holds this very video from an
  earlier attempt which died before recording success; such an object is not trusted on
  its size alone: the source is read again (nothing is uploaded) and checksummed.
- **One version of the source.** A checkpoint keeps the version of the source its bytes
  came from (ETag, Last-Modified, length). A resume goes on only from the same version:
  when the source now serves another (GoPro reprocessed the media), the paused upload is
  aborted and the file starts over from byte 0, logged as `transfer.source_changed`.
  Within one invocation the source adapter holds every response to the version it
  opened with, and raises SourceChangedError on another: the store aborts, and the file
  starts over the same way, a bounded number of times.
- **The origin.** With the origin check on (domain.origin), the MD5s of the bytes must
  give the source's ETag: a mismatch is refused before the store keeps anything, unless
  the provider's ETags were judged not to be content hashes (EtagVerdicts): then it is
  recorded `unavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from domain.errors import (
    KeyLostError,
    KeyTakenError,
    NoFreeKeyError,
    ObjectMismatchError,
    OriginMismatchError,
    SourceChangedError,
    StorageError,
    VerificationFailedError,
)
from domain.keys import candidate_keys
from domain.model import MediaItem, SourceVersion, StoredObject, SyncRecord, UploadCheckpoint
from domain.origin import OriginCheck, OriginPolicy, OriginResult, OriginStatus
from domain.ports import (
    Clock,
    EtagVerdicts,
    MediaDownload,
    MediaSource,
    Metrics,
    Notifier,
    ObjectStore,
    SyncTracker,
)
from domain.verification import GuardedStream, TransferEvidence, verify_transfer

log = logging.getLogger("cloudsync.transfer")

SOURCE_RESTARTS = 2
"""How many times one invocation starts a file over because its source changed; a source
that keeps changing fails the attempt (retryable), and a later one tries again."""


@dataclass(frozen=True)
class TransferPorts:
    """Everything outside that one transfer touches."""

    source: MediaSource
    tracker: SyncTracker
    store: ObjectStore
    metrics: Metrics
    notifier: Notifier
    clock: Clock
    verdicts: EtagVerdicts | None = None
    """What the archive concluded about the provider's ETags; None: they are trusted."""


@dataclass(frozen=True)
class Placement:
    """A file stored and read through: where, what the store holds, and whether the object
    was there already (left by an earlier attempt, and checked against the source)."""

    key: str
    stored: StoredObject
    adopted: bool
    origin: OriginResult | None = None
    """The origin check's outcome (None: not checked)."""
    earlier_version: bool = False
    """Adopted as it is: stored from an earlier version of the source (see
    SyncRecord.reserved_source), so not read again against the current one."""


def _place(
    record: SyncRecord,
    item: MediaItem,
    stream: GuardedStream,
    job: FileJob,
    source: SourceVersion | None,
) -> Placement | UploadCheckpoint:
    """Store `item` (the video, or the job's chapter) at its first usable key, or stop
    where the job's `pause` asked and say where the upload (or the check) stands. A free
    key is reserved before anything is stored there; `source` is the version streamed."""
    ports, pause = job.ports, job.pause
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
        dict.fromkeys(k for k in (record.reserved_key, *candidate_keys(item, job.chapter)) if k)
    )
    for key in keys:
        existing = ports.store.describe(key)
        if existing is None:
            job.reserve(key, source)
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
            if changes := _changed_since_reserved(record, key, source):
                return _earlier_version(key, existing, changes)
            return _check_existing(key, existing, stream, pause)
    raise NoFreeKeyError(item.media_id, keys)


def _changed_since_reserved(
    record: SyncRecord, key: str, source: SourceVersion | None
) -> list[str]:
    """How the source differs from the version `key` was reserved for; [] when it does
    not, or when either is unknown."""
    earlier = record.reserved_source
    if key != record.reserved_key or earlier is None or source is None:
        return []
    return earlier.differences(source)


def _earlier_version(key: str, existing: StoredObject, changes: list[str]) -> Placement:
    log.warning(
        "%s holds the file as the source served it before it changed (%s); kept as it is",
        key,
        "; ".join(changes),
        extra={"event_type": "transfer.earlier_version_kept", "metadata": {"key": key}},
    )
    origin = OriginResult(
        OriginStatus.UNAVAILABLE,
        "stored from an earlier version of the source, checked as it streamed; the "
        f"source has changed since ({'; '.join(changes)})",
    )
    return Placement(key, existing, adopted=True, origin=origin, earlier_version=True)


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


@dataclass(frozen=True)
class FileJob:
    """One file to store, and how: the video's (`chapter` None) or one chapter's."""

    chapter: int | None
    ports: TransferPorts
    pause: Callable[[], bool] | None
    """Asked after each part: True stops the upload with a checkpoint."""
    reserve: Callable[[str, SourceVersion | None], None]
    """Writes down the key the file is about to be stored at, and the source's version."""
    origin: OriginPolicy


def transfer_file(
    record: SyncRecord, open_download: Callable[[], MediaDownload], job: FileJob
) -> Placement | UploadCheckpoint:
    """Stream one file into the store and verify it: where it is stored, or the checkpoint
    of a paused upload. `open_download` resolves the file anew (its first call may hand
    back a download already open)."""
    download = open_download()
    for restart in range(SOURCE_RESTARTS + 1):
        try:
            return _transfer_version(record, download, job)
        except SourceChangedError as changed:
            _log_source_change(record, str(changed), changed.differences)
            if restart == SOURCE_RESTARTS:
                raise
            record = replace(record, checkpoint=None)
            download = open_download()
    raise AssertionError("unreachable")  # pragma: no cover


def _log_source_change(record: SyncRecord, reason: str, differences: list[str]) -> None:
    log.warning(
        "video %s: %s; starting the file over from its first byte",
        record.media_id,
        reason,
        extra={
            "event_type": "transfer.source_changed",
            "metadata": {"media_id": record.media_id, "differences": differences},
        },
    )


def _resumable(record: SyncRecord, download: MediaDownload, ports: TransferPorts) -> SyncRecord:
    """The record, or, when its checkpoint's bytes came from another version of the source
    than the one served now, the record without it (the paused upload aborted)."""
    checkpoint = record.checkpoint
    if checkpoint is None:
        return record
    before, now = checkpoint.source, download.version
    if before is not None and now is not None:
        differences = before.differences(now)
    elif before is None and now is None:
        differences = []  # a source that gives no version cannot be held to one
    else:
        differences = ["the checkpoint does not say which version of the source it holds"]
    if not differences:
        return record
    _log_source_change(record, "the source changed while the transfer was paused", differences)
    if checkpoint.upload_id != CHECKING:
        ports.store.abandon(checkpoint)
    return replace(record, checkpoint=None)


def _transfer_version(
    record: SyncRecord, download: MediaDownload, job: FileJob
) -> Placement | UploadCheckpoint:
    item, ports, origin = record.item, job.ports, job.origin
    expected = download.expected_size
    if expected is None and job.chapter is None:
        expected = item.size_bytes  # the listing's size of the whole, as a last resort
    if expected is None:
        raise VerificationFailedError("the source never said how large the video is")
    record = _resumable(record, download, ports)

    def stream_from(resume: UploadCheckpoint | None) -> GuardedStream:
        version = download.version
        check = (
            OriginCheck(
                version.etag if version else None,
                expected,
                max_candidates=origin.max_candidates,
                progress=resume.origin if resume else None,
                offset=resume.offset if resume else 0,
            )
            if origin.enabled
            else None
        )
        judge = _judge(record.provider, ports.verdicts)
        if resume is None:
            return GuardedStream(download, expected, origin=check, judge=judge)
        return GuardedStream(
            download, expected, resume.offset, resume.crc32, origin=check, judge=judge
        )

    stream = stream_from(record.checkpoint)
    try:
        placed = _place(record, item, stream, job, download.version)
    except KeyLostError as lost:
        # Start the file over from its first byte at the next free key (the paused upload
        # is left to the bucket's rule for unfinished uploads).
        log.warning(
            "video %s: %s; starting the file over",
            record.media_id,
            lost,
            extra={"event_type": "transfer.key_lost", "metadata": {"reason": str(lost)}},
        )
        stream = stream_from(None)
        fresh = replace(record, checkpoint=None)
        placed = _place(fresh, item, stream, job, download.version)
    if isinstance(placed, Placement) and placed.earlier_version:
        return placed
    if isinstance(placed, UploadCheckpoint):
        check = stream.origin
        return replace(
            placed,
            source=download.version,
            origin=check.progress(placed.offset) if check is not None else None,
        )
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
    return replace(placed, origin=stream.origin_result)


def _judge(provider: str, verdicts: EtagVerdicts | None) -> Callable[[OriginResult], OriginResult]:
    """What an origin mismatch means: a refusal, unless the provider's ETags were judged
    not to be content hashes (then the file is recorded `unavailable`)."""

    def judge(result: OriginResult) -> OriginResult:
        distrusted = verdicts.distrusted(provider) if verdicts is not None else None
        if distrusted is None:
            raise OriginMismatchError(result.detail)
        return OriginResult(
            OriginStatus.UNAVAILABLE,
            f"{provider}'s ETags are judged not to be content hashes ({distrusted}); "
            f"{result.detail}",
        )

    return judge
