"""The archive audited against the tracker and the source, with no restore: what `cloudsync
verify` and the catalog rest on.

- Every object a COMPLETED record names (its one object, or each chapter) must be in the
  store at its key, with the recorded size and, where both say, the recorded checksum
  (the whole-object CRC32 S3 holds: a HeadObject, never a read of the bytes).
- Every object under the archive prefix must be claimed by a COMPLETED record; one that
  is not is reported (a stray: left by hand, or by a record that was changed).
- Against the source's listing: an archived video the source no longer lists is the
  archive's only copy (reported, not a fault); a video the source lists as ready that is
  neither archived nor FAILED is not archived yet.

Each finding is reported once, with the media id and key it concerns.
"""

from __future__ import annotations

import contextvars
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.keys import archive_prefix
from domain.model import Checksum, MediaItem, StoredObject, SyncRecord, TrackerScan
from domain.ports import ArchiveReader
from domain.rules import SelectionPolicy
from domain.status import SyncStatus


class Finding(StrEnum):
    MISSING = "missing"
    """A COMPLETED record names an object the store does not hold."""
    SIZE_DIFFERS = "size_differs"
    CHECKSUM_DIFFERS = "checksum_differs"
    OWNER_DIFFERS = "owner_differs"
    """The object's owner metadata names another video."""
    UNCLAIMED = "unclaimed"
    """An object under the archive prefix that no COMPLETED record names."""
    NOT_ARCHIVED = "not_archived"
    """The source lists it as ready; it is neither archived nor FAILED."""
    ONLY_COPY = "only_copy"
    """Archived, and no longer in the source: the archive is the only copy."""
    UNREADABLE = "unreadable"
    """A tracker record that cannot be read as one."""


FAULTS = frozenset(Finding) - {Finding.ONLY_COPY}
"""The findings that make a verification fail; ONLY_COPY is information."""


@dataclass(frozen=True)
class Discrepancy:
    finding: Finding
    media_id: str | None
    key: str | None
    detail: str

    @property
    def is_fault(self) -> bool:
        return self.finding in FAULTS

    def line(self) -> str:
        where = " ".join(part for part in (self.media_id, self.key) if part)
        return f"{self.finding.value}: {where}: {self.detail}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "finding": self.finding.value,
            "media_id": self.media_id,
            "key": self.key,
            "detail": self.detail,
        }


def unreadable_record(media_id: str, why: str) -> Discrepancy:
    """A tracker record that cannot be read, named with why."""
    return Discrepancy(Finding.UNREADABLE, media_id, None, f"the record cannot be read: {why}")


@dataclass(frozen=True)
class ArchivedObject:
    """One object a COMPLETED record says the archive holds."""

    media_id: str
    key: str
    size_bytes: int | None
    checksum: Checksum | None
    chapter: int | None
    """1-based for a chaptered recording; None for a video of one file."""
    origin: str | None = None
    """The origin check's outcome when it was stored (None: not checked)."""


def archived_objects(record: SyncRecord) -> list[ArchivedObject]:
    """The objects a COMPLETED record names (none for any other status)."""
    if record.status is not SyncStatus.COMPLETED:
        return []
    if record.chapters:
        return [
            ArchivedObject(record.media_id, c.key, c.size_bytes, c.checksum, c.number, c.origin)
            for c in record.chapters
        ]
    if record.object_key is None:
        return []
    return [
        ArchivedObject(
            record.media_id,
            record.object_key,
            record.stored_size,
            record.checksum,
            None,
            record.origin,
        )
    ]


def check_object(expected: ArchivedObject, found: StoredObject | None) -> Discrepancy | None:
    """The first way `found` (what the store says is at the key) differs from what the
    record says, or None."""
    media_id, key = expected.media_id, expected.key
    if found is None:
        return Discrepancy(Finding.MISSING, media_id, key, "the record says archived; no object")
    if expected.size_bytes is not None and found.size_bytes != expected.size_bytes:
        return Discrepancy(
            Finding.SIZE_DIFFERS,
            media_id,
            key,
            f"recorded {expected.size_bytes} bytes, the object has {found.size_bytes}",
        )
    recorded, held = expected.checksum, found.checksum
    if (
        recorded is not None
        and held is not None
        and recorded.algorithm == held.algorithm
        and recorded.value != held.value
    ):
        return Discrepancy(
            Finding.CHECKSUM_DIFFERS,
            media_id,
            key,
            f"recorded {recorded.algorithm} {recorded.value}, the object has {held.value}",
        )
    if found.owner_media_id is not None and found.owner_media_id != media_id:
        return Discrepancy(
            Finding.OWNER_DIFFERS, media_id, key, f"the object belongs to {found.owner_media_id}"
        )
    return None


