"""The audit rules and the catalog: each kind of difference named once, the nightly slices
cover the archive in a month, and a catalog reads back as it was written."""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.audit import (
    HEAD_WORKERS,
    NIGHTLY_SLICES,
    ArchivedObject,
    Finding,
    against_source,
    archived_objects,
    check_object,
    check_stored,
    in_tonights_slice,
    nightly_check,
    unclaimed,
)
from domain.catalog import COLUMNS, CatalogError, parse, render, rows, write_catalog
from domain.model import Checksum, StoredObject, SyncRecord
from domain.rules import SelectionPolicy
from domain.status import SyncStatus
from tests.fakes import EPOCH, InMemoryCatalogStore, InMemoryObjectStore, StoredBytes, make_item

CRC = Checksum("CRC32", "q83vEg==")
OTHER = Checksum("CRC32", "AAAAAA==")


def archived(media_id: str, filename: str = "GX010123.MP4") -> SyncRecord:
    record = SyncRecord.discovered(make_item(media_id, filename), EPOCH)
    return replace(
        record,
        status=SyncStatus.COMPLETED,
        version=4,
        object_key=f"gopro-videos/2024/05/{media_id}.MP4",
        stored_size=100,
        checksum=CRC,
        transferred_at=EPOCH,
    )


EXPECTED = ArchivedObject("m1", "gopro-videos/2024/05/m1.MP4", 100, CRC, None)


@pytest.mark.parametrize(
    ("found", "finding"),
    [
        (None, Finding.MISSING),
        (StoredObject(EXPECTED.key, 99, CRC, "m1"), Finding.SIZE_DIFFERS),
        (StoredObject(EXPECTED.key, 100, OTHER, "m1"), Finding.CHECKSUM_DIFFERS),
        (StoredObject(EXPECTED.key, 100, CRC, "m2"), Finding.OWNER_DIFFERS),
    ],
)  # fmt: skip
def test_each_difference_is_named(found: StoredObject | None, finding: Finding) -> None:
    problem = check_object(EXPECTED, found)
    assert problem is not None
    assert problem.finding is finding
    assert (problem.media_id, problem.key) == ("m1", EXPECTED.key)
    assert problem.line().startswith(f"{finding.value}: m1 {EXPECTED.key}: ")


def test_an_object_as_recorded_passes_and_an_unknown_checksum_is_not_held_against_it() -> None:
    assert check_object(EXPECTED, StoredObject(EXPECTED.key, 100, CRC, "m1")) is None
    assert check_object(EXPECTED, StoredObject(EXPECTED.key, 100, None, None)) is None


def test_strays_and_the_source_side() -> None:
    records = {r.media_id: r for r in (archived("m1"), archived("m2"))}
    failed = replace(SyncRecord.discovered(make_item("m3"), EPOCH), status=SyncStatus.FAILED)
    records["m3"] = failed
    keys = [records["m1"].object_key or "", "gopro-videos/2024/05/stray.MP4", "runs/x/part.json"]
    (stray,) = unclaimed("gopro", keys, records.values())
    assert (stray.finding, stray.key) == (Finding.UNCLAIMED, "gopro-videos/2024/05/stray.MP4")
    listed = [
        make_item("m1"),
        make_item("m3"),
        make_item("m4"),
        make_item("p1", media_type="Photo"),
    ]
    found = {(d.finding, d.media_id) for d in against_source(records, listed, SelectionPolicy())}
    # m2 is gone from the source; m4 is ready and unrecorded; m3 FAILED and a photo: no finding
    assert found == {(Finding.ONLY_COPY, "m2"), (Finding.NOT_ARCHIVED, "m4")}


def test_the_nightly_slices_cover_every_video_once_a_month() -> None:
    ids = [f"video{n:05d}" for n in range(3000)]
    nights = [sum(in_tonights_slice(i, night) for night in range(NIGHTLY_SLICES)) for i in ids]
    assert set(nights) == {1}
    tonight = [i for i in ids if in_tonights_slice(i, 7)]
    assert 40 < len(tonight) < 160  # about a thirtieth


