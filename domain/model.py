"""The things the sync rules talk about: media items, sync records, leases, checksums.

Every value is a frozen dataclass; a change of state makes a new value. Timestamps are
timezone-aware (UTC) throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from domain.errors import (
    AlreadyCompletedError,
    IllegalTransitionError,
    InvalidSettingError,
    LeaseHeldError,
    NotLeaseHolderError,
    StorageError,
)
from domain.origin import OriginProgress
from domain.status import WAITING, SyncStatus, check_transition, is_legal

PROVIDER_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,31}")
"""Provider names become key prefixes (`{provider}-videos/`) and tracker values."""

MEDIA_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""Media ids travel into URL paths and object keys, so only this safe alphabet is accepted."""

ERROR_MESSAGE_LIMIT = 2000

COUNT_HOLD = timedelta(minutes=5)
"""How long a claim to send a VideosSynced count holds: far longer than sending it takes
(one log line), so only a writer that died after claiming lets it expire, and the next
reader after that sends the count."""
"""Stored error messages are cut to this many characters."""


def require_aware(name: str, value: datetime | None) -> None:
    """Refuse naive timestamps: every time in the domain is an instant, not a wall clock."""
    if value is not None and value.utcoffset() is None:
        raise InvalidSettingError(name, "must be a timezone-aware timestamp")


@dataclass(frozen=True)
class MediaItem:
    """One item of a provider's library, as far as the sync needs to know it."""

    provider: str
    media_id: str
    filename: str
    """The provider's filename, or `{id}.{extension}` when the provider gave none."""
    size_bytes: int | None
    """None while the provider has not said (GoPro: still processing)."""
    uploaded_at: datetime
    captured_at: datetime | None
    duration_seconds: float | None
    media_type: str | None
    """Open-ended: whatever the provider calls it ("Video", "TimeLapseVideo", …)."""
    readiness: str | None
    """Open-ended: whatever the provider says ("ready", "transcoding", …)."""
    camera_model: str | None = None
    """What shot it, as the provider names it ("HERO12 Black"); for the catalog."""
    width: int | None = None
    height: int | None = None
    """The picture's size in pixels, where the provider says; for the catalog."""
    item_count: int | None = None
    """How many files the item holds (a photo set's photos); None: one, or not said."""
    preview: str | None = None
    """The provider's opaque reference to a small picture of the item (GoPro: its
    thumbnail token); None while it has none. Tokens change: the latest listing's is used."""

    def __post_init__(self) -> None:
        if not PROVIDER_PATTERN.fullmatch(self.provider):
            raise InvalidSettingError("provider", f"{self.provider!r} is not [a-z][a-z0-9-]*")
        if not MEDIA_ID_PATTERN.fullmatch(self.media_id):
            raise InvalidSettingError("media_id", f"{self.media_id!r} is not [A-Za-z0-9_-]+")
        if self.size_bytes is not None and self.size_bytes < 0:
            raise InvalidSettingError("size_bytes", "must not be negative")
        require_aware("uploaded_at", self.uploaded_at)
        require_aware("captured_at", self.captured_at)


@dataclass(frozen=True)
class MediaPage:
    """One page of a provider's listing, and where the listing goes on after it."""

    items: tuple[MediaItem, ...]
    resume: str | None
    """The provider's token for the rest of the listing; None after the last page."""


@dataclass(frozen=True)
class ManifestLocation:
    """Where a run's list of media ids to sync is kept, and how many ids it holds."""

    bucket: str
    key: str
    count: int


@dataclass(frozen=True)
class RunningExecution:
    """One execution of the workflow that is running: which, since when, for whom."""

    execution: str
    """Its identifier (an execution ARN)."""
    name: str
    started_at: datetime
    provider: str | None
    """The provider its input names; None where it cannot be read."""


@dataclass(frozen=True)
class Checksum:
    """A whole-object checksum: the algorithm's name and its value as S3 prints it (base64)."""

    algorithm: str
    value: str


@dataclass(frozen=True)
class StoredObject:
    """What the object store holds at a key."""

    key: str
    size_bytes: int
    checksum: Checksum | None
    owner_media_id: str | None
    """The media id recorded on the object when it was written; None if it carries none."""


