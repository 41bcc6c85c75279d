"""In-memory stand-ins for every port, so a whole sync runs inside a unit test.

They keep the ports' promises (conditional writes, no overwrite, nothing stored from a
stream that failed) and offer knobs for the faults the use cases must survive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.credentials import Credentials, OAuthCredentials, SessionCredentials, TokenGrant
from domain.drift import Change
from domain.drill import DrillState
from domain.errors import (
    ConcurrentUpdateError,
    CredentialsMissingError,
    CredentialsRejectedError,
    DomainError,
    KeyTakenError,
    SourceChangedError,
    StorageError,
    TransientSourceError,
    UnreadableRecordError,
)
from domain.model import (
    ManifestLocation,
    MediaItem,
    MediaPage,
    SourceVersion,
    StoredObject,
    SyncRecord,
    TrackerScan,
    UploadCheckpoint,
    check_change,
)
from domain.ports import (
    CatalogStore,
    Clock,
    CredentialStore,
    EtagVerdicts,
    MediaDownload,
    MediaSource,
    Metrics,
    Notifier,
    ObjectStore,
    ProviderAuth,
    RunManifest,
    SyncTracker,
)
from domain.restore import ObjectState, RestoreError, State, Tier
from domain.status import SyncStatus
from domain.transfer import TransferPorts
from domain.verification import Crc32, crc32_of

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
AUTO_ETAG = "(the MD5 of the bytes)"


class FixedClock:
    def __init__(self, now: datetime = EPOCH) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def make_item(
    media_id: str,
    filename: str = "GX010123.MP4",
    size: int | None = 100,
    captured_at: datetime | None = EPOCH,
    media_type: str = "Video",
    readiness: str = "ready",
    provider: str = "gopro",
) -> MediaItem:
    """A video ready to archive, for example-based tests."""
    return MediaItem(
        provider=provider,
        media_id=media_id,
        filename=filename,
        size_bytes=size,
        uploaded_at=EPOCH + timedelta(days=1),
        captured_at=captured_at,
        duration_seconds=12.5,
        media_type=media_type,
        readiness=readiness,
    )


def content_for(media_id: str, size: int | None) -> bytes:
    """Deterministic bytes that differ between media ids."""
    if size is None:
        return b""
    seed = media_id.encode("ascii") + b"|"
    return (seed * (size // len(seed) + 1))[:size]


@dataclass
class FakeVideo:
    item: MediaItem
    data: bytes
    announced_size: int | None = None
    """What the provider vouches for; None: the true length."""
    size_unknown: bool = False
    """The provider cannot say how large the video is."""
    cut_after: int | None = None
    """Stop the stream after this many bytes, as a body shorter than announced."""
    error: DomainError | None = None
    """Raised when the download is opened, once per value in `error_times`."""
    error_times: int = 1
    chapters: tuple[int, ...] = ()
    """A chaptered recording: the sizes of its chapters, which split `data` in order."""
    etag: str | None = AUTO_ETAG
    """The ETag each file is served with: by default the plain MD5 of its bytes (as the
    CDN's for a file uploaded in one part); None: no ETag."""

    def files(self) -> list[FakeVideo]:
        """One FakeVideo a file: itself, or one per chapter."""
        if not self.chapters:
            return [self]
        assert sum(self.chapters) == len(self.data), "the chapters must add up to the data"
        found, start = [], 0
        for size in self.chapters:
            found.append(FakeVideo(self.item, self.data[start : start + size], etag=self.etag))
            start += size
        return found


class FakeDownload:
    """One file of a FakeVideo. Replacing the video in its source (`source.videos[id] =`)
    is the source changing: a download opened before then raises SourceChangedError at
    its next chunk, as the GoPro adapter does when a response is of another version."""

    def __init__(self, video: FakeVideo, source: FakeMediaSource, chunk_size: int) -> None:
        self._video = video
        self._source = source
        self._chunk_size = chunk_size
        self._opened = source.videos.get(video.item.media_id)

    @property
    def version(self) -> SourceVersion | None:
        video = self._video
        etag = video.etag
        if etag == AUTO_ETAG:
            etag = hashlib.md5(video.data, usedforsecurity=False).hexdigest()
        return SourceVersion(etag, None, len(video.data))

    @property
    def expected_size(self) -> int | None:
        video = self._video
        if video.size_unknown:
            return None
        return video.announced_size if video.announced_size is not None else len(video.data)

    def chunks(self, start: int = 0) -> Iterator[bytes]:
        data = self._video.data
        if self._video.cut_after is not None:
            data = data[: self._video.cut_after]
        self._source.streams_opened += 1
        for offset in range(start, len(data), self._chunk_size):
            now = self._source.videos.get(self._video.item.media_id)
            if now is not self._opened:
                raise SourceChangedError(self._video.item.media_id, ["the fake was replaced"])
            chunk = data[offset : offset + self._chunk_size]
            self._source.bytes_served += len(chunk)
            yield chunk


class FakeMediaSource:
    def __init__(self, videos: Iterable[FakeVideo] = (), chunk_size: int = 7) -> None:
        self.noticed: list[Change] = []
        """What the fake provider answered unlike the contract (a test sets it)."""
        self.videos: dict[str, FakeVideo] = {}
        self.listing: list[MediaItem] = []
        for video in videos:
            self.add(video)
        self.chunk_size = chunk_size
        self.page_size = 100
        self.streams_opened = 0
        self.bytes_served = 0
        self.unreadable = 0
        """Entries of the listing that could not be read (as a real adapter counts them)."""

    def add(self, video: FakeVideo) -> None:
        self.videos[video.item.media_id] = video
        self.listing.append(video.item)

    def list_media(self) -> Iterator[MediaItem]:
        yield from self.listing

    def pages(self, start: str | None = None) -> Iterator[MediaPage]:
        """The listing in pages of `page_size`; a page's token is the index of its first item."""
        first = 0 if start is None else int(start)
        for at in range(first, max(len(self.listing), 1), self.page_size):
            following = at + self.page_size
            more = following < len(self.listing)
            yield MediaPage(tuple(self.listing[at:following]), str(following) if more else None)

    def unreadable_items(self) -> int:
        return self.unreadable

    def changes(self) -> list[Change]:
        return list(self.noticed)

    def open_chapters(self, item: MediaItem) -> list[MediaDownload]:
        video = self.videos[item.media_id]
        if video.error is not None and video.error_times > 0:
            video.error_times -= 1
            raise video.error
        return [FakeDownload(file, self, self.chunk_size) for file in video.files()]


class InMemorySyncTracker:
    def __init__(self) -> None:
        self.records: dict[str, SyncRecord] = {}
        self.writes = 0
        self.broken: dict[str, str] = {}
        """Media ids whose stored record cannot be read, and why (as a DynamoDB item with
        an impossible date): the record stays, and every write over it is refused."""
        self._unreadable: dict[str, str] = {}

    def _readable(self, media_id: str) -> bool:
        if media_id in self.broken:
            self._unreadable[media_id] = self.broken[media_id]
            return False
        return True

    def get(self, media_id: str) -> SyncRecord | None:
        if media_id in self.broken:
            raise UnreadableRecordError(media_id, self.broken[media_id])
        return self.records.get(media_id)

    def get_many(self, media_ids: Sequence[str]) -> Mapping[str, SyncRecord]:
        self._unreadable = {}
        return {
            mid: self.records[mid]
            for mid in media_ids
            if mid in self.records and self._readable(mid)
        }

    def unreadable(self) -> Mapping[str, str]:
        return dict(self._unreadable)

    def scan(self, provider: str | None = None) -> TrackerScan:
        """The tracker read whole (the operator's TrackerReader)."""
        found = TrackerScan(pages=1)
        for media_id, record in sorted(self.records.items()):
            if provider is not None and record.provider != provider:
                continue
            if media_id in self.broken:
                found.unreadable[media_id] = self.broken[media_id]
            else:
                found.records.append(record)
        return found

    def create(self, record: SyncRecord) -> None:
        if record.version != 1:
            raise StorageError(f"a new record starts at version 1, not {record.version}")
        if record.media_id in self.records:
            raise ConcurrentUpdateError(record.media_id, None)
        self.records[record.media_id] = record
        self.writes += 1

    def create_many(self, records: Sequence[SyncRecord]) -> set[str]:
        """As the DynamoDB tracker: every record is checked before any is written."""
        if len({r.media_id for r in records}) != len(records):
            raise StorageError("a batch names one media id twice")
        for new in records:
            if new.version != 1:
                raise StorageError(f"a new record starts at version 1, not {new.version}")
        taken = {r.media_id for r in records if r.media_id in self.records}
        for new in records:
            if new.media_id not in taken:
                self.records[new.media_id] = new
        self.writes += 1
        return taken

    def completed(self, provider: str) -> Iterator[SyncRecord]:
        self._unreadable = {}
        snapshot = list(self.records.values())
        return iter(
            [
                r
                for r in snapshot
                if r.provider == provider
                and self._readable(r.media_id)
                and r.status is SyncStatus.COMPLETED
            ]
        )

    def replace(self, previous: SyncRecord, new: SyncRecord) -> None:
        """As the DynamoDB tracker: only along the transition table, and only over the
        version and status that were read."""
        check_change(previous, new)
        stored = self.records.get(previous.media_id)
        if stored is None or (stored.version, stored.status) != (
            previous.version,
            previous.status,
        ):
            raise ConcurrentUpdateError(previous.media_id, previous.version)
        self.records[new.media_id] = new
        self.writes += 1


class InMemoryEtagVerdicts:
    def __init__(self) -> None:
        self.verdicts: dict[str, str] = {}

    def distrusted(self, provider: str) -> str | None:
        return self.verdicts.get(provider)

    def judge(self, provider: str, why: str | None) -> None:
        if why is None:
            self.verdicts.pop(provider, None)
        else:
            self.verdicts[provider] = why


class InMemoryCatalogStore:
    def __init__(self) -> None:
        self.catalogs: dict[str, str] = {}

    def write(self, provider: str, text: str) -> None:
        self.catalogs[provider] = text

    def read(self, provider: str) -> str | None:
        return self.catalogs.get(provider)


@dataclass
class StoredBytes:
    data: bytes
    owner: str | None


class InMemoryObjectStore:
    """Objects in a dict. With `part_size` set, objects larger than a part go up in parts
    that can pause and resume, as S3 multipart uploads do."""

    def __init__(self, part_size: int | None = None) -> None:
        self.objects: dict[str, StoredBytes] = {}
        self.part_size = part_size
        self.uploads: dict[str, list[bytes]] = {}
        """Open multipart uploads by id: their acknowledged parts."""
        self.aborted: list[str] = []
        self.started = 0
        """Multipart uploads begun."""
        self.upload_keys: dict[str, str] = {}
        """The key of each open upload, by id."""
        self.corrupt_next = False
        """Flip a byte of the next object after its checksum was taken (a store-side fault)."""

    def _describe(self, key: str, stored: StoredBytes) -> StoredObject:
        return StoredObject(key, len(stored.data), crc32_of(stored.data), stored.owner)

    def describe(self, key: str) -> StoredObject | None:
        stored = self.objects.get(key)
        return None if stored is None else self._describe(key, stored)

    def sizes(self, prefix: str) -> dict[str, int]:
        return {k: len(v.data) for k, v in self.objects.items() if k.startswith(prefix)}

    def create(
        self,
        key: str,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        return self._store(key, media_id, chunks, size_bytes, None, pause)

    def resume(
        self,
        checkpoint: UploadCheckpoint,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        key = checkpoint.key
        if key in self.objects:
            raise KeyTakenError(key, self.objects[key].owner)
        parts = self.uploads.get(checkpoint.upload_id)
        if (
            parts is None
            or len(parts) < checkpoint.parts
            or (sum(len(part) for part in parts[: checkpoint.parts]) != checkpoint.offset)
        ):
            if parts is not None:  # as S3's store: any failure aborts the upload
                self._abort(checkpoint.upload_id)
            raise StorageError(
                f"the paused upload of {key!r} no longer holds the checkpoint's "
                f"{checkpoint.parts} parts of {checkpoint.offset} bytes"
            )
        return self._store(key, media_id, chunks, size_bytes, checkpoint, pause)

    def abandon(self, checkpoint: UploadCheckpoint) -> None:
        if checkpoint.upload_id in self.uploads:
            self._abort(checkpoint.upload_id)

    def _store(
        self,
        key: str,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        resume: UploadCheckpoint | None,
        pause: Callable[[], bool] | None,
    ) -> StoredObject | UploadCheckpoint:
        if key in self.objects:
            raise KeyTakenError(key, self.objects[key].owner)
        if self.part_size is None or (resume is None and size_bytes <= self.part_size):
            data = b"".join(chunks)  # an exception from the stream stores nothing
        else:
            upload = self._parts(key, chunks, size_bytes, resume, pause)
            if isinstance(upload, UploadCheckpoint):
                return upload
            data = upload
        if len(data) != size_bytes:
            raise StorageError(f"{key!r}: {len(data)} bytes arrived, {size_bytes} announced")
        if key in self.objects:  # written by someone else while the stream ran
            raise KeyTakenError(key, self.objects[key].owner)
        self.objects[key] = StoredBytes(data, media_id)
        described = self._describe(key, self.objects[key])
        if self.corrupt_next:
            self.corrupt_next = False
            flipped = bytes([data[0] ^ 0xFF]) + data[1:] if data else b"\x00"
            self.objects[key] = StoredBytes(flipped, media_id)
            return self._describe(key, self.objects[key])
        return described

    def _parts(
        self,
        key: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        resume: UploadCheckpoint | None,
        pause: Callable[[], bool] | None,
    ) -> bytes | UploadCheckpoint:
        assert self.part_size is not None
        if resume is None:
            self.started += 1
        upload_id = resume.upload_id if resume else f"upload-{self.started}"
        parts = self.uploads.setdefault(upload_id, [])
        self.upload_keys[upload_id] = key
        del parts[resume.parts if resume else 0 :]  # parts past the checkpoint are redone
        crc = Crc32(resume.crc32 if resume else 0)
        pending = bytearray()

        def flush() -> None:
            parts.append(bytes(pending))
            crc.update(bytes(pending))
            pending.clear()

        try:
            for chunk in chunks:
                pending.extend(chunk)
                while len(pending) >= self.part_size:
                    rest = pending[self.part_size :]
                    del pending[self.part_size :]
                    flush()
                    pending.extend(rest)
                    offset = sum(len(part) for part in parts)
                    if offset < size_bytes and pause is not None and pause():
                        return UploadCheckpoint(key, upload_id, len(parts), offset, crc.value)
        except Exception:
            self._abort(upload_id)
            raise
        if pending:
            flush()
        del self.upload_keys[upload_id]
        return b"".join(self.uploads.pop(upload_id))

    def _abort(self, upload_id: str) -> None:
        self.aborted.append(upload_id)
        del self.uploads[upload_id]
        del self.upload_keys[upload_id]

    def open_uploads(self) -> list[str]:
        """The keys of the uploads begun and neither completed nor aborted."""
        return sorted(self.upload_keys.values())


@dataclass
class RecordingMetrics:
    synced: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str, int]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)

    def video_synced(self, provider: str, size_bytes: int) -> None:
        self.synced.append((provider, size_bytes))

    def sync_failed(self, provider: str, error_type: str) -> None:
        self.failed.append((provider, error_type))

    def items_skipped(self, provider: str, reason: str, count: int) -> None:
        self.skipped.append((provider, reason, count))

    def provider_changed(self, provider: str, kind: str) -> None:
        self.changed.append((provider, kind))


@dataclass
class RecordingNotifier:
    alerts: list[tuple[str, str]] = field(default_factory=list)

    def alert(self, subject: str, message: str) -> None:
        self.alerts.append((subject, message))


class InMemoryCredentialStore:
    def __init__(self, credentials: Credentials | None = None) -> None:
        self.credentials = credentials
        self.versions: list[Credentials] = []
        self.loads = 0

    def load(self, provider: str) -> Credentials:
        self.loads += 1
        if self.credentials is None:
            raise CredentialsMissingError(provider, "the in-memory store")
        return self.credentials

    def save(self, provider: str, credentials: Credentials) -> str:
        self.credentials = credentials
        self.versions.append(credentials)
        return f"v{len(self.versions)}"


class FakeProviderAuth:
    def __init__(self, grant: TokenGrant | None = None, session_valid: bool = True) -> None:
        self.grant = grant
        self.session_valid = session_valid
        self.refreshes = 0
        self.probes = 0

    def refresh(self, credentials: OAuthCredentials) -> TokenGrant:
        self.refreshes += 1
        if self.grant is None:
            raise CredentialsRejectedError("gopro", "the refresh token was revoked")
        return self.grant

    def probe(self, credentials: SessionCredentials) -> None:
        self.probes += 1
        if not self.session_valid:
            raise CredentialsRejectedError("gopro", "copy a new gp_access_token from a browser")


@dataclass
class InMemoryRunManifest:
    """The run-manifest port in a dict, as the S3 adapter keeps it: parts, then one list."""

    def __init__(self, bucket: str = "b") -> None:
        self.bucket = bucket
        self.parts: dict[tuple[str, int], list[str]] = {}
        self.lists: dict[str, list[str]] = {}

    def add(self, run: str, part: int, media_ids: Sequence[str]) -> None:
        self.parts[run, part] = list(media_ids)

    def seal(self, run: str, parts: int) -> ManifestLocation:
        missing = [n for n in range(parts) if (run, n) not in self.parts]
        if missing:
            raise StorageError(f"run {run!r} has no part {missing[0]}")
        joined = dict.fromkeys(m for n in range(parts) for m in self.parts[run, n])
        key = f"runs/{run}/to-sync.json"
        self.lists[key] = list(joined)
        return ManifestLocation(self.bucket, key, len(joined))

    def read(self, location: ManifestLocation) -> list[str]:
        if location.bucket != self.bucket or location.key not in self.lists:
            raise StorageError(f"no run list at s3://{location.bucket}/{location.key}")
        return list(self.lists[location.key])


@dataclass
class World:
    """One provider's library, the archive and every other port, wired together."""

    source: FakeMediaSource = field(default_factory=FakeMediaSource)
    tracker: InMemorySyncTracker = field(default_factory=InMemorySyncTracker)
    store: InMemoryObjectStore = field(default_factory=InMemoryObjectStore)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    clock: FixedClock = field(default_factory=FixedClock)
    manifest: InMemoryRunManifest = field(default_factory=InMemoryRunManifest)
    catalog: InMemoryCatalogStore = field(default_factory=InMemoryCatalogStore)
    verdicts: InMemoryEtagVerdicts = field(default_factory=InMemoryEtagVerdicts)

    def ports(self) -> TransferPorts:
        return TransferPorts(
            self.source,
            self.tracker,
            self.store,
            self.metrics,
            self.notifier,
            self.clock,
            self.verdicts,
        )


def _conformance(world: World) -> None:
    """Never called: mypy checks here that each fake satisfies its port."""
    checks: tuple[
        MediaSource,
        SyncTracker,
        ObjectStore,
        Metrics,
        Notifier,
        Clock,
        CredentialStore,
        ProviderAuth,
        RunManifest,
        CatalogStore,
        EtagVerdicts,
    ] = (
        world.source,
        world.tracker,
        world.store,
        world.metrics,
        world.notifier,
        world.clock,
        InMemoryCredentialStore(),
        FakeProviderAuth(),
        world.manifest,
        world.catalog,
        world.verdicts,
    )
    del checks


JPEG = b"\xff\xd8\xff\xe0" + b"thumbnail" * 10


class FakePreviewSource:
    """Serves a small JPEG per item; `failing` ids raise, `answers` override the bytes."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.answers: dict[str, bytes] = {}
        self.asked: list[str] = []

    def preview(self, item: MediaItem) -> bytes:
        self.asked.append(item.media_id)
        if item.media_id in self.failing:
            raise TransientSourceError(f"thumbnail of {item.media_id}: HTTP 503")
        return self.answers.get(item.media_id, JPEG + item.media_id.encode())


class InMemoryPreviewStore:
    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}
        self.refuse = False

    def put(self, key: str, data: bytes) -> None:
        if self.refuse:
            raise StorageError(f"S3 PutObject {key!r} failed: AccessDenied")
        self.kept[key] = data

    def read(self, key: str) -> bytes | None:
        return self.kept.get(key)


class InMemoryChangeMemory:
    def __init__(self) -> None:
        self.known: dict[tuple[str, str], Change] = {}
        self.refuse = False

    def remember(self, provider: str, change: Change) -> bool:
        if self.refuse:
            raise StorageError("S3 PutObject refused: AccessDenied")
        if (provider, change.identity) in self.known:
            return False
        self.known[(provider, change.identity)] = change
        return True


class InMemoryDrillLog:
    def __init__(self) -> None:
        self.states: dict[str, DrillState] = {}

    def load(self, provider: str) -> DrillState:
        return self.states.get(provider, DrillState())

    def save(self, provider: str, state: DrillState) -> None:
        self.states[provider] = state


@dataclass
class ArchivedBytes:
    data: bytes
    storage_class: str = "DEEP_ARCHIVE"
    restore: str = "none"
    """none, pending or ready."""


class InMemoryDrillArchive:
    """An archive whose objects sit in a class and restore when told (`finish`)."""

    def __init__(self) -> None:
        self.objects: dict[str, ArchivedBytes] = {}
        self.requested: list[tuple[str, Tier, int]] = []

    def state(self, key: str) -> ObjectState | None:
        found = self.objects.get(key)
        if found is None:
            return None
        if found.storage_class not in ("DEEP_ARCHIVE", "GLACIER"):
            return ObjectState(key, found.storage_class, State.READABLE)
        kind = {"none": State.NOT_REQUESTED, "pending": State.PENDING, "ready": State.READY}
        return ObjectState(key, found.storage_class, kind[found.restore])

    def request(self, key: str, tier: Tier, days: int) -> object:
        self.requested.append((key, tier, days))
        self.objects[key].restore = "pending"
        return "restore started"

    def finish(self) -> None:
        for found in self.objects.values():
            if found.restore == "pending":
                found.restore = "ready"

    def download(self, key: str) -> Iterator[bytes]:
        found = self.objects[key]
        if found.storage_class in ("DEEP_ARCHIVE", "GLACIER") and found.restore != "ready":
            raise RestoreError(f"{key} is archived and not restored")
        yield found.data