class CountingStore(InMemoryObjectStore):
    """Counts describes, and how many ran at once at most."""

    def __init__(self) -> None:
        super().__init__()
        self.described: list[str] = []
        self._lock = threading.Lock()
        self._now = 0
        self.most_at_once = 0

    def describe(self, key: str) -> StoredObject | None:
        with self._lock:
            self._now += 1
            self.most_at_once = max(self.most_at_once, self._now)
            self.described.append(key)
        time.sleep(0.002)  # a HeadObject takes time: let others start meanwhile
        with self._lock:
            self._now -= 1
        return super().describe(key)


def stored(count: int, store: InMemoryObjectStore) -> list[SyncRecord]:
    """`count` archived records, each object in `store`: 100 bytes, none with the recorded
    CRC32."""
    records = [archived(f"v{n:04d}") for n in range(count)]
    for record in records:
        assert record.object_key is not None
        store.objects[record.object_key] = StoredBytes(bytes(100), record.media_id)
    return records


def test_the_nightly_check_lists_everything_and_describes_the_slice_many_at_once() -> None:
    store = CountingStore()
    records = stored(900, store)
    night = 3
    sliced = {r.media_id for r in records if in_tonights_slice(r.media_id, night)}
    outside = sorted({r.media_id for r in records} - sliced)
    gone = outside[5]  # not in tonight's slice: the listing alone finds it missing
    del store.objects[f"gopro-videos/2024/05/{gone}.MP4"]
    check = nightly_check(records, store, night, store.sizes("gopro-videos/"))
    checked, found = check.described, check.discrepancies
    assert checked == len(sliced) == len(store.described)  # one describe each, none else
    assert check.deferred == 0
    assert {(d.media_id, d.finding) for d in found} == {
        *((m, Finding.CHECKSUM_DIFFERS) for m in sliced),
        (gone, Finding.MISSING),
    }
    assert 1 < store.most_at_once <= 16  # described many at once, never more than 16


text_values = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


@given(text_values)
def test_a_catalog_reads_back_as_written_whatever_the_filename(filename: str) -> None:
    record = archived("m1", filename="GX.MP4")
    record = replace(record, item=replace(record.item, filename=filename))
    written = rows([record, archived("m2")])
    assert parse(render(written)) == written


def test_a_catalog_lists_only_archived_objects_in_key_order() -> None:
    waiting = SyncRecord.discovered(make_item("m9"), EPOCH)
    listed = rows([archived("m2"), waiting, archived("m1")])
    assert [row.media_id for row in listed] == ["m1", "m2"]


@pytest.mark.parametrize(
    "text",
    ["", "media_id,key\r\nm1,k\r\n", render([]) + "m1,1\r\n"],
)
def test_a_file_that_is_not_a_catalog_is_refused(text: str) -> None:
    with pytest.raises(CatalogError):
        parse(text)


def test_the_catalog_keeps_and_marks_an_object_the_archive_does_not_hold_as_recorded() -> None:
    catalogs = InMemoryCatalogStore()
    records = [archived("m1"), archived("m2"), archived("m3")]
    present = {"gopro-videos/2024/05/m1.MP4": 100, "gopro-videos/2024/05/m3.MP4": 99}
    assert write_catalog("gopro", records, present, catalogs) == 3
    assert [(row.media_id, row.problem) for row in parse(catalogs.catalogs["gopro"])] == [
        ("m1", None),
        ("m2", "missing"),
        ("m3", "size_differs: the archive lists 99 bytes"),
    ]


def test_the_nightly_check_finds_a_size_the_listing_gives_outside_tonights_slice() -> None:
    store = InMemoryObjectStore()
    records = stored(40, store)
    night = 5
    outside = [r for r in records if not in_tonights_slice(r.media_id, night)]
    # Given an object outside tonight's slice overwritten with other bytes of another size
    changed = outside[0]
    assert changed.object_key is not None
    store.objects[changed.object_key] = StoredBytes(bytes(120), changed.media_id)
    check = nightly_check(records, store, night, store.sizes("gopro-videos/"))
    checked, found = check.described, check.discrepancies
    # Then the listing alone names it, on its own line
    sizes = [d for d in found if d.finding is Finding.SIZE_DIFFERS]
    assert [(d.media_id, d.key) for d in sizes] == [(changed.media_id, changed.object_key)]
    assert sizes[0].line() == (
        f"size_differs: {changed.media_id} {changed.object_key}: "
        "recorded 100 bytes, the object has 120"
    )
    assert checked == len(records) - len(outside)  # no describe spent on it