@dataclass(frozen=True)
class SourceVersion:
    """What identifies the version of a file the source serves: its validators (HTTP's
    ETag and Last-Modified) and its length. Bytes from two responses belong to one file
    only when their versions agree."""

    etag: str | None
    last_modified: str | None
    length: int

    def differences(self, later: SourceVersion) -> list[str]:
        """How `later` differs from this version; a validator this version has and `later`
        lacks cannot prove it the same, and counts as a difference."""
        found = []
        if later.length != self.length:
            found.append(f"length {self.length} -> {later.length}")
        if self.etag is not None and later.etag != self.etag:
            found.append(f"ETag {self.etag} -> {later.etag}")
        if self.last_modified is not None and later.last_modified != self.last_modified:
            found.append(f"Last-Modified {self.last_modified} -> {later.last_modified}")
        return found


@dataclass(frozen=True)
class UploadCheckpoint:
    """Where a paused multipart upload stands, so a later invocation can go on from there.

    The store keeps the parts themselves (S3 lists them); the checkpoint says how many of
    them count, so a part uploaded after the checkpoint was taken is simply sent again.
    """

    key: str
    upload_id: str
    parts: int
    """Parts 1..parts are acknowledged and count."""
    offset: int
    """The bytes those parts hold: the next byte to read from the source."""
    crc32: int
    """The running CRC32 of bytes [0, offset): a whole-object checksum continues from it."""
    source: SourceVersion | None = None
    """The version of the source the bytes [0, offset) came from: a resume goes on only
    from the same version (None: not known, so the file starts over)."""
    origin: OriginProgress | None = None
    """Where the origin check (domain.origin) stood at the pause."""


@dataclass(frozen=True)
class StoredChapter:
    """One chapter of a chaptered recording, archived and verified as its own object."""

    number: int
    """1-based, in recording order."""
    key: str
    size_bytes: int
    checksum: Checksum | None
    origin: str | None = None
    """The origin check's outcome (`matched (…)`, `unavailable (…)`); None: not checked."""


