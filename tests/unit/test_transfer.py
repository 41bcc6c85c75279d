"""Discovery and the transfer of one video, scenario by scenario, with in-memory ports."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import (
    IllegalTransitionError,
    InvalidSettingError,
    StorageError,
    TransferRejectedError,
    TransientSourceError,
    UnknownMediaError,
)
from domain.model import COUNT_HOLD, SyncRecord
from domain.rules import SelectionPolicy, SkipReason
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import DEFAULT_LEASE, TransferResult, transfer_video
from tests.fakes import (
    EPOCH,
    FakeVideo,
    InMemorySyncTracker,
    RecordingMetrics,
    World,
    content_for,
    make_item,
)


def world_with(*videos: FakeVideo) -> World:
    world = World()
    for video in videos:
        world.source.add(video)
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    return world


def video(
    media_id: str, size: int = 100, media_type: str = "Video", readiness: str = "ready"
) -> FakeVideo:
    item = make_item(media_id, size=size, media_type=media_type, readiness=readiness)
    return FakeVideo(item, content_for(media_id, size))


def test_discovery_records_new_videos_as_pending_and_skips_the_rest() -> None:
    # Given a library with videos, a photo and an item still processing
    world = World()
    for fake in (
        video("v1"),
        video("v2"),
        video("p1", media_type="Photo"),
        video("t1", readiness="transcoding"),
    ):
        world.source.add(fake)
    # When discovery runs twice
    first = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    second = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    # Then the videos are chosen and recorded once; the others are counted by reason
    assert first.media_ids == ("v1", "v2") == second.media_ids
    assert (first.listed, first.new_records, second.new_records) == (4, 2, 0)
    assert first.skipped == {SkipReason.NOT_A_VIDEO: 1, SkipReason.NOT_READY: 1}
    assert {r.status for r in world.tracker.records.values()} == {SyncStatus.PENDING}
    assert set(world.tracker.records) == {"v1", "v2"}


class TrackerRefusing(InMemorySyncTracker):
    """A tracker that cannot take one record (as DynamoDB refuses an item it finds invalid):
    a batch holding it is refused as a whole, as a transaction is."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused
        self.batches: list[int] = []

    def create_many(self, records: Sequence[SyncRecord]) -> set[str]:
        self.batches.append(len(records))
        if any(r.media_id == self.refused for r in records):
            raise StorageError("DynamoDB TransactWriteItems failed: ValidationException")
        return super().create_many(records)

    def create(self, record: SyncRecord) -> None:
        if record.media_id == self.refused:
            raise StorageError("DynamoDB PutItem failed: ValidationException")
        super().create(record)


def test_a_page_of_new_videos_is_recorded_in_one_batch() -> None:
    tracker = TrackerRefusing(refused="none")
    world = World(tracker=tracker)
    for n in range(250):
        world.source.add(video(f"v{n:03d}"))
    world.tracker.create(SyncRecord.discovered(make_item("v007"), EPOCH))  # known already
    outcome = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    assert outcome.new_records == 249
    assert tracker.batches == [99, 100, 50]  # one per page of 100
    assert len(outcome.media_ids) == 250


def test_a_record_the_tracker_refuses_is_skipped_alone() -> None:
    # Given a page whose batch the tracker refuses because of one record
    world = World(tracker=TrackerRefusing(refused="v003"))
    for n in range(6):
        world.source.add(video(f"v{n:03d}"))
    # When discovery runs
    outcome = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    # Then the others are recorded one by one and the refused one is skipped with its reason
    assert outcome.new_records == 5
    assert "v003" not in outcome.media_ids
    assert len(outcome.media_ids) == 5
    assert outcome.skipped == {SkipReason.UNSTORABLE: 1}
    assert set(world.tracker.records) == {f"v{n:03d}" for n in range(6)} - {"v003"}


def test_a_video_arrives_byte_for_byte_and_exactly_once() -> None:
    world = world_with(video("v1", size=1000))
    outcome = transfer_video("v1", "worker-1", world.ports())
    assert outcome.result is TransferResult.COMPLETED
    assert outcome.object_key == "gopro-videos/2026/01/GX010123.MP4"
    assert world.store.objects[outcome.object_key].data == content_for("v1", 1000)
    record = world.tracker.records["v1"]
    assert record.status is SyncStatus.COMPLETED
    assert (record.object_key, record.stored_size, record.transferred_at) == (
        outcome.object_key,
        1000,
        world.clock.now(),
    )
    assert record.checksum is not None
    assert record.checksum.algorithm == "CRC32"
    assert world.metrics.synced == [("gopro", 1000)]
    # A duplicate invocation (R4.3) reads nothing and writes nothing
    served = world.source.bytes_served
    again = transfer_video("v1", "worker-2", world.ports())
    assert again.result is TransferResult.ALREADY_ARCHIVED
    assert again.object_key == outcome.object_key
    assert world.source.bytes_served == served
    assert len(world.store.objects) == 1