def test_a_catalog_carries_the_camera_model_and_one_written_before_it_still_reads() -> None:
    record = archived("m1")
    record = replace(record, item=replace(record.item, camera_model="HERO12 Black"))
    written = rows([record])
    assert parse(render(written)) == written
    assert written[0].camera_model == "HERO12 Black"
    older = render(written).splitlines()
    cut = COLUMNS.index("camera_model")
    legacy = [",".join(c for i, c in enumerate(line.split(",")) if i != cut) for line in older]
    assert parse("\r\n".join(legacy) + "\r\n") == [replace(written[0], camera_model=None)]


def test_a_catalog_written_before_the_origin_and_problem_columns_still_reads() -> None:
    record = replace(archived("m1"), origin="matched (ETag 0123-2: 2 parts of 8 MiB)")
    written = rows([record])
    assert written[0].origin == record.origin
    lines = render(written).splitlines()
    assert lines[0].endswith(",origin,problem,resolution,chapters,thumbnail_key")
    before = [line.rsplit(",", 5)[0] for line in lines]
    assert parse("\r\n".join(before) + "\r\n") == [replace(written[0], origin=None, chapters=None)]


def test_a_catalog_carries_what_a_person_searches_by() -> None:
    record = archived("m1")
    item = replace(record.item, width=3840, height=2160, camera_model="HERO12 Black")
    record = replace(record, item=item, thumbnail_key="thumbnails/gopro/m1.jpg")
    (row,) = rows([record])
    assert (row.resolution, row.chapters, row.thumbnail_key) == (
        "3840x2160",
        1,
        "thumbnails/gopro/m1.jpg",
    )
    assert (row.captured_at, row.uploaded_at, row.media_type, row.size_bytes) == (
        item.captured_at,
        item.uploaded_at,
        item.media_type,
        record.stored_size,
    )
    assert parse(render([row])) == [row]


def test_the_nightly_check_stops_describing_when_told_and_counts_what_it_left() -> None:
    # Given a slice of objects and a deadline that passes after 40 describes
    store = CountingStore()
    records = stored(3000, store)
    night = 1
    sliced = [r for r in records if in_tonights_slice(r.media_id, night)]
    # When it is checked
    check = nightly_check(
        records,
        store,
        night,
        store.sizes("gopro-videos/"),
        should_stop=lambda: len(store.described) >= 40,
    )
    # Then it described no more than the workers already under way past the deadline,
    # and the rest is counted as deferred, not as checked
    assert 40 <= check.described == len(store.described) < 40 + HEAD_WORKERS
    assert check.described + check.deferred == len(sliced)
    assert len(check.discrepancies) == check.described  # none of them has its CRC32


def test_each_describe_runs_in_the_callers_context() -> None:
    # Given a context variable the caller has set (as a log's correlation id is)
    run: contextvars.ContextVar[str] = contextvars.ContextVar("run", default="none")
    seen: list[str] = []

    class SeeingStore(InMemoryObjectStore):
        def describe(self, key: str) -> StoredObject | None:
            seen.append(run.get())
            return super().describe(key)

    store = SeeingStore()
    records = stored(60, store)
    objects = [obj for record in records for obj in archived_objects(record)]
    run.set("run-7")
    # When the objects are described, many at once on other threads
    check_stored(objects, store)
    # Then every describe saw the caller's value
    assert seen == ["run-7"] * 60


def test_objects_stored_tonight_are_not_described_again() -> None:
    # Given an archive whose newer half was stored tonight (each read back as it was stored)
    store = CountingStore()
    records = stored(600, store)
    tonight = EPOCH + timedelta(days=2)
    records = [replace(r, transferred_at=tonight) if n % 2 else r for n, r in enumerate(records)]
    night = 2
    older = [r for n, r in enumerate(records) if n % 2 == 0]
    # When the night's slice is checked
    check = nightly_check(records, store, night, store.sizes("gopro-videos/"), stored_since=tonight)
    # Then only the older objects of the slice are described
    expected = sorted(r.object_key or "" for r in older if in_tonights_slice(r.media_id, night))
    assert sorted(store.described) == expected
    assert check.described == len(expected) > 0