@dataclass(frozen=True)
class Lease:
    """Who holds a transfer, and until when. An expired lease may be taken over."""

    holder: str
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class SyncRecord:
    """The tracker's memory of one video. Change it only through its methods."""

    item: MediaItem
    status: SyncStatus
    version: int
    """1 at creation, one more at each change: the tracker writes only over the version read."""
    updated_at: datetime
    retry_count: int = 0
    lease: Lease | None = None
    object_key: str | None = None
    stored_size: int | None = None
    checksum: Checksum | None = None
    transferred_at: datetime | None = None
    error: str | None = None
    checkpoint: UploadCheckpoint | None = None
    """Set while a transfer is paused between invocations (IN_PROGRESS only)."""
    reserved_key: str | None = None
    """The key an upload of the current file (or chapter) went to: once an object may
    exist there, the next attempt tries that key first, whatever the listing later says
    of the filename or capture month, so a video never gets a second object. Kept across
    failures; cleared when the file is recorded stored."""
    reserved_source: SourceVersion | None = None
    """The version of the source the file at `reserved_key` is stored from. An object the
    store completed there passed the transfer's guard over that version (size, and origin
    where it can be checked), so once the source serves another version it is that earlier
    version, archived whole: it is kept as it is, not re-read against the new one."""
    chapters: tuple[StoredChapter, ...] = ()
    """A chaptered recording's chapters archived so far, in order (one object each); kept
    across pauses and failures so a finished chapter is never uploaded again. Empty for a
    video of one file. When COMPLETED with chapters, `object_key` and `checksum` are the
    first chapter's and `stored_size` is their total."""
    count_pending: bool = False
    """COMPLETED, and its VideosSynced count not yet known to be sent. Set with COMPLETED
    and cleared once the count is out, so a crash between the two leaves the count to be
    sent by whoever reads the record next (a retry, or the next discovery) instead of
    losing it."""
    origin: str | None = None
    """The origin check's outcome of a video of one file (a chaptered recording's are its
    chapters'): `matched (…)` or `unavailable (why)`; None: not checked."""
    count_claimed_until: datetime | None = None
    """While the count is pending: until when one writer holds the right to send it. The
    completing worker takes it with COMPLETED; a reader takes an expired one with a
    conditional write before sending, so two readers never both send."""
    thumbnail_key: str | None = None
    """Where the archived video's thumbnail is kept (hot, outside the archive tiers); None
    until one was stored. The one change a COMPLETED record takes besides its count."""

    @property
    def media_id(self) -> str:
        return self.item.media_id

    @property
    def provider(self) -> str:
        return self.item.provider

    @property
    def object_keys(self) -> tuple[str, ...]:
        """Every object this record's video is archived in: its chapters', or its one."""
        if self.chapters:
            return tuple(chapter.key for chapter in self.chapters)
        return (self.object_key,) if self.object_key else ()

    @classmethod
    def discovered(cls, item: MediaItem, now: datetime) -> SyncRecord:
        """The record discovery writes the first time it sees a video."""
        check_transition(item.media_id, None, SyncStatus.PENDING)
        return cls(item=item, status=SyncStatus.PENDING, version=1, updated_at=now)

    def refreshed(self, item: MediaItem, now: datetime) -> SyncRecord:
        """The same waiting record (PENDING or FAILED) with the provider's latest metadata:
        a size the provider corrected must not keep failing the video's verification."""
        if item.media_id != self.media_id:
            raise InvalidSettingError(
                "item", f"belongs to {item.media_id!r}, not {self.media_id!r}"
            )
        check_transition(self.media_id, self.status, self.status)
        if self.status not in WAITING:
            raise IllegalTransitionError(
                self.media_id, self.status.value, self.status.value, "only a waiting record"
            )
        return replace(self, item=item, version=self.version + 1, updated_at=now)

    def claim(self, worker: str, now: datetime, lease_for: timedelta) -> SyncRecord:
        """Take (or renew) the lease to transfer this video.

        A claim after a FAILED attempt, or the takeover of an expired lease, counts as a
        retry. A renewal by the holder does not.
        """
        if lease_for <= timedelta(0):
            raise InvalidSettingError("lease_for", "must be a positive duration")
        if self.status is SyncStatus.COMPLETED:
            raise AlreadyCompletedError(self.media_id, SyncStatus.IN_PROGRESS.value)
        retries = self.retry_count
        if self.status is SyncStatus.IN_PROGRESS and self.lease is not None:
            if self.lease.active(now) and self.lease.holder != worker:
                raise LeaseHeldError(
                    self.media_id, self.lease.holder, self.lease.expires_at.isoformat()
                )
            if not self.lease.active(now):
                retries += 1
        elif self.status is SyncStatus.FAILED:
            retries += 1
        check_transition(self.media_id, self.status, SyncStatus.IN_PROGRESS)
        return replace(
            self,
            status=SyncStatus.IN_PROGRESS,
            version=self.version + 1,
            updated_at=now,
            lease=Lease(worker, now + lease_for),
            retry_count=retries,
        )

    def _require_holder(self, worker: str, target: SyncStatus) -> None:
        """Finishing a transfer is legal from IN_PROGRESS only, and only for the lease holder."""
        check_transition(self.media_id, self.status, target)
        if self.lease is None or self.lease.holder != worker:
            raise NotLeaseHolderError(self.media_id, self.status.value, target.value, worker)

    def pause(
        self, worker: str, now: datetime, lease_for: timedelta, checkpoint: UploadCheckpoint
    ) -> SyncRecord:
        """The invocation ran out of time: keep the lease and where the upload stands."""
        return self._progressed(
            worker, now, lease_for,
            checkpoint=checkpoint, reserved_key=checkpoint.key, reserved_source=checkpoint.source,
        )  # fmt: skip

    def reserve(
        self,
        worker: str,
        now: datetime,
        lease_for: timedelta,
        key: str,
        source: SourceVersion | None = None,
    ) -> SyncRecord:
        """The file is about to be stored at `key` from version `source` of the source:
        keep both, so no later attempt stores it anywhere else (see `reserved_key`). A
        checkpoint of an upload to another key that is given up is dropped."""
        return self._progressed(
            worker, now, lease_for, reserved_key=key, reserved_source=source, checkpoint=None
        )

    def chapter_stored(
        self, worker: str, now: datetime, lease_for: timedelta, chapter: StoredChapter
    ) -> SyncRecord:
        """One more chapter is archived and verified; the recording is not done yet."""
        self._require_holder(worker, SyncStatus.IN_PROGRESS)
        if chapter.number != len(self.chapters) + 1:
            raise InvalidSettingError(
                "chapter", f"{chapter.number} follows {len(self.chapters)} stored chapters"
            )
        return self._progressed(
            worker, now, lease_for,
            checkpoint=None, reserved_key=None, reserved_source=None,
            chapters=(*self.chapters, chapter),
        )  # fmt: skip

    def _progressed(
        self, worker: str, now: datetime, lease_for: timedelta, **changes: Any
    ) -> SyncRecord:
        """The holder's transfer went on (still IN_PROGRESS): the lease is renewed and
        `changes` say how far it got."""
        self._require_holder(worker, SyncStatus.IN_PROGRESS)
        return replace(
            self,
            version=self.version + 1,
            updated_at=now,
            lease=Lease(worker, now + lease_for),
            **changes,
        )

    def complete(
        self,
        worker: str,
        now: datetime,
        stored: StoredObject,
        count_hold: timedelta = COUNT_HOLD,
        origin: str | None = None,
    ) -> SyncRecord:
        """The transfer was stored and verified: the video is archived for good. For a
        chaptered recording, `stored` is its last chapter and the others are recorded. The
        worker holds the right to send its count for `count_hold`."""
        self._require_holder(worker, SyncStatus.COMPLETED)
        key, size, checksum = stored.key, stored.size_bytes, stored.checksum
        chapters = self.chapters
        if chapters:
            last = StoredChapter(
                len(chapters) + 1, stored.key, stored.size_bytes, stored.checksum, origin
            )
            chapters = (*chapters, last)
            origin = None
            key, checksum = chapters[0].key, chapters[0].checksum
            size = sum(c.size_bytes for c in chapters)
        return replace(
            self,
            status=SyncStatus.COMPLETED,
            version=self.version + 1,
            updated_at=now,
            lease=None,
            object_key=key,
            stored_size=size,
            checksum=checksum,
            transferred_at=now,
            error=None,
            checkpoint=None,
            reserved_key=None,
            reserved_source=None,
            chapters=chapters,
            origin=origin,
            count_pending=True,
            count_claimed_until=now + count_hold,
        )

    def count_claimed(self, now: datetime, hold_for: timedelta = COUNT_HOLD) -> SyncRecord:
        """A reader takes the right to send the pending count, which nobody holds now."""
        self._require_pending_count("count claimed")
        if self.count_claimed_until is not None and now < self.count_claimed_until:
            raise IllegalTransitionError(
                self.media_id,
                self.status.value,
                f"{self.status.value} (count claimed)",
                f"the count is claimed until {self.count_claimed_until.isoformat()}",
            )
        return replace(
            self, version=self.version + 1, updated_at=now, count_claimed_until=now + hold_for
        )

    def counted(self, now: datetime) -> SyncRecord:
        """The archived video's VideosSynced count went out. With `count_claimed`, the only
        changes a COMPLETED record takes: nothing else about it ever changes again."""
        self._require_pending_count("counted")
        return replace(
            self,
            version=self.version + 1,
            updated_at=now,
            count_pending=False,
            count_claimed_until=None,
        )

    def with_thumbnail(self, key: str, now: datetime) -> SyncRecord:
        """The archived video's thumbnail was stored at `key`."""
        if self.status is not SyncStatus.COMPLETED or self.thumbnail_key is not None:
            raise IllegalTransitionError(
                self.media_id, self.status.value, f"{self.status.value} (thumbnail kept)"
            )
        return replace(self, version=self.version + 1, updated_at=now, thumbnail_key=key)

    def _require_pending_count(self, change: str) -> None:
        if self.status is not SyncStatus.COMPLETED or not self.count_pending:
            raise IllegalTransitionError(
                self.media_id, self.status.value, f"{self.status.value} ({change})"
            )

    def fail(self, worker: str, now: datetime, error: str) -> SyncRecord:
        """The attempt failed; the video waits for the next attempt with the reason kept."""
        self._require_holder(worker, SyncStatus.FAILED)
        return replace(
            self,
            status=SyncStatus.FAILED,
            version=self.version + 1,
            updated_at=now,
            lease=None,
            error=error[:ERROR_MESSAGE_LIMIT],
            checkpoint=None,
            # The upload may have completed before the attempt died: keep its key.
            reserved_key=self.checkpoint.key if self.checkpoint else self.reserved_key,
            reserved_source=self.checkpoint.source if self.checkpoint else self.reserved_source,
        )