def unclaimed(
    provider: str, keys: Iterable[str], records: Iterable[SyncRecord]
) -> list[Discrepancy]:
    """Objects under the provider's archive prefix that no COMPLETED record names."""
    prefix = archive_prefix(provider)
    claimed = {obj.key for record in records for obj in archived_objects(record)}
    return [
        Discrepancy(Finding.UNCLAIMED, None, key, "no archived record names this object")
        for key in sorted(keys)
        if key.startswith(prefix) and key not in claimed
    ]


def against_source(
    records: Mapping[str, SyncRecord], listed: Iterable[MediaItem], policy: SelectionPolicy
) -> list[Discrepancy]:
    """The archive against the source's listing (see the module docstring)."""
    seen: set[str] = set()
    found: list[Discrepancy] = []
    for item in listed:
        seen.add(item.media_id)
        record = records.get(item.media_id)
        if policy.rejects(item) is not None:
            continue  # not a video the sync takes (a photo, still processing)
        if record is None or record.status not in (SyncStatus.COMPLETED, SyncStatus.FAILED):
            status = "never recorded" if record is None else f"the record is {record.status}"
            found.append(
                Discrepancy(
                    Finding.NOT_ARCHIVED,
                    item.media_id,
                    None,
                    f"{item.filename}: ready in the source, {status}",
                )
            )
    for media_id, record in sorted(records.items()):
        if record.status is SyncStatus.COMPLETED and media_id not in seen:
            found.append(
                Discrepancy(
                    Finding.ONLY_COPY,
                    media_id,
                    record.object_key,
                    f"{record.item.filename}: no longer in the source; the archive is "
                    "the only copy",
                )
            )
    return found


NIGHTLY_SLICES = 30
"""The nightly check takes a thirtieth of the archive each night: all of it in a month."""


def in_tonights_slice(media_id: str, night: int, slices: int = NIGHTLY_SLICES) -> bool:
    """Whether `media_id` falls in night number `night`'s slice (a stable hash, so each
    video is checked once in every `slices` nights)."""
    return zlib.crc32(media_id.encode("utf-8")) % slices == night % slices


HEAD_WORKERS = 16
"""Objects described at once: at S3's tens of milliseconds a HeadObject, one after another
would cost a large archive's check minutes."""


def check_stored(
    objects: Sequence[ArchivedObject],
    store: ArchiveReader,
    *,
    workers: int = HEAD_WORKERS,
    progress: Callable[[int, int], None] | None = None,
) -> list[Discrepancy]:
    """Each object against what the store says is at its key (one `describe` each,
    `workers` at a time): the discrepancies, in the objects' order."""
    return _describe_all(objects, store, workers, progress, None)[0]


def _describe_all(
    objects: Sequence[ArchivedObject],
    store: ArchiveReader,
    workers: int,
    progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[list[Discrepancy], int]:
    """As check_stored, and an object whose turn comes once `should_stop()` is true is
    not described: (the discrepancies, the objects described)."""

    def describe(obj: ArchivedObject) -> tuple[bool, Discrepancy | None]:
        if should_stop is not None and should_stop():
            return False, None
        return True, check_object(obj, store.describe(obj.key))

    found: list[Discrepancy] = []
    described = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="describe") as pool:
        # Each describe runs in a copy of the caller's context (its log correlation id).
        futures = [pool.submit(contextvars.copy_context().run, describe, o) for o in objects]
        for done, future in enumerate(futures, start=1):
            ran, result = future.result()
            described += ran
            if result is not None:
                found.append(result)
            if progress is not None:
                progress(done, len(objects))
    return found, described


@dataclass(frozen=True)
class NightlyCheck:
    described: int
    """Objects of the night's slice described (a HeadObject each)."""
    discrepancies: list[Discrepancy]
    deferred: int = 0
    """Objects of the slice left undescribed when the time ran short (their turn comes
    again with the slice's, in `NIGHTLY_SLICES` nights)."""


