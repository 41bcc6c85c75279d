"""Object keys: always valid, never escaping their month, never shared by two videos."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.keys import (
    DISAMBIGUATION_MARK,
    FILENAME_LIMIT_BYTES,
    KEY_LIMIT_BYTES,
    archive_time,
    candidate_keys,
    month_prefix,
    safe_filename,
)
from domain.model import MediaItem
from tests.fakes import make_item
from tests.strategies import hostile_filenames, media_ids, media_items


def assert_valid_key(key: str, item: MediaItem) -> None:
    encoded = key.encode("utf-8")  # raises on a lone surrogate
    assert 0 < len(encoded) <= KEY_LIMIT_BYTES
    segments = key.split("/")
    assert len(segments) == 4, key
    provider_dir, year, month, filename = segments
    assert provider_dir == f"{item.provider}-videos"
    assert len(year) == 4
    assert year.isdigit()
    assert len(month) == 2
    assert 1 <= int(month) <= 12
    assert filename not in ("", ".", "..")
    assert ".." not in filename
    assert not filename.startswith((".", " "))
    assert not filename.endswith((".", " "))
    assert len(filename.encode("utf-8")) <= FILENAME_LIMIT_BYTES
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") for ch in filename)
    assert "\\" not in filename


@given(media_items())
def test_keys_are_always_valid_s3_keys(item: MediaItem) -> None:
    plain, disambiguated = candidate_keys(item)
    assert_valid_key(plain, item)
    assert_valid_key(disambiguated, item)
    assert DISAMBIGUATION_MARK not in plain
    assert disambiguated.count(DISAMBIGUATION_MARK) == 1
    assert item.media_id in disambiguated
    assert candidate_keys(item) == (plain, disambiguated)  # the same item, the same keys


@given(media_items(), media_items(), st.data())
def test_distinct_media_ids_never_share_a_disambiguated_key(
    first: MediaItem, second: MediaItem, data: st.DataObject
) -> None:
    # Given two different videos, possibly with the same name in the same month
    if data.draw(st.booleans(), label="same name and month"):
        second = replace(
            second,
            provider=first.provider,
            filename=first.filename,
            captured_at=first.captured_at,
            uploaded_at=first.uploaded_at,
        )
    if first.media_id == second.media_id:
        return
    first_keys, second_keys = candidate_keys(first), candidate_keys(second)
    # Then their disambiguated keys differ from each other and from every plain key
    assert first_keys[1] != second_keys[1]
    assert first_keys[1] not in (first_keys[0], second_keys[0])
    assert second_keys[1] not in (first_keys[0], second_keys[0])


@given(
    st.text(
        st.characters(categories=["Lu", "Ll", "Lo", "Nd"]),
        min_size=1,
        max_size=40,
    )
)
def test_unicode_names_are_kept(stem: str) -> None:
    name = unicodedata.normalize("NFC", stem) + ".MP4"
    assert safe_filename(name, "fallback") == name


@given(hostile_filenames, media_ids)
def test_sanitised_names_are_stable(raw: str, media_id: str) -> None:
    once = safe_filename(raw, media_id)
    assert safe_filename(once, media_id) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GX010123.MP4", "GX010123.MP4"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("a/../b.MP4", "a_._b.MP4"),
        ("..\\..\\boot.ini", "_._boot.ini"),
        ("GX01\x00\x1f23.MP4", "GX0123.MP4"),
        ("\u202egnp.MP4", "gnp.MP4"),
        ("~GX010123.MP4", "_GX010123.MP4"),
        ("..", "m1"),
        ("", "m1"),
        ("  .hidden.MP4 ", "hidden.MP4"),
        ("Cafe\u0301.mov", "Café.mov"),
    ],
)
def test_hostile_filenames(raw: str, expected: str) -> None:
    assert safe_filename(raw, "m1") == expected


def test_a_long_name_keeps_its_extension_within_the_limit() -> None:
    name = safe_filename("é" * 600 + ".MP4", "m1")
    assert name.endswith("é.MP4")
    assert len(name.encode("utf-8")) <= FILENAME_LIMIT_BYTES
    item = make_item("abcDEF123", filename="é" * 600 + ".MP4")
    _, disambiguated = candidate_keys(item)
    assert disambiguated.endswith("~abcDEF123.MP4")


def test_the_capture_month_places_the_video_and_upload_time_stands_in() -> None:
    shot = datetime(2020, 4, 30, 23, 30, tzinfo=UTC)
    item = make_item("m1", filename="GOPR1991.MP4", captured_at=shot)
    assert candidate_keys(item) == (
        "gopro-videos/2020/04/GOPR1991.MP4",
        "gopro-videos/2020/04/GOPR1991~m1.MP4",
    )
    unknown = make_item("m2", filename="GOPR1991.MP4", captured_at=None)
    assert archive_time(unknown) == unknown.uploaded_at
    assert candidate_keys(unknown)[0].startswith(month_prefix("gopro", unknown.uploaded_at))


def test_the_month_is_taken_in_utc() -> None:
    local_new_year = datetime(2021, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert month_prefix("gopro", local_new_year) == "gopro-videos/2020/12/"