def _claim_was_free(previous: SyncRecord, new: SyncRecord) -> bool:
    """A new count claim is taken only where none holds at its time, and runs ahead."""
    held, taken = previous.count_claimed_until, new.count_claimed_until
    return taken is not None and taken > new.updated_at and (held is None or held <= new.updated_at)


def check_change(previous: SyncRecord, new: SyncRecord) -> None:
    """Raise unless `new` may replace `previous` in a tracker: the next version of the same
    video, along the transition table, and of a COMPLETED record only its count recorded.
    Every tracker checks this before its conditional write."""
    if new.media_id != previous.media_id or new.version != previous.version + 1:
        raise StorageError(
            f"record {new.media_id!r} v{new.version} does not follow "
            f"{previous.media_id!r} v{previous.version}"
        )
    if (
        previous.status is SyncStatus.COMPLETED
        and previous.thumbnail_key is None
        and new.thumbnail_key is not None
    ):
        if new != previous.with_thumbnail(new.thumbnail_key, new.updated_at):
            raise IllegalTransitionError(new.media_id, previous.status.value, new.status.value)
        return
    if previous.status is SyncStatus.COMPLETED and (
        not previous.count_pending
        or new
        not in (
            previous.counted(new.updated_at),
            replace(
                previous,
                version=new.version,
                updated_at=new.updated_at,
                count_claimed_until=new.count_claimed_until,
            ),
        )
        or (new.count_pending and not _claim_was_free(previous, new))
    ):
        raise IllegalTransitionError(new.media_id, previous.status.value, new.status.value)
    if not is_legal(previous.status, new.status):
        raise IllegalTransitionError(new.media_id, previous.status.value, new.status.value)


