"""Ports: everything outside the sync rules, as structural protocols.

Adapters (adapters/) and the in-memory fakes of the tests satisfy these without inheriting
from them; mypy checks that they do. Adapters translate their own failures into the
domain's errors (domain.errors), so the use cases never see a library's exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from domain.credentials import (
    Credentials,
    OAuthCredentials,
    SessionCredentials,
    SignIn,
    TokenGrant,
)
from domain.drift import Change
from domain.model import (
    ManifestLocation,
    MediaItem,
    MediaPage,
    RunningExecution,
    SourceVersion,
    StoredObject,
    SyncRecord,
    TrackerScan,
    UploadCheckpoint,
)


class Clock(Protocol):
    """The time now, timezone-aware."""

    def now(self) -> datetime: ...


class MediaDownload(Protocol):
    """One resolved download: its size, known before any byte moves, and its bytes."""

    @property
    def expected_size(self) -> int | None:
        """The size the provider serves (not its listing's, which may be off); None when
        it cannot say."""
        ...

    @property
    def version(self) -> SourceVersion | None:
        """The version of the file the provider serves (its validators and length), as
        known before any byte moves; None when it gives none."""
        ...

    def chunks(self, start: int = 0) -> Iterator[bytes]:
        """The video's bytes in order from byte `start`, in chunks of bounded size; each
        call starts again from there. Every byte is of `version`: a response of another
        raises SourceChangedError.

        Raises TransientSourceError for faults a later attempt may not meet and
        TransferRejectedError when the provider will not serve the video.
        """
        ...


class MediaSource(Protocol):
    """A provider's media library, reached with the credentials the adapter was given."""

    def pages(self, start: str | None = None) -> Iterator[MediaPage]:
        """The library page by page, from the first or from a page's `resume` token (so a
        listing can go on in a later call). Raises on a malformed or failed page, and
        InvalidSettingError on a token the provider never gave."""
        ...

    def unreadable_items(self) -> int:
        """How many entries of the pages the last `pages` call gave could not be read as
        media items (each skipped, with its reason in the adapter's report)."""
        ...

    def open_chapters(self, item: MediaItem) -> Sequence[MediaDownload]:
        """The original's files, in recording order: one for most media, one per chapter
        for a chaptered recording (the camera's files, never a derived concat or a proxy).

        Raises TransferRejectedError when the provider cannot serve an original.
        """
        ...

    def changes(self) -> Sequence[Change]:
        """How the provider's answers so far differed from the contract the adapter is
        written to (domain.drift), each kind once."""
        ...


class PreviewSource(Protocol):
    """The provider's small picture of an item (a thumbnail)."""

    def preview(self, item: MediaItem) -> bytes:
        """The picture's bytes, at most domain.thumbnails.THUMBNAIL_LIMIT of them. Raises
        TransientSourceError when it cannot be had now (none served, a refusal, a fault)."""
        ...


class PreviewStore(Protocol):
    """Where thumbnails are kept, hot, beside the archive."""

    def put(self, key: str, data: bytes) -> None:
        """Keep `data` at `key` (a new version replaces an earlier one whole)."""
        ...


class ChangeMemory(Protocol):
    """The provider's changes already reported (domain.drift), kept across nights."""

    def remember(self, provider: str, change: Change) -> bool:
        """Keep `change`; True when it was not known before (an atomic create: of two
        callers remembering the same change at once, one gets True)."""
        ...


class ProviderAuth(Protocol):
    """The provider's authentication endpoints."""

    def refresh(self, credentials: OAuthCredentials) -> TokenGrant:
        """Trade the refresh token for a new access token.

        Raises CredentialsRejectedError when the provider refuses the client or token.
        """
        ...

    def probe(self, credentials: SessionCredentials) -> None:
        """Check cheaply that a session token still works; CredentialsRejectedError if not."""
        ...


class ProviderSignIn(Protocol):
    """The provider's password sign-in, used once by a person at the command line."""

    def sign_in(self, username: str, password: str) -> SignIn:
        """Exchange an e-mail and password for refreshable tokens.

        Raises CredentialsRejectedError when the provider refuses them.
        """
        ...


class CredentialStore(Protocol):
    """Where a provider's credentials are kept (R2.1)."""

    def load(self, provider: str) -> Credentials:
        """The stored credentials; CredentialsMissingError when there are none."""
        ...

    def save(self, provider: str, credentials: Credentials) -> str:
        """Store new credentials (R2.3); returns the store's version id for them."""
        ...


class SyncTracker(Protocol):
    """The permanent record of every video's sync status (R4).

    Every write is conditional: `create` only where no record exists, `replace` only over
    the version that was read. A lost race raises ConcurrentUpdateError, never overwrites.
    """

    def get(self, media_id: str) -> SyncRecord | None: ...

    def get_many(self, media_ids: Sequence[str]) -> Mapping[str, SyncRecord]:
        """The records that exist among `media_ids`, by media id."""
        ...

    def create(self, record: SyncRecord) -> None: ...

    def create_many(self, records: Sequence[SyncRecord]) -> set[str]:
        """Create each of `records` where no record of its media id exists, in as few calls
        as the store allows; the ids that had one already (a concurrent writer won) are
        returned, and those records are left as they are. StorageError when the store
        refuses the batch as a whole: `create` them one by one to find the one at fault."""
        ...

    def replace(self, previous: SyncRecord, new: SyncRecord) -> None: ...

    def completed(self, provider: str) -> Iterator[SyncRecord]:
        """Every COMPLETED record of `provider` (a scan of the whole tracker)."""
        ...

    def unreadable(self) -> Mapping[str, str]:
        """The records the last `get_many` or `completed` call met and could not read:
        media id -> why. Those calls skip them, so one broken record never stops the rest;
        `get` of one raises UnreadableRecordError."""
        ...


class CatalogStore(Protocol):
    """Where the archive's catalog is kept, whole: a write replaces it at once."""

    def write(self, provider: str, text: str) -> None: ...

    def read(self, provider: str) -> str | None:
        """The catalog, or None when none was written yet."""
        ...


class ArchiveListing(Protocol):
    """What the archive holds, from its listing (no object read)."""

    def sizes(self, prefix: str) -> dict[str, int]:
        """Key -> size of every object whose key starts with `prefix`."""
        ...


class ObjectStore(Protocol):
    """The archive. Objects are created, never overwritten."""

    def describe(self, key: str) -> StoredObject | None:
        """What is stored at `key`, or None."""
        ...

    def create(
        self,
        key: str,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        """Store the bytes at `key`, tagged with the media id that owns them.

        Raises KeyTakenError, having written nothing, when an object is already there.
        Stores nothing unless exactly `size_bytes` bytes arrived. A large object goes up in
        parts: after each part but the last the store asks `pause()`; when it answers True it
        returns an UploadCheckpoint and leaves the upload open. On any failure an open
        upload is aborted.
        """
        ...

    def resume(
        self,
        checkpoint: UploadCheckpoint,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        """Go on with the paused upload `checkpoint` describes; `chunks` start at its offset.

        Raises KeyTakenError when the object is there already (the upload completed before
        its checkpoint could be replaced, or another writer took the key), and StorageError
        when the upload no longer holds the checkpoint's parts. Otherwise as `create`.
        """
        ...

    def abandon(self, checkpoint: UploadCheckpoint) -> None:
        """Abort the paused upload `checkpoint` describes (its parts are of no use); an
        upload already gone is no error."""
        ...


class Metrics(Protocol):
    """Operational counters (R7.1-R7.3)."""

    def video_synced(self, provider: str, size_bytes: int) -> None: ...

    def sync_failed(self, provider: str, error_type: str) -> None: ...

    def items_skipped(self, provider: str, reason: str, count: int) -> None:
        """`count` listed items a run did not transfer, for `reason`."""
        ...

    def provider_changed(self, provider: str, kind: str) -> None:
        """The provider answered in a way not seen before (domain.drift)."""
        ...


class Notifier(Protocol):
    """Alerts that reach a person (R3.6)."""

    def alert(self, subject: str, message: str) -> None: ...


class EtagVerdicts(Protocol):
    """What the archive has concluded about a provider's ETags: whether they stopped
    being MD5s of the bytes served (many mismatches and no match in one run)."""

    def distrusted(self, provider: str) -> str | None:
        """Why the provider's ETags are judged not to be content hashes; None while they
        are trusted."""
        ...

    def judge(self, provider: str, why: str | None) -> None:
        """Record the judgement: `why` they are distrusted, or None to trust them again."""
        ...


class Runs(Protocol):
    """The workflow's executions, as the workflow service lists them."""

    def running(self, execution: str) -> Sequence[RunningExecution]:
        """The executions of `execution`'s workflow that are running now, itself included."""
        ...


class RunManifest(Protocol):
    """Where one run's chosen media ids wait for the downloads: the list grows with the
    library, so it travels by reference, never in the workflow's state."""

    def add(self, run: str, part: int, media_ids: Sequence[str]) -> None:
        """Keep part `part` (from 0) of run `run`'s list; writing a part again replaces it."""
        ...

    def seal(self, run: str, parts: int) -> ManifestLocation:
        """Join parts 0..parts-1 into the run's list, each id once, in order."""
        ...

    def read(self, location: ManifestLocation) -> list[str]:
        """The ids of a sealed list."""
        ...


class TrackerReader(Protocol):
    """The tracker, read whole and only read (the operator's commands)."""

    def scan(self, provider: str | None = None) -> TrackerScan:
        """Every record (of `provider`, when given); unreadable ones apart, with why."""
        ...


class ArchiveReader(Protocol):
    """What the archive holds, only read: no key to write with is needed."""

    def describe(self, key: str) -> StoredObject | None:
        """The object at `key` with the checksum the store keeps; None when absent."""
        ...

    def sizes(self, prefix: str) -> dict[str, int]:
        """Key -> size of every object under `prefix`."""
        ...


class CatalogReader(Protocol):
    def read(self, provider: str) -> str | None:
        """The provider's catalog text, or None when none was written yet."""
        ...
