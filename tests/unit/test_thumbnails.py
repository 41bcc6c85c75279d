"""Thumbnails: kept after the video, never failing it, retried on a later listing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.errors import IllegalTransitionError
from domain.keys import thumbnail_key
from domain.model import SyncRecord, check_change
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.thumbnails import THUMBNAIL_LIMIT, ThumbnailKeeper, ThumbnailTally
from tests.fakes import (
    EPOCH,
    JPEG,
    FakeMediaSource,
    FakePreviewSource,
    FakeVideo,
    FixedClock,
    InMemoryPreviewStore,
    InMemorySyncTracker,
    make_item,
)


def archived(media_id: str, preview: str | None = "tok") -> SyncRecord:
    item = replace(make_item(media_id), preview=preview)
    return replace(SyncRecord.discovered(item, EPOCH), status=SyncStatus.COMPLETED, version=3)


def keeper(tracker: InMemorySyncTracker, budget: int = 10) -> tuple[ThumbnailKeeper, ...]:
    return (
        ThumbnailKeeper(
            FakePreviewSource(),
            InMemoryPreviewStore(),
            tracker,
            FixedClock(),
            ThumbnailTally(budget),
        ),
    )


def test_an_archived_item_gets_its_thumbnail_and_its_record_the_key() -> None:
    tracker = InMemorySyncTracker()
    record = archived("m1")
    tracker.records["m1"] = record
    (keep,) = keeper(tracker)
    kept = keep.keep(record, record.item)
    assert kept.thumbnail_key == thumbnail_key("gopro", "m1") == "thumbnails/gopro/m1.jpg"
    assert tracker.records["m1"] == kept
    assert kept.status is SyncStatus.COMPLETED
    assert keep.store.kept["thumbnails/gopro/m1.jpg"].startswith(JPEG)  # type: ignore[attr-defined]
    assert keep.tally.as_dict() == {"kept": 1, "failed": 0}


@pytest.mark.parametrize("answer", [b"<html>502 Bad Gateway</html>", JPEG + b"x" * THUMBNAIL_LIMIT])
def test_what_is_not_a_small_jpeg_is_not_kept(answer: bytes) -> None:
    tracker = InMemorySyncTracker()
    record = archived("m1")
    tracker.records["m1"] = record
    (keep,) = keeper(tracker)
    keep.source.answers["m1"] = answer  # type: ignore[attr-defined]
    assert keep.keep(record, record.item) == record
    assert keep.store.kept == {}  # type: ignore[attr-defined]
    assert tracker.records["m1"] == record
    assert keep.tally.as_dict() == {"kept": 0, "failed": 1}


def test_a_failed_thumbnail_leaves_the_video_completed_and_a_later_listing_keeps_it() -> None:
    # Given an archived video whose thumbnail fails tonight
    tracker = InMemorySyncTracker()
    record = archived("m1")
    tracker.records["m1"] = record
    (keep,) = keeper(tracker)
    keep.source.failing.add("m1")  # type: ignore[attr-defined]
    assert keep.keep(record, record.item) == record
    assert tracker.records["m1"].status is SyncStatus.COMPLETED
    assert tracker.records["m1"].thumbnail_key is None
    # When a later night's listing sees it again (with a fresh token), the thumbnail is kept
    keep.source.failing.clear()  # type: ignore[attr-defined]
    source = FakeMediaSource([FakeVideo(replace(record.item, preview="fresh"), b"v")])
    discover("gopro", source, tracker, FixedClock(), SelectionPolicy(), thumbnails=keep)
    assert tracker.records["m1"].thumbnail_key == "thumbnails/gopro/m1.jpg"
    assert keep.source.asked == ["m1", "m1"]  # type: ignore[attr-defined]
    # And once kept, no later listing fetches it again
    discover("gopro", source, tracker, FixedClock(), SelectionPolicy(), thumbnails=keep)
    assert keep.source.asked == ["m1", "m1"]  # type: ignore[attr-defined]


def test_the_budget_bounds_the_thumbnails_of_one_invocation() -> None:
    tracker = InMemorySyncTracker()
    for n in range(5):
        tracker.records[f"m{n}"] = archived(f"m{n}")
    (keep,) = keeper(tracker, budget=2)
    source = FakeMediaSource([FakeVideo(r.item, b"v") for r in tracker.records.values()])
    discover("gopro", source, tracker, FixedClock(), SelectionPolicy(), thumbnails=keep)
    assert sum(1 for r in tracker.records.values() if r.thumbnail_key) == 2
    assert keep.tally.budget == 0


def test_items_without_a_token_or_not_archived_are_left_alone() -> None:
    tracker = InMemorySyncTracker()
    tracker.records["none"] = archived("none", preview=None)
    waiting = SyncRecord.discovered(replace(make_item("wait"), preview="tok"), EPOCH)
    tracker.records["wait"] = waiting
    (keep,) = keeper(tracker)
    for record in tracker.records.values():
        assert keep.keep(record, record.item) == record
    assert keep.source.asked == []  # type: ignore[attr-defined]


def test_a_completed_record_takes_a_thumbnail_once_and_nothing_else_with_it() -> None:
    record = archived("m1")
    kept = record.with_thumbnail("thumbnails/gopro/m1.jpg", EPOCH)
    check_change(record, kept)
    with pytest.raises(IllegalTransitionError):
        kept.with_thumbnail("thumbnails/gopro/other.jpg", EPOCH)
    sneaky = replace(kept, object_key="gopro-videos/elsewhere.mp4")
    with pytest.raises(IllegalTransitionError):
        check_change(record, sneaky)
    with pytest.raises(IllegalTransitionError):
        SyncRecord.discovered(make_item("m2"), EPOCH).with_thumbnail("k", EPOCH)


def test_a_record_that_changed_meanwhile_keeps_its_change() -> None:
    tracker = InMemorySyncTracker()
    record = archived("m1")
    tracker.records["m1"] = replace(record, version=record.version + 1)  # someone wrote
    (keep,) = keeper(tracker)
    assert keep.keep(record, record.item) == record
    assert tracker.records["m1"].thumbnail_key is None
    assert keep.tally.failed == 1