def test_same_name_same_month_takes_the_disambiguated_key() -> None:
    world = world_with(video("v1"), video("v2"))
    first = transfer_video("v1", "w", world.ports())
    second = transfer_video("v2", "w", world.ports())
    assert first.object_key == "gopro-videos/2026/01/GX010123.MP4"
    assert second.object_key == "gopro-videos/2026/01/GX010123~v2.MP4"
    assert world.store.objects[first.object_key or ""].data == content_for("v1", 100)
    assert world.store.objects[second.object_key or ""].data == content_for("v2", 100)


def test_a_short_body_stores_nothing_fails_and_alerts() -> None:
    fake = video("v1", size=500)
    fake.cut_after = 320
    world = world_with(fake)
    outcome = transfer_video("v1", "w", world.ports())
    assert outcome.result is TransferResult.FAILED
    assert not outcome.retryable
    assert "ended after 320 of the expected 500 bytes" in (outcome.error or "")
    assert world.store.objects == {}
    assert world.tracker.records["v1"].status is SyncStatus.FAILED
    assert "VerificationFailedError" in (world.tracker.records["v1"].error or "")
    assert world.metrics.failed == [("gopro", "VerificationFailedError")]
    assert len(world.notifier.alerts) == 1
    assert "v1" in world.notifier.alerts[0][0]


def test_a_source_that_sends_more_than_it_announced_is_cut_off() -> None:
    fake = video("v1", size=500)
    fake.announced_size = 200
    world = world_with(fake)
    outcome = transfer_video("v1", "w", world.ports())
    assert outcome.result is TransferResult.FAILED
    assert "more than the expected 200 bytes" in (outcome.error or "")
    assert world.source.bytes_served < 200 + world.source.chunk_size
    assert world.store.objects == {}


def test_a_store_that_damages_the_bytes_fails_the_checksum_and_keeps_the_object() -> None:
    world = world_with(video("v1"))
    world.store.corrupt_next = True
    outcome = transfer_video("v1", "w", world.ports())
    assert outcome.result is TransferResult.FAILED
    assert "checksum" in (outcome.error or "")
    damaged = dict(world.store.objects)
    assert len(damaged) == 1
    assert len(world.notifier.alerts) == 1
    # The next attempt finds the damaged object, overwrites nothing, and says what to do
    retry = transfer_video("v1", "w", world.ports())
    assert retry.result is TransferResult.FAILED
    assert "was not overwritten" in (retry.error or "")
    assert world.store.objects == damaged
    assert world.tracker.records["v1"].retry_count == 1


def test_an_object_stored_before_a_crash_is_checked_and_adopted() -> None:
    # Given an earlier attempt that stored the object and died before recording success
    world = world_with(video("v1", size=300))
    key = "gopro-videos/2026/01/GX010123.MP4"
    world.store.create(key, "v1", [content_for("v1", 300)], 300)
    crashed = world.tracker.records["v1"].claim("dead-worker", world.clock.now(), DEFAULT_LEASE)
    world.tracker.replace(world.tracker.records["v1"], crashed)
    # When the lease has expired and another worker takes over
    world.clock.advance(DEFAULT_LEASE)
    outcome = transfer_video("v1", "w2", world.ports())
    # Then the stored object is checked against the source's bytes, and nothing is uploaded
    assert outcome.result is TransferResult.COMPLETED
    assert outcome.object_key == key
    assert world.source.streams_opened == 1
    assert world.tracker.records["v1"].retry_count == 1
    assert len(world.store.objects) == 1


def test_a_video_someone_else_is_transferring_is_left_alone() -> None:
    world = world_with(video("v1"))
    held = world.tracker.records["v1"].claim("other", world.clock.now(), DEFAULT_LEASE)
    world.tracker.replace(world.tracker.records["v1"], held)
    world.clock.advance(timedelta(minutes=5))
    outcome = transfer_video("v1", "me", world.ports())
    assert outcome.result is TransferResult.BUSY
    assert "leased by 'other'" in (outcome.error or "")
    assert world.source.streams_opened == 0


