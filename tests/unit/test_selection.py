"""The stack's choice of what to archive: each setting, its effect on discovery, and its
errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.gopro.media import media_types_of
from domain.errors import InvalidSettingError
from domain.model import SyncRecord
from domain.rules import SelectionPolicy, SkipReason, plan_sync
from domain.selection import MEDIA_KINDS, Selection
from domain.status import SyncStatus
from tests.fakes import EPOCH, make_item
from tests.strategies import media_items, ready_videos


def policy(**settings: str) -> SelectionPolicy:
    chosen = Selection.parse(
        settings.get("since"), settings.get("until"), settings.get("kinds"),
        settings.get("cameras"),
    )  # fmt: skip
    return SelectionPolicy.from_lists(None, None, chosen, media_types_of(chosen.kinds))


def shot(day: date, **extra: object) -> object:
    item = make_item("m1", captured_at=datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC))
    return replace(item, **extra)  # type: ignore[arg-type]


def test_the_default_archives_every_video_and_nothing_else() -> None:
    chosen = policy()
    assert chosen.selection.everything
    assert chosen.rejects(make_item("v")) is None
    assert chosen.rejects(make_item("p", media_type="Photo")) is SkipReason.NOT_A_VIDEO
    assert chosen.rejects(make_item("t", media_type="TimeLapse")) is SkipReason.NOT_A_VIDEO


@pytest.mark.parametrize(
    ("kinds", "photo", "timelapse", "burst", "video"),
    [
        ("photos", True, False, False, False),
        ("videos,time-lapse", False, True, False, True),
        ('["bursts"]', False, False, True, False),
        ("videos, photos, time-lapse, bursts", True, True, True, True),
    ],
)
def test_media_types_choose_the_kinds(
    kinds: str, photo: bool, timelapse: bool, burst: bool, video: bool
) -> None:
    chosen = policy(kinds=kinds)
    for media_type, wanted in [
        ("Photo", photo), ("TimeLapse", timelapse), ("Burst", burst), ("Video", video),
        ("Chaptered", video),
    ]:  # fmt: skip
        found = chosen.rejects(make_item("m", media_type=media_type))
        assert (found is None) is wanted, (kinds, media_type)


def test_capture_dates_include_both_ends_in_utc() -> None:
    chosen = policy(since="2021-06-01", until="2021-06-30")
    assert chosen.rejects(shot(date(2021, 6, 1))) is None  # type: ignore[arg-type]
    assert chosen.rejects(shot(date(2021, 6, 30))) is None  # type: ignore[arg-type]
    outside = SkipReason.CAPTURED_OUTSIDE
    assert chosen.rejects(shot(date(2021, 5, 31))) is outside  # type: ignore[arg-type]
    assert chosen.rejects(shot(date(2021, 7, 1))) is outside  # type: ignore[arg-type]


def test_an_item_without_a_capture_time_counts_by_its_upload_day() -> None:
    item = make_item("m", captured_at=None)  # uploaded EPOCH + 1 day
    assert policy(since=(EPOCH + timedelta(days=1)).date().isoformat()).rejects(item) is None
    later = (EPOCH + timedelta(days=2)).date().isoformat()
    assert policy(since=later).rejects(item) is SkipReason.CAPTURED_OUTSIDE


def test_cameras_compare_without_case_and_leave_out_items_naming_none() -> None:
    chosen = policy(cameras="hero12 black,HERO9 Black")
    assert chosen.rejects(replace(make_item("a"), camera_model="HERO12 Black")) is None
    assert chosen.rejects(replace(make_item("b"), camera_model="HERO9 BLACK")) is None
    other = replace(make_item("c"), camera_model="HERO11 Black")
    assert chosen.rejects(other) is SkipReason.OTHER_CAMERA
    assert chosen.rejects(make_item("d")) is SkipReason.OTHER_CAMERA  # no camera named


@pytest.mark.parametrize(
    ("arguments", "setting"),
    [
        ({"since": "2021-02-30"}, "captureSince"),
        ({"until": "last week"}, "captureUntil"),
        ({"since": "2022-01-01", "until": "2021-01-01"}, "captureUntil"),
        ({"kinds": "videos,holograms"}, "mediaTypes"),
        ({"kinds": " , "}, "mediaTypes"),
        ({"kinds": "[1, 2]"}, "mediaTypes"),
        ({"kinds": "[videos"}, "mediaTypes"),
        ({"cameras": "[]"}, "cameras"),
    ],
)
def test_a_bad_value_names_its_setting(arguments: dict[str, str], setting: str) -> None:
    with pytest.raises(InvalidSettingError) as caught:
        policy(**arguments)
    assert caught.value.setting == setting


def test_describe_says_what_is_archived() -> None:
    chosen = Selection.parse("2020-01-01", None, "photos,videos", "HERO12 Black")
    assert chosen.describe() == (
        "videos and photos, captured from 2020-01-01 to today, from cameras HERO12 Black"
    )
    assert Selection().describe() == "videos"


@given(st.lists(ready_videos, max_size=20), st.dates(), st.dates())
def test_a_narrower_selection_never_picks_what_a_wider_one_leaves_out(
    items: list[object], first: date, second: date
) -> None:
    """Property: a date range inside another picks a subset of what the wider one picks;
    and nothing the selection leaves out is ever chosen."""
    since, until = min(first, second), max(first, second)
    wide = policy()
    narrow = policy(since=since.isoformat(), until=until.isoformat())
    now = EPOCH
    wide_ids = set(plan_sync(items, {}, now, wide).media_ids)  # type: ignore[arg-type]
    plan = plan_sync(items, {}, now, narrow)  # type: ignore[arg-type]
    assert set(plan.media_ids) <= wide_ids
    for item in plan.to_sync:
        assert narrow.selection.date_allows(item.captured_at, item.uploaded_at)


@given(media_items(), st.sampled_from(MEDIA_KINDS))
def test_a_selection_never_touches_an_archived_record(item: object, kind: str) -> None:
    """Property: whatever is chosen, an archived video stays archived (its record is not
    chosen for work, and nothing is deleted: plan_sync only picks)."""
    record = replace(
        SyncRecord.discovered(item, EPOCH),  # type: ignore[arg-type]
        status=SyncStatus.COMPLETED,
    )
    plan = plan_sync([item], {record.media_id: record}, EPOCH, policy(kinds=kind))  # type: ignore[list-item]
    assert plan.to_sync == ()