def nightly_check(
    records: Iterable[SyncRecord],
    store: ArchiveReader,
    night: int,
    present: Mapping[str, int],
    *,
    slices: int = NIGHTLY_SLICES,
    workers: int = HEAD_WORKERS,
    should_stop: Callable[[], bool] | None = None,
    stored_since: datetime | None = None,
) -> NightlyCheck:
    """Every record's objects against the archive's listing (`present`: key -> size: their
    presence and size, which costs no request), and the objects of the night's slice
    against their records with one `describe` each, `workers` at a time (the checksum and
    owner too), until `should_stop()`. Objects stored at or after `stored_since` (tonight's
    new ones) are not described: each was read back from the store when it was stored."""
    found: list[Discrepancy] = []
    deep: list[ArchivedObject] = []
    for record in records:
        fresh = (
            stored_since is not None
            and record.transferred_at is not None
            and record.transferred_at >= stored_since
        )
        sliced = in_tonights_slice(record.media_id, night, slices) and not fresh
        for obj in archived_objects(record):
            listed = present.get(obj.key)
            if listed is None or obj.size_bytes not in (None, listed):
                stored = None if listed is None else StoredObject(obj.key, listed, None, None)
                problem = check_object(obj, stored)
                if problem is not None:
                    found.append(problem)
            elif sliced:
                deep.append(obj)
    faults, described = _describe_all(deep, store, workers, None, should_stop)
    return NightlyCheck(described, found + faults, len(deep) - described)


LIST_PAGE_KEYS = 1000
"""Keys one listing page holds (S3's ListObjectsV2)."""


@dataclass
class AuditRequests:
    """The requests an audit made, by kind (what it cost)."""

    scan: int = 0
    list_objects: int = 0
    head_object: int = 0

    @property
    def total(self) -> int:
        return self.scan + self.list_objects + self.head_object


@dataclass
class Audit:
    """The whole archive against its records (and the source's listing, when asked)."""

    records: int = 0
    objects_expected: int = 0
    objects_in_bucket: int = 0
    source_listed: int | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)
    requests: AuditRequests = field(default_factory=AuditRequests)

    @property
    def faults(self) -> list[Discrepancy]:
        return [d for d in self.discrepancies if d.is_fault]


def audit_archive(
    provider: str,
    scan: TrackerScan,
    archive: ArchiveReader,
    *,
    listing: Callable[[], Iterable[MediaItem]] | None = None,
    policy: SelectionPolicy | None = None,
    workers: int = HEAD_WORKERS,
    progress: Callable[[int, int], None] | None = None,
    in_bucket: Mapping[str, int] | None = None,
) -> Audit:
    """Every record of `provider` against the archive: one listing finds what is there
    and its size, one describe of each object a record names and the listing holds reads
    its checksum (`workers` at a time); objects no record claims, and records that cannot
    be read, are discrepancies too. `listing` adds the source's side; `in_bucket` is the
    archive's listing (key -> size) when the caller has read it already. The nightly check
    (`nightly_check`) is this audit over tonight's objects and a slice of the rest."""
    report = Audit()
    report.requests.scan = scan.pages
    report.discrepancies += [unreadable_record(m, why) for m, why in scan.unreadable.items()]
    records = [r for r in scan.records if r.provider == provider]
    report.records = len(records)
    if in_bucket is None:
        in_bucket = archive.sizes(archive_prefix(provider))
    report.requests.list_objects = max(1, -(-len(in_bucket) // LIST_PAGE_KEYS))
    report.objects_in_bucket = len(in_bucket)
    expected = [obj for record in records for obj in archived_objects(record)]
    report.objects_expected = len(expected)
    present = [obj for obj in expected if obj.key in in_bucket]
    for obj in expected:
        if obj.key not in in_bucket:  # the listing says so: no describe needed
            found = check_object(obj, None)
            if found is not None:
                report.discrepancies.append(found)
    report.discrepancies += check_stored(present, archive, workers=workers, progress=progress)
    report.requests.head_object += len(present)
    report.discrepancies += unclaimed(provider, in_bucket, records)
    if listing is not None:
        items = list(listing())
        report.source_listed = len(items)
        by_id = {record.media_id: record for record in records}
        report.discrepancies += against_source(by_id, items, policy or SelectionPolicy())
    return report
