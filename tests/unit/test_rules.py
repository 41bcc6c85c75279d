"""Selection: which videos a run transfers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidSettingError
from domain.model import MediaItem, StoredObject, SyncRecord
from domain.rules import (
    DEFAULT_MEDIA_TYPES,
    SelectionPolicy,
    SkipReason,
    plan_sync,
    record_wants_work,
)
from domain.status import SyncStatus
from tests.fakes import EPOCH, make_item
from tests.strategies import media_ids, media_items, ready_videos

POLICY = SelectionPolicy()
LEASE = timedelta(minutes=20)


def completed(record: SyncRecord) -> SyncRecord:
    claimed = record.claim("w", EPOCH, LEASE)
    stored = StoredObject("k", 1, None, record.media_id)
    return claimed.complete("w", EPOCH, stored)


libraries = st.lists(media_items(media_id=st.sampled_from(["a", "b", "c", "d", "e", "f"])))


@given(libraries, st.data())
def test_plan_then_apply_then_plan_selects_nothing(
    items: list[MediaItem], data: st.DataObject
) -> None:
    # Given a library and a tracker that knows some of it, in any state
    records: dict[str, SyncRecord] = {}
    for item in items:
        if item.media_id not in records and data.draw(st.booleans()):
            record = SyncRecord.discovered(item, EPOCH)
            if data.draw(st.booleans()):
                record = completed(record)
            records[item.media_id] = record
    # When the plan is applied: every chosen video transferred and recorded COMPLETED
    plan = plan_sync(items, records, EPOCH, POLICY)
    for item in plan.to_sync:
        records[item.media_id] = completed(
            records.get(item.media_id) or SyncRecord.discovered(item, EPOCH)
        )
    # Then planning again selects nothing
    assert plan_sync(items, records, EPOCH, POLICY).to_sync == ()


@given(libraries)
def test_a_plan_accounts_for_every_listed_item_once(items: list[MediaItem]) -> None:
    plan = plan_sync(items, {}, EPOCH, POLICY)
    ids = plan.media_ids
    assert len(ids) == len(set(ids))
    assert len(ids) + sum(plan.skipped.values()) == len(items)
    assert plan.skipped.get(SkipReason.DUPLICATE, 0) == len(items) - len(
        {item.media_id for item in items}
    )
    for item in plan.to_sync:
        assert POLICY.rejects(item) is None


@given(ready_videos, st.integers(min_value=0, max_value=10**7))
def test_failed_is_always_reselected(item: MediaItem, seconds: int) -> None:
    record = SyncRecord.discovered(item, EPOCH).claim("w", EPOCH, LEASE).fail("w", EPOCH, "x")
    now = EPOCH + timedelta(seconds=seconds)
    assert record_wants_work(record, now)
    assert plan_sync([item], {item.media_id: record}, now, POLICY).to_sync == (item,)


@given(ready_videos, st.integers(min_value=0, max_value=10**7))
def test_a_lease_blocks_selection_exactly_until_it_expires(item: MediaItem, seconds: int) -> None:
    record = SyncRecord.discovered(item, EPOCH).claim("w", EPOCH, LEASE)
    now = EPOCH + timedelta(seconds=seconds)
    plan = plan_sync([item], {item.media_id: record}, now, POLICY)
    if now < EPOCH + LEASE:
        assert plan.to_sync == ()
        assert plan.skipped == {SkipReason.LEASED: 1}
    else:
        assert plan.to_sync == (item,)


@given(ready_videos, st.integers(min_value=0, max_value=10**9))
def test_completed_is_never_reselected(item: MediaItem, seconds: int) -> None:
    record = completed(SyncRecord.discovered(item, EPOCH))
    now = EPOCH + timedelta(seconds=seconds)
    plan = plan_sync([item], {item.media_id: record}, now, POLICY)
    assert plan.to_sync == ()
    assert plan.skipped == {SkipReason.ARCHIVED: 1}


@given(ready_videos)
def test_pending_and_unknown_videos_are_selected(item: MediaItem) -> None:
    assert plan_sync([item], {}, EPOCH, POLICY).to_sync == (item,)
    pending = SyncRecord.discovered(item, EPOCH)
    assert pending.status is SyncStatus.PENDING
    assert plan_sync([item], {item.media_id: pending}, EPOCH, POLICY).to_sync == (item,)


@given(media_items(), st.sampled_from(sorted(DEFAULT_MEDIA_TYPES)))
def test_the_default_policy_takes_ready_videos_only(item: MediaItem, video_type: str) -> None:
    reason = POLICY.rejects(item)
    is_video = (item.media_type or "") in DEFAULT_MEDIA_TYPES
    if not is_video:
        assert reason is SkipReason.NOT_A_VIDEO
    elif item.readiness != "ready":
        assert reason is SkipReason.NOT_READY
    else:
        assert reason is None
    assert POLICY.rejects(make_item("m", media_type=video_type.upper())) is None


@pytest.mark.parametrize("kind", ["Photo", "TimeLapse", "Burst", "Audio", "Session", "Hologram"])
def test_photos_and_unknown_types_are_left_out_by_default(kind: str) -> None:
    assert POLICY.rejects(make_item("m", media_type=kind)) is SkipReason.NOT_A_VIDEO


@pytest.mark.parametrize("state", ["transcoding", "uploading", "failure", "Brand-New-State"])
def test_items_still_processing_wait(state: str) -> None:
    assert POLICY.rejects(make_item("m", readiness=state)) is SkipReason.NOT_READY


def test_the_policy_is_configurable_from_settings() -> None:
    policy = SelectionPolicy.from_lists("Video, Photo", "ready,transcoding")
    assert policy.rejects(make_item("m", media_type="Photo", readiness="transcoding")) is None
    assert policy.rejects(make_item("m", media_type="Chaptered")) is SkipReason.NOT_A_VIDEO
    assert SelectionPolicy.from_lists(None, None) == SelectionPolicy()
    with pytest.raises(InvalidSettingError, match="media_types"):
        SelectionPolicy.from_lists(" , ", None)
    with pytest.raises(InvalidSettingError, match="ready_states"):
        SelectionPolicy(ready_states=frozenset())


@given(st.lists(media_ids, min_size=1, max_size=20))
def test_a_listing_that_repeats_ids_yields_each_once(ids: list[str]) -> None:
    items = [make_item(media_id) for media_id in ids + ids]
    plan = plan_sync(items, {}, EPOCH, POLICY)
    assert plan.media_ids == tuple(dict.fromkeys(ids))