@dataclass
class TrackerScan:
    """The tracker read whole: its records, and each record that cannot be read (media id
    -> why), which every run passes over until a person repairs it."""

    records: list[SyncRecord] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    pages: int = 0
    """Scan requests made (what the read cost)."""


@dataclass(frozen=True)
class RunReport:
    """One execution of the workflow, as its engine tells it."""

    name: str
    arn: str
    status: str
    """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
    started: datetime
    stopped: datetime | None = None
    total: int | None = None
    """Videos the run set out to sync (None: it has not listed them yet)."""
    handled: int = 0
    running: int = 0
    total_bytes: int | None = None
    """What the run set out to archive, in bytes, as the listing gave the sizes."""
    skipped: dict[str, int] | None = None
    """What the listing left out, by reason (None: it has not finished)."""
    videos: int | None = None
    """From the run's summary: videos counted, and those not archived."""
    failures: int | None = None
    failed: tuple[tuple[str, str], ...] = ()
    """The first videos not archived, each with why."""
    drill: str | None = None
    """What the run's summary did of the restore drill (domain.drill), in a line."""
    failed_state: str | None = None
    """Where a failed run failed, with the error and cause it caught."""
    error: str | None = None
    cause: str | None = None

    @property
    def finished(self) -> bool:
        return self.status != "RUNNING"

    @property
    def archived(self) -> int | None:
        if self.videos is None or self.failures is None:
            return None
        return self.videos - self.failures

    def seconds(self, now: datetime) -> float:
        return ((self.stopped or now) - self.started).total_seconds()

    def why(self) -> str | None:
        """A failed run's reason in one line; None when it did not fail."""
        if self.status in ("RUNNING", "SUCCEEDED"):
            return None
        where = f"in {self.failed_state}: " if self.failed_state else ""
        said = ": ".join(p for p in (self.error, self.cause) if p) or "no reason was given"
        return f"{self.status.lower().replace('_', ' ')} {where}{said}"
