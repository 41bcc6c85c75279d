"""A whole sync, night after night, over random libraries with faults: every video ready to
archive arrives byte for byte and exactly once, and nothing else is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import TransientSourceError
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import TransferResult, transfer_video
from tests.fakes import FakeVideo, World, content_for, make_item

NIGHTS = 3
ATTEMPTS_PER_NIGHT = 4  # the first try and three retries, as the workflow allows


@dataclass(frozen=True)
class Spec:
    media_id: str
    filename: str
    month: int
    size: int
    media_type: str
    readiness: str
    transient_faults: int
    short_body: bool


specs = st.builds(
    Spec,
    media_id=st.from_regex(r"[A-Za-z0-9]{4,13}", fullmatch=True),
    filename=st.sampled_from(["GX010123.MP4", "GOPR0001.MP4", "", "a/../b.MP4", "é.mov"]),
    month=st.integers(min_value=1, max_value=2),
    size=st.integers(min_value=0, max_value=300),
    media_type=st.sampled_from(["Video", "Video", "Chaptered", "Photo"]),
    readiness=st.sampled_from(["ready", "ready", "ready", "transcoding"]),
    transient_faults=st.integers(min_value=0, max_value=6),
    short_body=st.sampled_from([False, False, False, True]),
)
libraries = st.lists(specs, max_size=12, unique_by=lambda spec: spec.media_id)


def fake(spec: Spec) -> FakeVideo:
    item = make_item(
        spec.media_id,
        filename=spec.filename,
        size=spec.size,
        captured_at=datetime(2024, spec.month, 15, tzinfo=UTC),
        media_type=spec.media_type,
        readiness=spec.readiness,
    )
    video = FakeVideo(item, content_for(spec.media_id, spec.size))
    if spec.transient_faults:
        video.error = TransientSourceError("503 Service Unavailable")
        video.error_times = spec.transient_faults
    if spec.short_body and spec.size:
        video.cut_after = spec.size - 1
    return video


def run_night(world: World, night: int) -> None:
    plan = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    for media_id in plan.media_ids:
        for attempt in range(ATTEMPTS_PER_NIGHT):
            outcome = transfer_video(media_id, f"n{night}-a{attempt}-{media_id}", world.ports())
            world.clock.advance(timedelta(seconds=30))
            if outcome.result is not TransferResult.FAILED or not outcome.retryable:
                break
    world.clock.advance(timedelta(days=1))


def check_whole_sync(library: list[Spec]) -> None:
    world = World()
    for spec in library:
        world.source.add(fake(spec))
    for night in range(NIGHTS):
        run_night(world, night)

    eligible = [s for s in library if s.media_type != "Photo" and s.readiness == "ready"]
    broken = {s.media_id for s in eligible if s.short_body and s.size}
    # Transient faults clear within the nights the sync gets: 3 nights x 4 attempts.
    archived = {s.media_id for s in eligible} - broken
    records = world.tracker.records

    assert set(records) == {s.media_id for s in eligible}
    for media_id in archived:
        record = records[media_id]
        assert record.status is SyncStatus.COMPLETED, record
        assert record.object_key is not None
        stored = world.store.objects[record.object_key]
        assert stored.owner == media_id
        assert stored.data == content_for(media_id, record.item.size_bytes)
    for media_id in broken:
        assert records[media_id].status is SyncStatus.FAILED
    # Exactly once: one object per archived video, nothing for anything else
    assert sorted(o.owner or "" for o in world.store.objects.values()) == sorted(archived)
    assert len(world.metrics.synced) == len(archived)
    # And the next night has nothing to do but the videos that cannot be archived
    plan = discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    assert set(plan.media_ids) == broken


@settings(max_examples=60, deadline=None)
@given(libraries)
def test_every_ready_video_arrives_exactly_once_byte_for_byte(library: list[Spec]) -> None:
    check_whole_sync(library)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(st.lists(specs, max_size=40, unique_by=lambda spec: spec.media_id))
def test_soak_larger_libraries(library: list[Spec]) -> None:
    check_whole_sync(library)