def test_transient_faults_fail_retryably_and_retries_are_counted() -> None:
    fake = video("v1")
    fake.error, fake.error_times = TransientSourceError("503 from the CDN"), 2
    world = world_with(fake)
    results = [transfer_video("v1", f"w{n}", world.ports()) for n in range(3)]
    assert [r.result for r in results] == [
        TransferResult.FAILED,
        TransferResult.FAILED,
        TransferResult.COMPLETED,
    ]
    assert results[0].retryable
    assert results[0].error == "503 from the CDN"
    assert world.tracker.records["v1"].retry_count == 2
    assert world.metrics.failed == [("gopro", "TransientSourceError")] * 2
    assert world.notifier.alerts == []


def test_a_video_the_provider_refuses_fails_without_retry() -> None:
    fake = video("v1")
    fake.error = TransferRejectedError("404: media v1 is gone")
    world = world_with(fake)
    outcome = transfer_video("v1", "w", world.ports())
    assert outcome.result is TransferResult.FAILED
    assert not outcome.retryable


def test_a_video_of_unknown_size_is_refused_before_any_byte_moves() -> None:
    fake = FakeVideo(make_item("v1", size=None), b"abc", size_unknown=True)
    world = world_with(fake)
    outcome = transfer_video("v1", "w", world.ports())
    assert outcome.result is TransferResult.FAILED
    assert "never said how large" in (outcome.error or "")
    assert world.source.streams_opened == 0
    assert world.store.objects == {}


def test_transferring_an_undiscovered_video_is_a_clear_error() -> None:
    with pytest.raises(UnknownMediaError, match="run discovery"):
        transfer_video("nope", "w", World().ports())


def test_discovery_refreshes_a_waiting_videos_metadata_so_a_corrected_size_succeeds() -> None:
    # Given a video whose listing claimed the wrong size, so its transfer failed
    fake = video("v1", size=500)
    fake.item = make_item("v1", size=600)
    fake.announced_size = 600
    world = World()
    world.source.add(fake)
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    assert transfer_video("v1", "w", world.ports()).result is TransferResult.FAILED
    # When the provider corrects the size and the next run discovers again
    corrected = make_item("v1", size=500)
    world.source.listing = [corrected]
    world.source.videos["v1"] = FakeVideo(corrected, content_for("v1", 500))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    # Then the record carries the new metadata, stays FAILED until tried, and then succeeds
    record = world.tracker.records["v1"]
    assert record.item.size_bytes == 500
    assert record.status is SyncStatus.FAILED
    assert transfer_video("v1", "w", world.ports()).result is TransferResult.COMPLETED


def test_only_a_waiting_record_is_refreshed() -> None:
    record = SyncRecord.discovered(make_item("v1"), EPOCH)
    busy = record.claim("w", EPOCH, DEFAULT_LEASE)
    with pytest.raises(IllegalTransitionError, match="only a waiting record"):
        busy.refreshed(make_item("v1", size=7), EPOCH)
    with pytest.raises(InvalidSettingError, match="belongs to 'v2'"):
        record.refreshed(make_item("v2"), EPOCH)
    assert record.refreshed(make_item("v1", size=7), EPOCH).version == 2


