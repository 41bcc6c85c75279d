"""Listing the emulated library through GoProMediaSource, with the listing's fault knobs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from adapters.gopro.errors import GoProProtocolError
from adapters.gopro.settings import MEDIA_ACCEPT
from adapters.gopro.source import GoProMediaSource
from domain.errors import TransientSourceError
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.server import GoProEmulator
from tests.integration.conftest import Sleeps


def test_every_item_is_listed_across_pages_and_mapped(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    items = list(source.list_media())
    assert sorted(item.media_id for item in items) == sorted(emulator.media)
    pages = [r for r in emulator.requests if r.path == "/media/search"]
    assert len(pages) == source.report.pages == -(-len(emulator.media) // 10)
    assert all(r.bearer and r.cookie for r in pages)
    by_id = {item.media_id: item for item in items}
    for media in emulator.media.values():
        item = by_id[media.id]
        assert item.media_type == media.type
        assert item.readiness == media.ready_to_view
        assert item.size_bytes == media.api_file_size
        assert item.captured_at == media.captured_at.replace(microsecond=0)
        # an edit's listing names its project (json); its render is what is archived
        extension = "mp4" if media.file_extension == "json" else media.file_extension
        assert item.filename == (media.filename or f"{media.id}.{extension}")
    assert source.report.malformed == 0


def test_the_awkward_cases_of_the_contract_are_in_the_library(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    items = list(source.list_media())
    kinds = {item.media_type for item in items}
    assert {"Video", "Photo", "Chaptered", "MultiClipEdit", "Edit", "TimeLapse"} <= kinds
    assert any(len(item.media_id) == 24 for item in items)
    assert any(item.size_bytes is None and item.readiness == "transcoding" for item in items)
    assert any(not media.filename for media in emulator.media.values())
    assert any("ü" in item.filename for item in items)
    assert any(item.filename.startswith("PXL_") for item in items)
    same = [i for i in items if i.filename == "GX010123.MP4" and i.captured_at is not None]
    months = [(i.captured_at.year, i.captured_at.month) for i in same if i.captured_at]
    assert len(months) > len(set(months)) > 1  # repeats within a month and across months


def test_a_malformed_item_is_skipped_counted_and_named(
    emulator: GoProEmulator, source: GoProMediaSource, caplog: pytest.LogCaptureFixture
) -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    emulator.add(EmulatedMedia("../escape", "x.MP4", "MP4", "Video", when, when, 10))
    items = list(source.list_media())
    assert len(items) == len(emulator.media) - 1
    assert source.report.malformed == 1
    assert "'id'" in source.report.reasons[0]
    (logged,) = [r for r in caplog.records if getattr(r, "event_type", "") == "gopro.listing"]
    assert logged.levelname == "WARNING"
    assert logged.metadata["malformed"] == 1  # type: ignore[attr-defined]


def test_errors_in_the_answer_stop_the_listing_with_a_clear_reason(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    emulator.faults.listing_errors = [{"code": 500, "message": "search backend down"}]
    with pytest.raises(GoProProtocolError, match="search backend down"):
        list(source.list_media())


def test_a_short_page_is_asked_for_again(emulator: GoProEmulator, source: GoProMediaSource) -> None:
    emulator.faults.short_pages_next = 1
    items = list(source.list_media())
    assert sorted(item.media_id for item in items) == sorted(emulator.media)
    assert source.report.short_pages == 1


def test_a_server_that_pages_smaller_than_asked_is_followed(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    emulator.faults.max_per_page = 4
    items = list(source.list_media())
    assert sorted(item.media_id for item in items) == sorted(emulator.media)
    assert source.report.short_pages == 0


def test_server_errors_are_retried_with_backoff(
    emulator: GoProEmulator, source: GoProMediaSource, sleeps: Sleeps
) -> None:
    emulator.faults.server_errors_next = 3
    assert len(list(source.list_media())) == len(emulator.media)
    assert sleeps.waits[:3] == [1.0, 2.0, 4.0]


def test_a_random_share_of_server_errors_is_survived(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    emulator.faults.server_error_rate = 0.3
    assert len(list(source.list_media())) == len(emulator.media)
    assert any(r.path == "/media/search" for r in emulator.requests)


def test_persistent_server_errors_end_in_a_transient_error(
    emulator: GoProEmulator, source: GoProMediaSource, sleeps: Sleeps
) -> None:
    emulator.faults.server_errors_next = 100
    with pytest.raises(TransientSourceError, match="HTTP 503 4 times") as caught:
        list(source.list_media())
    assert "?" not in str(caught.value)  # no query string in the message
    assert len(sleeps.waits) == 3


def test_too_many_requests_waits_as_told(
    emulator: GoProEmulator, source: GoProMediaSource, sleeps: Sleeps
) -> None:
    emulator.faults.too_many_requests_next = 2
    emulator.faults.retry_after_seconds = 7
    assert len(list(source.list_media())) == len(emulator.media)
    assert sleeps.waits == [7.0, 7.0]


def test_a_retry_after_beyond_the_limit_ends_the_call(
    emulator: GoProEmulator, source: GoProMediaSource, sleeps: Sleeps
) -> None:
    emulator.faults.too_many_requests_next = 1
    emulator.faults.retry_after_seconds = 3600
    with pytest.raises(TransientSourceError, match="asked to wait 3600s"):
        list(source.list_media())
    assert sleeps.waits == []


def test_media_calls_without_the_gopro_media_type_are_refused(emulator: GoProEmulator) -> None:
    token = {"Authorization": f"Bearer {emulator.session_token}"}
    plain = httpx.get(f"{emulator.base_url}/media/user", headers=token)
    assert plain.status_code == 406
    proper = httpx.get(f"{emulator.base_url}/media/user", headers={**token, "Accept": MEDIA_ACCEPT})
    assert proper.status_code == 200


def test_a_listing_that_never_ends_stops_at_the_first_page_of_nothing_new(
    emulator: GoProEmulator, source: GoProMediaSource, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server that answers every page with page 1's items and a million pages
    emulator.faults.endless_listing = True
    with caplog.at_level(logging.WARNING, logger="cloudsync.gopro"):
        items = list(source.list_media())
    # Then the listing ends on the second page, with each item once, and says why
    searches = [r for r in emulator.requests if r.path == "/media/search"]
    assert len(searches) == 2
    assert len(items) == len({i.media_id for i in items}) > 0
    assert source.report.stalled_at_page == 2
    assert source.report.repeated == len(items)
    (event,) = [r for r in caplog.records if getattr(r, "event_type", "") == "gopro.listing"]
    assert event.levelno == logging.WARNING


def test_items_repeated_across_pages_are_listed_once(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    listed = [item.media_id for item in source.list_media()]
    assert len(listed) == len(set(listed)) == len(emulator.media)
