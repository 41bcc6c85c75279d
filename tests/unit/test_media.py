"""Building a MediaItem from the contract's fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.gopro.media import media_item_from_fields
from domain.errors import MalformedMediaError
from domain.model import MediaItem
from tests.strategies import json_values

CONTRACT_EXAMPLE: dict[str, Any] = {
    "id": "62NzWRrpPXm7o",
    "filename": "GOPR1991.MP4",
    "file_extension": "MP4",
    "type": "Video",
    "captured_at": "2020-04-06T15:51:32Z",
    "created_at": "2020-04-07T03:35:27Z",
    "file_size": 412808724,
    "source_duration": "109710",
    "width": 1920,
    "height": 1080,
    "resolution": "1080p",
    "ready_to_view": "ready",
    "camera_model": "HERO8 Black",
    "item_count": 1,
    "gopro_user_id": "u1",
}


def test_the_contract_example_maps_field_by_field() -> None:
    item = media_item_from_fields("gopro", CONTRACT_EXAMPLE)
    assert item == MediaItem(
        provider="gopro",
        media_id="62NzWRrpPXm7o",
        filename="GOPR1991.MP4",
        size_bytes=412808724,
        uploaded_at=datetime(2020, 4, 7, 3, 35, 27, tzinfo=UTC),
        captured_at=datetime(2020, 4, 6, 15, 51, 32, tzinfo=UTC),
        duration_seconds=109.71,
        media_type="Video",
        readiness="ready",
        camera_model="HERO8 Black",
        width=1920,
        height=1080,
        item_count=1,
    )


def test_a_thumbnail_token_is_kept_when_it_can_travel_in_a_url_path() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.abc-DEF_123="
    assert media_item_from_fields("gopro", {**CONTRACT_EXAMPLE, "token": token}).preview == token
    for hostile in ("../../media/user", "a b", "x?y=1", "", 12, None, "t" * 2049):
        item = media_item_from_fields("gopro", {**CONTRACT_EXAMPLE, "token": hostile})
        assert item.preview is None, hostile


@pytest.mark.parametrize("odd", [True, -1, 0, "1920", 1.5, 1 << 20])
def test_an_odd_picture_size_is_dropped_not_fatal(odd: object) -> None:
    item = media_item_from_fields("gopro", {**CONTRACT_EXAMPLE, "width": odd})
    assert item.width is None
    assert item.height == 1080


@pytest.mark.parametrize("filename", ["", "   ", None])
def test_an_empty_filename_falls_back_to_id_and_extension(filename: str | None) -> None:
    fields = {**CONTRACT_EXAMPLE, "filename": filename}
    assert media_item_from_fields("gopro", fields).filename == "62NzWRrpPXm7o.MP4"
    del fields["file_extension"]
    assert media_item_from_fields("gopro", fields).filename == "62NzWRrpPXm7o"


def test_processing_items_have_no_size_yet_and_unknown_enums_are_kept() -> None:
    fields = {
        **CONTRACT_EXAMPLE,
        "file_size": None,
        "type": "Hologram",
        "ready_to_view": "beaming",
        "source_duration": "0",
    }
    item = media_item_from_fields("gopro", fields)
    assert (item.size_bytes, item.media_type, item.readiness) == (None, "Hologram", "beaming")
    assert item.duration_seconds == 0.0


def test_only_id_and_upload_time_are_required() -> None:
    item = media_item_from_fields("gopro", {"id": "abc", "created_at": "2021-01-01T00:00:00"})
    assert item.filename == "abc"
    assert item.uploaded_at == datetime(2021, 1, 1, tzinfo=UTC)
    assert (item.size_bytes, item.captured_at, item.media_type) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", None, "'id' is missing"),
        ("id", "../etc", "'id' is not"),
        ("id", 42, "'id' is not"),
        ("created_at", None, "'created_at' is missing"),
        ("created_at", "yesterday", "'created_at' is not an ISO 8601"),
        ("captured_at", 1586188292, "'captured_at' should be an ISO 8601"),
        ("file_size", -1, "'file_size' should not be negative"),
        ("file_size", "big", "'file_size' should be a whole number"),
        ("file_size", True, "'file_size' should be a whole number"),
        ("file_size", 1.5, "'file_size' should be a whole number"),
        ("file_size", "9" * 5000, "'file_size' should be a whole number"),
        ("file_size", "١٢", "'file_size' should be a whole number"),
        ("source_duration", "long", "'source_duration' should be milliseconds"),
        ("source_duration", "-5", "'source_duration' should be a finite"),
        ("source_duration", "nan", "'source_duration' should be a finite"),
        ("source_duration", 10**400, "'source_duration' should be milliseconds"),
        ("source_duration", True, "'source_duration' should be milliseconds"),
        ("source_duration", {"ms": 1}, "'source_duration' should be milliseconds"),
        ("filename", ["a"], "'filename' should be text"),
    ],
)
def test_a_malformed_field_is_named(field: str, value: object, message: str) -> None:
    fields = {**CONTRACT_EXAMPLE, field: value}
    with pytest.raises(MalformedMediaError, match=message) as caught:
        media_item_from_fields("gopro", fields)
    assert caught.value.field == field


def test_file_size_as_a_digit_string_is_read() -> None:
    fields = {**CONTRACT_EXAMPLE, "file_size": "1024"}
    assert media_item_from_fields("gopro", fields).size_bytes == 1024


KNOWN_FIELDS = [
    "id",
    "filename",
    "file_extension",
    "type",
    "captured_at",
    "created_at",
    "file_size",
    "source_duration",
    "ready_to_view",
]


@given(
    st.dictionaries(
        st.one_of(st.sampled_from(KNOWN_FIELDS), st.text(max_size=8)),
        st.one_of(
            json_values,
            st.sampled_from(["2020-04-07T03:35:27Z", "abcDEF123", "120", "9" * 5000, 10**400]),
        ),
    )
)
def test_any_answer_gives_an_item_or_a_named_error(fields: dict[str, Any]) -> None:
    try:
        item = media_item_from_fields("gopro", fields)
    except MalformedMediaError as error:
        assert error.field in KNOWN_FIELDS
        assert error.field in str(error)
    else:
        assert item.media_id == fields["id"]
        assert item.filename


@given(st.integers(min_value=0, max_value=10**10))
def test_durations_are_milliseconds(milliseconds: int) -> None:
    fields = {**CONTRACT_EXAMPLE, "source_duration": str(milliseconds)}
    item = media_item_from_fields("gopro", fields)
    assert item.duration_seconds == pytest.approx(milliseconds / 1000)