@given(
    served=st.integers(min_value=1, max_value=5_000),
    drift=st.integers(min_value=-4_000, max_value=4_000).filter(lambda d: d != 0),
)
@settings(max_examples=60, deadline=None)
def test_a_listing_off_by_some_bytes_archives_what_is_served_and_reports_both(
    served: int, drift: int
) -> None:
    # Given a listing whose size is off (reprocessed media), and a source serving the truth
    listed = max(1, served + drift)
    item = make_item("drift1", size=listed)
    fake = FakeVideo(item, content_for("drift1", served), announced_size=served)
    world = world_with(fake)
    drifts: list[logging.LogRecord] = []
    handler = _Collect(drifts)
    logging.getLogger("cloudsync.transfer").addHandler(handler)
    try:
        outcome = transfer_video("drift1", "w1", world.ports())
    finally:
        logging.getLogger("cloudsync.transfer").removeHandler(handler)
    # Then it is archived byte for byte, the record keeps both sizes
    assert outcome.result is TransferResult.COMPLETED
    assert world.store.objects[outcome.object_key or ""].data == content_for("drift1", served)
    record = world.tracker.records["drift1"]
    assert (record.item.size_bytes, record.stored_size) == (listed, served)
    # And the drift is reported exactly when there is one
    events = [r for r in drifts if getattr(r, "event_type", "") == "gopro.size_mismatch"]
    assert len(events) == (1 if listed != served else 0)
    if events:
        assert events[0].metadata == {  # type: ignore[attr-defined]
            "media_id": "drift1",
            "listed_bytes": listed,
            "served_bytes": served,
            "difference": listed - served,
        }


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@given(
    when=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    offset_minutes=st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
@settings(max_examples=80, deadline=None)
def test_any_capture_time_archives_or_fails_with_a_reason_never_stuck(
    when: datetime, offset_minutes: int
) -> None:
    # Given a capture time anywhere in the calendar, at any offset, edges included
    captured = when.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    item = replace(make_item("edge1", size=10), captured_at=captured)
    world = world_with(FakeVideo(item, content_for("edge1", 10)))
    # When it is transferred, Then nothing escapes and the record is never left in progress
    outcome = transfer_video("edge1", "w1", world.ports())
    record = world.tracker.records["edge1"]
    assert record.status in (SyncStatus.COMPLETED, SyncStatus.FAILED)
    if record.status is SyncStatus.FAILED:
        assert record.error
    assert outcome.result is TransferResult.COMPLETED  # the calendar's edges are archived too


def test_an_unforeseen_error_is_recorded_failed_with_its_reason() -> None:
    world = world_with(video("odd1"))
    world.source.videos["odd1"].error = ZeroDivisionError("a bug somewhere")  # type: ignore[assignment]
    outcome = transfer_video("odd1", "w1", world.ports())
    assert outcome.result is TransferResult.FAILED
    record = world.tracker.records["odd1"]
    assert record.status is SyncStatus.FAILED
    assert record.error == "UnexpectedTransferError: ZeroDivisionError: a bug somewhere"
    assert outcome.retryable is False


class UnreachableMetrics(RecordingMetrics):
    """A metrics service that refuses every count (PutMetricData failing)."""

    def items_skipped(self, provider: str, reason: str, count: int) -> None:
        raise StorageError("PutMetricData failed: throttled")


def test_skipped_items_are_counted_and_a_refused_count_does_not_fail_the_listing() -> None:
    photo = FakeVideo(make_item("p1", media_type="Photo"), b"x" * 100)
    world = world_with(FakeVideo(make_item("v1"), content_for("v1", 100)), photo)
    world.source.unreadable = 2
    counted = RecordingMetrics()
    outcome = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy(),
                       metrics=counted)  # fmt: skip
    assert sorted(counted.skipped) == [("gopro", "not_a_video", 1), ("gopro", "unreadable", 2)]
    again = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy(),
                     metrics=UnreachableMetrics())  # fmt: skip
    assert again.media_ids == outcome.media_ids == ("v1",)


class ReaderWhileCounting(RecordingMetrics):
    """Metrics through which, at the instant the completing worker sends its count (after
    the COMPLETED write, before the "count sent" write), another execution reads the
    video: a second transfer attempt, then a discovery."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.readers: list[TransferResult] = []

    def video_synced(self, provider: str, size_bytes: int) -> None:
        super().video_synced(provider, size_bytes)
        if not self.readers:
            ports = replace(self.world.ports(), metrics=self)
            self.readers.append(transfer_video("v1", "other-execution", ports).result)
            discover("gopro", self.world.source, self.world.tracker, self.world.clock,
                     SelectionPolicy(), metrics=self)  # fmt: skip


def test_a_reader_between_the_completed_write_and_the_count_never_counts_twice() -> None:
    world = world_with(video("v1"))
    metrics = ReaderWhileCounting(world)
    outcome = transfer_video("v1", "w1", replace(world.ports(), metrics=metrics))
    assert outcome.result is TransferResult.COMPLETED
    assert metrics.readers == [TransferResult.ALREADY_ARCHIVED]
    assert metrics.synced == [("gopro", 100)]  # once, though three read it pending
    assert not world.tracker.records["v1"].count_pending


class DyingMetrics(RecordingMetrics):
    """The process dies while sending the count."""

    def video_synced(self, provider: str, size_bytes: int) -> None:
        raise SystemExit("killed")


def test_a_count_whose_sender_died_is_sent_once_by_the_next_reader_after_its_claim() -> None:
    world = world_with(video("v1"))
    with pytest.raises(SystemExit):
        transfer_video("v1", "w1", replace(world.ports(), metrics=DyingMetrics()))
    record = world.tracker.records["v1"]
    assert (record.status, record.count_pending) == (SyncStatus.COMPLETED, True)
    # A reader while the dead worker's claim holds leaves it; one after it sends it, once
    readers = RecordingMetrics()
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy(),
             metrics=readers)  # fmt: skip
    assert readers.synced == []
    world.clock.advance(COUNT_HOLD)
    for _ in range(2):
        discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy(),
                 metrics=readers)  # fmt: skip
        transfer_video("v1", "w2", replace(world.ports(), metrics=readers))
    assert readers.synced == [("gopro", 100)]
    assert not world.tracker.records["v1"].count_pending
