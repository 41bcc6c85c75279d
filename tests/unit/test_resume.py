"""Transfers that outlast one invocation: paused at a part boundary, resumed exactly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import TransientSourceError
from domain.model import SyncRecord
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import DEFAULT_LEASE, TransferOutcome, TransferResult, transfer_video
from tests.fakes import (
    FakeVideo,
    InMemoryObjectStore,
    InMemorySyncTracker,
    World,
    content_for,
    make_item,
)


def world_with(size: int, part_size: int, chunk_size: int = 7) -> World:
    world = World(store=InMemoryObjectStore(part_size=part_size))
    world.source.chunk_size = chunk_size
    world.source.add(FakeVideo(make_item("big1", size=size), content_for("big1", size)))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    return world


@settings(max_examples=80, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=2_000),
    part_size=st.integers(min_value=1, max_value=300),
    chunk_size=st.integers(min_value=1, max_value=500),
    pauses=st.lists(st.booleans(), min_size=1, max_size=50),
)
def test_a_paused_and_resumed_transfer_equals_an_uninterrupted_one(
    size: int, part_size: int, chunk_size: int, pauses: list[bool]
) -> None:
    world = world_with(size, part_size, chunk_size)
    answers = iter(pauses)
    outcomes: list[TransferOutcome] = []
    for _ in range(size // part_size + 2):
        outcome = transfer_video(
            "big1", "exec-1", world.ports(), should_pause=lambda: next(answers, False)
        )
        outcomes.append(outcome)
        if outcome.result is not TransferResult.PAUSED:
            break
        assert world.tracker.records["big1"].checkpoint is not None
        assert outcome.offset == world.tracker.records["big1"].checkpoint.offset
    assert outcomes[-1].result is TransferResult.COMPLETED
    record = world.tracker.records["big1"]
    assert record.checkpoint is None
    assert record.retry_count == 0
    assert world.store.objects[record.object_key or ""].data == content_for("big1", size)
    offsets = [o.offset or 0 for o in outcomes[:-1]]
    assert offsets == sorted(set(offsets))  # every pause made progress


def test_a_big_video_goes_up_over_several_short_invocations() -> None:
    world = world_with(size=5_000, part_size=500)
    parts_this_invocation: Iterator[bool] = iter([])

    def two_parts_per_invocation() -> bool:
        return next(parts_this_invocation, True)

    results: list[TransferOutcome] = []
    while not results or results[-1].result is TransferResult.PAUSED:
        parts_this_invocation = iter([False])  # one part, then the deadline is near
        results.append(
            transfer_video("big1", "exec-1", world.ports(), should_pause=two_parts_per_invocation)
        )
    assert [r.result for r in results] == [TransferResult.PAUSED] * 4 + [TransferResult.COMPLETED]
    assert [r.offset for r in results[:-1]] == [1_000, 2_000, 3_000, 4_000]
    assert world.store.objects[results[-1].object_key or ""].data == content_for("big1", 5_000)


def test_another_worker_resumes_a_paused_transfer_after_the_lease_expires() -> None:
    world = world_with(size=1_000, part_size=100)
    paused = transfer_video("big1", "exec-1", world.ports(), should_pause=lambda: True)
    assert paused.result is TransferResult.PAUSED
    busy = transfer_video("big1", "exec-2", world.ports())
    assert busy.result is TransferResult.BUSY
    world.clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
    done = transfer_video("big1", "exec-2", world.ports())
    assert done.result is TransferResult.COMPLETED
    assert world.tracker.records["big1"].retry_count == 1
    assert world.store.objects[done.object_key or ""].data == content_for("big1", 1_000)
    # The first invocation read whole 7-byte chunks up to its first part (105 bytes); the
    # second read from the checkpoint's offset on, nothing before it again.
    assert world.source.bytes_served == 105 + 900


def test_a_failure_while_resuming_aborts_the_upload_and_the_retry_starts_over() -> None:
    world = world_with(size=1_000, part_size=100)
    transfer_video("big1", "exec-1", world.ports(), should_pause=lambda: True)
    video = world.source.videos["big1"]
    video.error, video.error_times = TransientSourceError("CDN 503"), 1
    failed = transfer_video("big1", "exec-1", world.ports())
    assert failed.result is TransferResult.FAILED
    assert failed.retryable
    assert world.tracker.records["big1"].checkpoint is None
    assert world.tracker.records["big1"].status is SyncStatus.FAILED
    done = transfer_video("big1", "exec-1", world.ports())
    assert done.result is TransferResult.COMPLETED
    assert world.store.objects[done.object_key or ""].data == content_for("big1", 1_000)


def test_a_stream_that_breaks_mid_upload_aborts_it() -> None:
    world = world_with(size=1_000, part_size=100)
    world.source.videos["big1"].cut_after = 450
    failed = transfer_video("big1", "exec-1", world.ports())
    assert failed.result is TransferResult.FAILED
    assert world.store.aborted == ["upload-1"]
    assert world.store.uploads == {}
    assert world.store.objects == {}


class Killed(BaseException):
    """The invocation dies (a crash between two writes): nothing catches it."""


class CrashingTracker(InMemorySyncTracker):
    """Dies on the write that would record the video COMPLETED, once."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_on_complete = False

    def replace(self, previous: SyncRecord, new: SyncRecord) -> None:
        if self.crash_on_complete and new.status is SyncStatus.COMPLETED:
            self.crash_on_complete = False
            raise Killed
        super().replace(previous, new)


