"""One contract, two implementations: every case runs against the in-memory fake the unit
tests use and against the real adapter on moto, so the fakes cannot drift from what
DynamoDB and S3 do."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest

from adapters.aws.catalog_store import S3CatalogReader, S3CatalogStore, S3EtagVerdicts
from adapters.aws.changes import S3ChangeMemory
from adapters.aws.dynamodb_tracker import DynamoDbTrackerReader
from adapters.aws.run_manifest import S3RunManifest
from adapters.aws.s3_store import S3ArchiveReader, S3ObjectStore
from domain.drift import Change, ChangeKind
from domain.errors import (
    ConcurrentUpdateError,
    IllegalTransitionError,
    KeyTakenError,
    StorageError,
)
from domain.model import (
    Checksum,
    Lease,
    ManifestLocation,
    StoredChapter,
    SyncRecord,
    UploadCheckpoint,
)
from domain.ports import (
    ArchiveReader,
    CatalogReader,
    CatalogStore,
    ChangeMemory,
    EtagVerdicts,
    ObjectStore,
    RunManifest,
    SyncTracker,
    TrackerReader,
)
from domain.status import SyncStatus
from domain.verification import crc32_of
from tests.fakes import (
    EPOCH,
    InMemoryCatalogStore,
    InMemoryChangeMemory,
    InMemoryEtagVerdicts,
    InMemoryObjectStore,
    InMemoryRunManifest,
    InMemorySyncTracker,
    make_item,
)
from tests.integration.aws import BUCKET, TABLE, Account

MIB = 1 << 20
PART = 5 * MIB
KEY = "gopro-videos/2024/05/GX010001~m1.MP4"


@pytest.fixture(params=["memory", "dynamodb"])
def tracker(request: pytest.FixtureRequest) -> SyncTracker:
    if request.param == "memory":
        return InMemorySyncTracker()
    account: Account = request.getfixturevalue("account")
    return account.tracker()


@dataclass
class Archive:
    """An object store under test, and what only a test may look at: the bytes at a key
    and the uploads left open."""

    store: ObjectStore
    read: Callable[[str], bytes]
    open_uploads: Callable[[], list[str]]


@pytest.fixture(params=["memory", "s3"])
def archive(request: pytest.FixtureRequest) -> Archive:
    if request.param == "memory":
        fake = InMemoryObjectStore(part_size=PART)
        return Archive(
            fake,
            lambda key: fake.objects[key].data,
            fake.open_uploads,
        )
    account: Account = request.getfixturevalue("account")
    s3: S3ObjectStore = account.store(single_put_limit=PART, part_size=PART)

    def read(key: str) -> bytes:
        return account.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    return Archive(s3, read, account.open_uploads)


def on_s3(request: pytest.FixtureRequest) -> tuple[Any, str, str] | None:
    """For the S3 side of a contract: moto's client, the archive bucket and its key (None
    for the in-memory side)."""
    if request.param == "memory":
        return None
    account: Account = request.getfixturevalue("account")
    return account.s3, BUCKET, account.kms_key_arn


@pytest.fixture(params=["memory", "s3"])
def manifest(request: pytest.FixtureRequest) -> RunManifest:
    where = on_s3(request)
    return S3RunManifest(*where) if where else InMemoryRunManifest(BUCKET)


@pytest.fixture(params=["memory", "s3"])
def catalogs(request: pytest.FixtureRequest) -> CatalogStore:
    where = on_s3(request)
    return S3CatalogStore(*where) if where else InMemoryCatalogStore()


@pytest.fixture(params=["memory", "s3"])
def verdicts(request: pytest.FixtureRequest) -> EtagVerdicts:
    where = on_s3(request)
    return S3EtagVerdicts(*where) if where else InMemoryEtagVerdicts()


@pytest.fixture(params=["memory", "s3"])
def memory(request: pytest.FixtureRequest) -> ChangeMemory:
    where = on_s3(request)
    return S3ChangeMemory(*where) if where else InMemoryChangeMemory()


def data(media_id: str, size: int) -> bytes:
    seed = f"{media_id}|".encode()
    return (seed * (size // len(seed) + 1))[:size]


def pieces(body: bytes, start: int = 0, size: int = 64 * 1024) -> Iterator[bytes]:
    for offset in range(start, len(body), size):
        yield body[offset : offset + size]


def record(media_id: str = "m1") -> SyncRecord:
    return SyncRecord.discovered(make_item(media_id, "GX010001.MP4", 300), EPOCH)


def rich(media_id: str = "m1") -> SyncRecord:
    """A record with every optional field set, as a paused chaptered transfer has."""
    checksum = Checksum("CRC32", "AAAAAA==")
    return replace(
        record(media_id),
        version=2,
        status=SyncStatus.IN_PROGRESS,
        retry_count=2,
        lease=Lease("worker-1", EPOCH + timedelta(minutes=20)),
        error="TransientSourceError: GoPro answered 503",
        checkpoint=UploadCheckpoint(KEY, "upload-1", 3, 3 * PART, 12345),
        reserved_key=KEY,
        chapters=(StoredChapter(1, "gopro-videos/2024/05/GX010001~m1~1.MP4", 300, checksum),),
    )


# The tracker ----------------------------------------------------------------------------


def test_a_record_reads_back_as_it_was_written(tracker: SyncTracker) -> None:
    assert tracker.get("m1") is None
    tracker.create(record())
    tracker.replace(record(), rich())
    assert tracker.get("m1") == rich()
    assert tracker.get_many(["m1", "absent"]) == {"m1": rich()}


def test_a_record_is_created_once(tracker: SyncTracker) -> None:
    tracker.create(record())
    with pytest.raises(ConcurrentUpdateError):
        tracker.create(replace(record(), error="the second writer"))
    assert tracker.get("m1") == record()


def test_new_records_are_created_together_and_an_existing_one_is_left(
    tracker: SyncTracker,
) -> None:
    tracker.create(replace(record("m2"), error="written first by another worker"))
    batch = [record(f"m{n}") for n in range(1, 151)]  # more than one batch of 100
    assert tracker.create_many(batch) == {"m2"}
    assert tracker.get("m2") == replace(record("m2"), error="written first by another worker")
    found = tracker.get_many([r.media_id for r in batch])
    assert len(found) == 150
    assert found["m150"] == record("m150")
    assert tracker.create_many(batch[:3]) == {"m1", "m2", "m3"}  # all exist now: no change
    assert tracker.create_many([]) == set()


def test_a_batch_of_new_records_refuses_a_version_other_than_1(tracker: SyncTracker) -> None:
    with pytest.raises(StorageError, match="version 1"):
        tracker.create_many([record("m1"), replace(record("m2"), version=2)])
    assert tracker.get_many(["m1", "m2"]) == {}


def test_a_new_record_starts_at_version_1(tracker: SyncTracker) -> None:
    with pytest.raises(StorageError, match="version 1"):
        tracker.create(replace(record(), version=2))
    assert tracker.get("m1") is None


def test_a_change_over_a_stale_version_is_refused(tracker: SyncTracker) -> None:
    tracker.create(record())
    first = replace(record(), version=2, error="first")
    tracker.replace(record(), first)
    with pytest.raises(ConcurrentUpdateError):
        tracker.replace(record(), replace(record(), version=2, error="second"))
    assert tracker.get("m1") == first


def test_a_change_over_a_status_that_was_not_read_is_refused(tracker: SyncTracker) -> None:
    # The stored v1 is PENDING; a writer that believes it FAILED must not win.
    tracker.create(record())
    believed = replace(record(), status=SyncStatus.FAILED)
    with pytest.raises(ConcurrentUpdateError):
        tracker.replace(believed, replace(believed, version=2, status=SyncStatus.IN_PROGRESS))
    assert tracker.get("m1") == record()


def test_a_change_outside_the_transition_table_is_refused(tracker: SyncTracker) -> None:
    tracker.create(record())
    with pytest.raises(IllegalTransitionError):
        tracker.replace(record(), replace(record(), version=2, status=SyncStatus.COMPLETED))
    assert tracker.get("m1") == record()


def test_a_change_must_follow_the_version_it_replaces(tracker: SyncTracker) -> None:
    tracker.create(record())
    with pytest.raises(StorageError, match="does not follow"):
        tracker.replace(record(), replace(record(), version=3))
    with pytest.raises(StorageError, match="does not follow"):
        tracker.replace(record(), replace(record("m2"), version=2))
    assert tracker.get("m1") == record()


def test_a_change_to_a_record_that_does_not_exist_is_refused(tracker: SyncTracker) -> None:
    with pytest.raises(ConcurrentUpdateError):
        tracker.replace(record(), replace(record(), version=2))
    assert tracker.get("m1") is None


def test_many_records_are_read_in_one_call(tracker: SyncTracker) -> None:
    ids = [f"m{n}" for n in range(250)]
    for media_id in ids[::2]:
        tracker.create(record(media_id))
    found = tracker.get_many([*ids, *ids[:10]])
    assert sorted(found) == sorted(ids[::2])
    assert found["m100"] == record("m100")


# The object store -----------------------------------------------------------------------


def test_nothing_is_described_where_nothing_is_stored(archive: Archive) -> None:
    assert archive.store.describe(KEY) is None


@pytest.mark.parametrize("size", [0, 1_000, PART, 12 * MIB + 7])
def test_an_object_reads_back_with_its_size_checksum_and_owner(archive: Archive, size: int) -> None:
    body = data("m1", size)
    stored = archive.store.create(KEY, "m1", pieces(body), size)
    assert not isinstance(stored, UploadCheckpoint)
    assert (stored.key, stored.size_bytes, stored.owner_media_id) == (KEY, size, "m1")
    assert stored.checksum == crc32_of(body)
    assert archive.store.describe(KEY) == stored
    assert archive.read(KEY) == body
    assert archive.open_uploads() == []


@pytest.mark.parametrize("size", [1_000, 12 * MIB])
def test_an_object_is_never_overwritten(archive: Archive, size: int) -> None:
    first = data("m1", 2_000)
    archive.store.create(KEY, "m1", pieces(first), len(first))
    with pytest.raises(KeyTakenError) as taken:
        archive.store.create(KEY, "m2", pieces(data("m2", size)), size)
    assert taken.value.owner_media_id == "m1"
    assert archive.read(KEY) == first
    assert archive.open_uploads() == []


class Broken(Exception):
    pass


@pytest.mark.parametrize("size", [1_000, 12 * MIB])
def test_a_stream_that_breaks_stores_nothing(archive: Archive, size: int) -> None:
    body = data("m1", size)

    def breaking() -> Iterator[bytes]:
        yield from pieces(body[: size - 100])
        raise Broken("the connection dropped")

    with pytest.raises(Broken):
        archive.store.create(KEY, "m1", breaking(), size)
    assert archive.store.describe(KEY) is None
    assert archive.open_uploads() == []


@pytest.mark.parametrize("size", [1_000, 12 * MIB])
@pytest.mark.parametrize("delta", [-1, 1])
def test_a_stream_of_the_wrong_length_stores_nothing(
    archive: Archive, size: int, delta: int
) -> None:
    with pytest.raises(StorageError, match="arrived"):
        archive.store.create(KEY, "m1", pieces(data("m1", size + delta)), size)
    assert archive.store.describe(KEY) is None
    assert archive.open_uploads() == []


def test_a_paused_upload_resumes_to_the_same_bytes(archive: Archive) -> None:
    size = 3 * PART + 11
    body = data("m1", size)
    paused = archive.store.create(KEY, "m1", pieces(body), size, pause=lambda: True)
    assert isinstance(paused, UploadCheckpoint)
    assert (paused.key, paused.parts, paused.offset) == (KEY, 1, PART)
    assert paused.crc32 == zlib.crc32(body[:PART])
    assert archive.store.describe(KEY) is None
    assert archive.open_uploads() == [KEY]
    result = archive.store.resume(paused, "m1", pieces(body, paused.offset), size)
    assert not isinstance(result, UploadCheckpoint)
    assert (result.size_bytes, result.checksum) == (size, crc32_of(body))
    assert archive.read(KEY) == body
    assert archive.open_uploads() == []


def test_resuming_an_upload_that_completed_says_the_key_is_taken(archive: Archive) -> None:
    # An invocation resumed, completed the upload and died before replacing its checkpoint.
    size = 2 * PART + 11
    body = data("m1", size)
    paused = archive.store.create(KEY, "m1", pieces(body), size, pause=lambda: True)
    assert isinstance(paused, UploadCheckpoint)
    archive.store.resume(paused, "m1", pieces(body, paused.offset), size)
    with pytest.raises(KeyTakenError) as taken:
        archive.store.resume(paused, "m1", pieces(body, paused.offset), size)
    assert taken.value.owner_media_id == "m1"
    assert archive.read(KEY) == body


def test_a_checkpoint_the_upload_does_not_hold_is_refused(archive: Archive) -> None:
    size = 3 * PART
    body = data("m1", size)
    paused = archive.store.create(KEY, "m1", pieces(body), size, pause=lambda: True)
    assert isinstance(paused, UploadCheckpoint)
    wrong = replace(paused, parts=2, offset=2 * PART)
    with pytest.raises(StorageError, match="no longer holds"):
        archive.store.resume(wrong, "m1", pieces(body, wrong.offset), size)
    assert archive.store.describe(KEY) is None
    assert archive.open_uploads() == []


# The run list ------------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["sync-7f3a", "manual-2026-12-04T02:00:00Z", "odd/név"])
def test_a_run_list_joins_its_parts_in_order_each_id_once(manifest: RunManifest, run: str) -> None:
    manifest.add(run, 1, ["b", "c"])
    manifest.add(run, 0, ["x"])
    manifest.add(run, 0, ["a", "b"])  # a retried invocation writes its part again
    location = manifest.seal(run, 2)
    assert (location.bucket, location.count) == (BUCKET, 3)
    assert manifest.read(location) == ["a", "b", "c"]
    assert manifest.read(manifest.seal(run, 2)) == ["a", "b", "c"]  # sealing again: the same


def test_an_empty_run_list_reads_back_empty(manifest: RunManifest) -> None:
    manifest.add("quiet", 0, [])
    location = manifest.seal("quiet", 1)
    assert location.count == 0
    assert manifest.read(location) == []


def test_a_run_list_missing_a_part_is_not_sealed(manifest: RunManifest) -> None:
    manifest.add("gap", 0, ["a"])
    with pytest.raises(StorageError):
        manifest.seal("gap", 2)


def test_a_run_list_of_another_bucket_is_refused(manifest: RunManifest) -> None:
    manifest.add("r", 0, ["a"])
    location = manifest.seal("r", 1)
    with pytest.raises(StorageError):
        manifest.read(ManifestLocation("another-bucket", location.key, 1))


# The catalog and the ETag judgement --------------------------------------------------------


def test_a_catalog_is_none_until_written_then_read_back_whole(catalogs: CatalogStore) -> None:
    assert catalogs.read("gopro") is None
    first = "media_id,key\r\nm1,gopro-videos/2024/05/Zürich 🎿.MP4\r\n"
    catalogs.write("gopro", first)
    assert catalogs.read("gopro") == first
    catalogs.write("gopro", "media_id,key\r\n")  # replaced whole
    assert catalogs.read("gopro") == "media_id,key\r\n"
    assert catalogs.read("other") is None


def test_an_etag_judgement_is_kept_until_it_is_changed(verdicts: EtagVerdicts) -> None:
    assert verdicts.distrusted("gopro") is None
    verdicts.judge("gopro", "3 mismatches and no match in one run")
    assert verdicts.distrusted("gopro") == "3 mismatches and no match in one run"
    assert verdicts.distrusted("other") is None
    verdicts.judge("gopro", None)
    assert verdicts.distrusted("gopro") is None


def test_a_change_is_new_once_per_provider(memory: ChangeMemory) -> None:
    change = Change(ChangeKind.UNKNOWN_TYPE, "type", "a type the contract lists", "'Hologram'")
    seen_elsewhere = Change(change.kind, change.subject, change.expected, change.came, "m2")
    assert memory.remember("gopro", change) is True
    assert memory.remember("gopro", seen_elsewhere) is False  # the same change
    assert memory.remember("other", change) is True
    assert memory.remember("gopro", Change(change.kind, "type", "…", "'Other'")) is True


# ---------------------------------------------------------------- the operator's read ports


@dataclass
class Readers:
    """The operator's three read ports over one archive, and how to put things in it."""

    tracker: TrackerReader
    archive: ArchiveReader
    catalog: CatalogReader
    write_tracker: SyncTracker
    write_store: ObjectStore
    write_catalog: CatalogStore
    break_record: Callable[[str], None]