def test_an_upload_completed_by_a_dead_invocation_is_adopted_not_uploaded_twice() -> None:
    # Given a video uploaded in parts across invocations, whose last invocation completes
    # the upload and dies before recording it
    tracker = CrashingTracker()
    world = World(store=InMemoryObjectStore(part_size=100), tracker=tracker)
    world.source.add(FakeVideo(make_item("big1", size=450), content_for("big1", 450)))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    assert transfer_video("big1", "w1", world.ports(), should_pause=lambda: True).result is (
        TransferResult.PAUSED
    )
    tracker.crash_on_complete = True
    with pytest.raises(Killed):
        transfer_video("big1", "w1", world.ports())
    (first_key,) = world.store.objects
    # And a takeover after the lease that fails (the source is down), so the video waits
    world.clock.current += DEFAULT_LEASE * 2
    world.source.videos["big1"].error = TransientSourceError("GoPro is down")
    assert transfer_video("big1", "w2", world.ports()).result is TransferResult.FAILED
    # When GoPro renames it, and the next night transfers it
    renamed = replace(make_item("big1", size=450), filename="renamed.MP4")
    world.source.listing[:] = [renamed]
    world.source.videos["big1"] = FakeVideo(renamed, content_for("big1", 450))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    outcome = transfer_video("big1", "w3", world.ports())
    # Then the one object is adopted: the video has exactly one object, the source's bytes
    assert outcome.result is TransferResult.COMPLETED
    assert list(world.store.objects) == [first_key] == [outcome.object_key]
    assert world.store.objects[first_key].data == content_for("big1", 450)


def test_checking_a_left_object_pauses_like_an_upload_and_goes_on_where_it_stopped() -> None:
    # Given an object a dead invocation stored without recording it (a single PUT)
    tracker = CrashingTracker()
    world = World(store=InMemoryObjectStore(part_size=10_000), tracker=tracker)
    world.source.add(FakeVideo(make_item("big1", size=450), content_for("big1", 450)))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    tracker.crash_on_complete = True
    with pytest.raises(Killed):
        transfer_video("big1", "w1", world.ports())
    world.clock.current += DEFAULT_LEASE * 2
    served = world.source.bytes_served
    # When every invocation after the takeover finds its time short
    outcomes = []
    for _ in range(200):
        outcomes.append(transfer_video("big1", "w2", world.ports(), should_pause=lambda: True))
        if outcomes[-1].result is not TransferResult.PAUSED:
            break
    # Then the check of the object went on over several invocations, each making progress,
    # the source was read once more in all, and the object was adopted, not stored again
    assert len(outcomes) > 2
    assert outcomes[-1].result is TransferResult.COMPLETED
    offsets = [o.offset or 0 for o in outcomes[:-1]]
    assert offsets == sorted(set(offsets))
    assert world.source.bytes_served - served == 450
    assert len(world.store.objects) == 1
    assert world.tracker.records["big1"].status is SyncStatus.COMPLETED


def test_a_single_put_stored_by_a_dead_attempt_keeps_its_key_through_a_rename() -> None:
    # Given a small video stored in one PUT by an invocation that died before recording it
    tracker = CrashingTracker()
    world = World(store=InMemoryObjectStore(part_size=10_000), tracker=tracker)
    world.source.add(FakeVideo(make_item("small1", size=120), content_for("small1", 120)))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    tracker.crash_on_complete = True
    with pytest.raises(Killed):
        transfer_video("small1", "w1", world.ports())
    (first_key,) = world.store.objects
    assert world.tracker.records["small1"].reserved_key == first_key
    # And a takeover that fails, then a listing that renames and re-dates the video
    world.clock.current += DEFAULT_LEASE * 2
    world.source.videos["small1"].error = TransientSourceError("GoPro is down")
    assert transfer_video("small1", "w2", world.ports()).result is TransferResult.FAILED
    moved = replace(
        make_item("small1", size=120),
        filename="renamed.MP4",
        captured_at=world.clock.current + timedelta(days=400),
    )
    world.source.listing[:] = [moved]
    world.source.videos["small1"] = FakeVideo(moved, content_for("small1", 120))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    # When it is transferred, Then the one object is adopted at its first key
    outcome = transfer_video("small1", "w3", world.ports())
    assert outcome.result is TransferResult.COMPLETED
    assert list(world.store.objects) == [first_key] == [outcome.object_key]


def test_a_paused_upload_whose_key_another_video_took_starts_over_at_the_next_key() -> None:
    # Given a large video paused after its first part, and another video of the same name
    # and month that is stored at the plain key meanwhile (an open upload reserves nothing)
    world = world_with(300, part_size=64)
    world.source.add(FakeVideo(make_item("small2", size=50), content_for("small2", 50)))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    paused = transfer_video("big1", "w1", world.ports(), should_pause=lambda: True)
    assert paused.result is TransferResult.PAUSED
    assert transfer_video("small2", "w2", world.ports()).result is TransferResult.COMPLETED
    assert world.store.objects[paused.object_key or ""].owner == "small2"
    # When the large one goes on, Then it starts over at its own key, without failing
    outcome = transfer_video("big1", "w1", world.ports())
    assert outcome.result is TransferResult.COMPLETED
    assert outcome.object_key == "gopro-videos/2026/01/GX010123~big1.MP4"
    assert world.store.objects[outcome.object_key].data == content_for("big1", 300)
    assert world.metrics.failed == []
    assert world.tracker.records["big1"].checkpoint is None