@pytest.fixture(params=["memory", "aws"])
def readers(request: pytest.FixtureRequest) -> Readers:
    if request.param == "memory":
        tracker, store, catalog = (
            InMemorySyncTracker(),
            InMemoryObjectStore(),
            (InMemoryCatalogStore()),
        )

        def broken(media_id: str) -> None:
            tracker.broken[media_id] = "'uploaded_at' is not an ISO 8601 time"

        return Readers(tracker, store, catalog, tracker, store, catalog, broken)
    account: Account = request.getfixturevalue("account")

    def break_item(media_id: str) -> None:
        account.dynamodb.update_item(
            TableName=TABLE, Key={"media_id": {"S": media_id}},
            UpdateExpression="SET uploaded_at = :impossible",
            ExpressionAttributeValues={":impossible": {"S": "2024-02-30T10:00:00+00:00"}},
        )  # fmt: skip

    return Readers(
        DynamoDbTrackerReader(account.dynamodb, TABLE),
        S3ArchiveReader(account.s3, BUCKET),
        S3CatalogReader(account.s3, BUCKET),
        account.tracker(),
        account.store(),
        S3CatalogStore(account.s3, BUCKET, account.kms_key_arn),
        break_item,
    )


def test_a_tracker_scan_reads_every_record_and_names_the_unreadable_apart(
    readers: Readers,
) -> None:
    for n in range(3):
        readers.write_tracker.create(SyncRecord.discovered(make_item(f"m{n}"), EPOCH))
    other = replace(make_item("x1"), provider="dropbox")
    readers.write_tracker.create(SyncRecord.discovered(other, EPOCH))
    readers.break_record("m1")
    everything = readers.tracker.scan()
    assert sorted(r.media_id for r in everything.records) == ["m0", "m2", "x1"]
    assert list(everything.unreadable) == ["m1"]
    assert "'uploaded_at' is not an ISO 8601 time" in everything.unreadable["m1"]
    assert everything.pages >= 1
    gopro = readers.tracker.scan("gopro")
    assert sorted(r.media_id for r in gopro.records) == ["m0", "m2"]


def test_the_archive_reader_describes_and_lists_what_the_store_wrote(readers: Readers) -> None:
    body = b"video bytes" * 100
    readers.write_store.create(KEY, "m1", iter([body]), len(body))
    found = readers.archive.describe(KEY)
    assert found is not None
    assert (found.size_bytes, found.checksum) == (len(body), crc32_of(body))
    assert found.owner_media_id == "m1"
    assert readers.archive.describe(KEY + ".other") is None
    assert readers.archive.sizes("gopro-videos/") == {KEY: len(body)}
    assert readers.archive.sizes("runs/") == {}


def test_the_catalog_reader_reads_what_was_written_and_none_before(readers: Readers) -> None:
    assert readers.catalog.read("gopro") is None
    readers.write_catalog.write("gopro", "media_id,key\nm1,é.MP4\n")
    assert readers.catalog.read("gopro") == "media_id,key\nm1,é.MP4\n"
