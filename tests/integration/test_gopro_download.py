"""Resolving and streaming originals from the emulator, through every download fault knob."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.gopro.download import choose_originals
from adapters.gopro.errors import GoProProtocolError, UnsafeUrlError
from adapters.gopro.settings import GoProSettings
from adapters.gopro.source import GoProMediaSource
from domain.errors import TransferRejectedError, TransientSourceError
from domain.model import MediaItem
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import TransferPorts, TransferResult, transfer_video
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.server import GoProEmulator
from tests.fakes import (
    FixedClock,
    InMemoryObjectStore,
    InMemorySyncTracker,
    RecordingMetrics,
    RecordingNotifier,
)

WHEN = datetime(2024, 5, 17, 8, 30, tzinfo=UTC)


def add_video(emulator: GoProEmulator, media_id: str, size: int, **extra: object) -> MediaItem:
    media = EmulatedMedia(media_id, f"{media_id}.MP4", "MP4", "Video", WHEN, WHEN, size)
    for name, value in extra.items():
        setattr(media, name, value)
    emulator.add(media)
    return MediaItem(
        "gopro", media_id, media.filename, media.api_file_size, WHEN, WHEN, 1.0, media.type, "ready"
    )


def sha256(chunks: object) -> tuple[str, int]:
    digest, count = hashlib.sha256(), 0
    for chunk in chunks:  # type: ignore[attr-defined]
        digest.update(chunk)
        count += len(chunk)
    return digest.hexdigest(), count


def test_the_source_variation_is_streamed_not_a_proxy(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    item = add_video(emulator, "single1", 300_000)
    download = source.open_chapters(item)[0]
    assert download.expected_size == 300_000
    assert sha256(download.chunks()) == (emulator.original_sha256("single1"), 300_000)
    assert max(len(chunk) for chunk in download.chunks()) <= 64 * 1024  # a bounded buffer
    files = [r for r in emulator.requests if r.path.startswith("/files/")]
    # One HEAD for the served size (the listing's is only a hint), then the two reads
    assert [(r.method, r.path) for r in files] == [("HEAD", "/files/single1")] + [
        ("GET", "/files/single1")
    ] * 2
    assert not any(r.bearer or r.cookie for r in files)  # no token ever reaches a file URL


def test_a_photo_set_is_streamed_photo_by_photo_never_its_cover(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    item = add_video(emulator, "burst1", 5_000, type="Burst", photos=[2_000, 2_001, 2_002])
    item = replace(item, item_count=3)
    downloads = source.open_chapters(item)
    assert [sha256(d.chunks()) for d in downloads] == [
        (emulator.file_sha256(content, size), size)
        for content, size in emulator.original_files("burst1")
    ]
    assert len(downloads) == 3  # and not the one `source` cover of 5,000 bytes


def test_chaptered_media_is_served_chapter_by_chapter_never_as_the_concat(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    # Given three chapters, the second listed without item_number (its number is in the URL)
    item = add_video(
        emulator, "chapters1", 90_001, type="Chaptered", chapters=[30_001, 30_000, 30_000],
        unnumbered_chapters=(2,),
    )  # fmt: skip
    downloads = source.open_chapters(item)
    # Then each chapter is its own original, in order, sized by its HEAD
    assert [d.expected_size for d in downloads] == [30_001, 30_000, 30_000]
    for number, download in enumerate(downloads, start=1):
        content_id = f"chapters1-{number}"
        size = emulator.files[content_id].length
        assert sha256(download.chunks()) == (emulator.file_sha256(content_id, size), size)
    assert not [r for r in emulator.requests if r.path == "/files/chapters1"]  # no concat


def test_chapters_numbered_out_of_order_or_twice_are_refused_by_name() -> None:
    body = {
        "_embedded": {
            "variations": [
                {"label": "source", "item_number": 1, "url": "https://x/a", "head": "https://x/a"},
                {"label": "source", "item_number": 1, "url": "https://x/b", "head": "https://x/b"},
            ]
        }
    }
    with pytest.raises(GoProProtocolError, match=r"numbered \[1, 1\], not 1 to 2"):
        choose_originals(body, "twice1")
    body["_embedded"]["variations"][1].pop("item_number")
    with pytest.raises(GoProProtocolError, match="no item_number and no number in its URL"):
        choose_originals(body, "twice1")


def test_a_multi_clip_edit_is_served_from_its_baked_source_and_nothing_else_is() -> None:
    baked = {"label": "baked_source", "url": "https://x/r.mp4", "head": "https://x/h"}
    proxy = {"label": "high_res_proxy_mp4", "url": "https://x/p", "head": "https://x/p"}
    (original,) = choose_originals({"_embedded": {"variations": [proxy, baked]}}, "edit1")
    assert original.url == "https://x/r.mp4"
    with pytest.raises(TransferRejectedError, match="no source variation"):
        choose_originals({"_embedded": {"variations": [proxy]}}, "edit2")


def test_an_unknown_size_comes_from_head(emulator: GoProEmulator, source: GoProMediaSource) -> None:
    item = add_video(emulator, "processing1", 12_345, ready_to_view="transcoding")
    assert item.size_bytes is None
    assert source.open_chapters(item)[0].expected_size == 12_345


def test_a_dropped_connection_resumes_from_the_last_byte(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    item = add_video(emulator, "drop1", 1_000_000)
    emulator.faults.drop_after_bytes = 300_000
    digest = sha256(source.open_chapters(item)[0].chunks())
    assert digest == (emulator.original_sha256("drop1"), 1_000_000)
    ranges = [r.range for r in emulator.requests if r.path == "/files/drop1" and r.method == "GET"]
    assert ranges == [None, "bytes=300000-", "bytes=600000-", "bytes=900000-"]


def test_a_body_shorter_than_announced_gives_up_after_bounded_tries(
    emulator: GoProEmulator, source: GoProMediaSource, settings: GoProSettings
) -> None:
    item = add_video(emulator, "short1", 200_000)
    emulator.faults.short_body_bytes = 1_000
    with pytest.raises(TransientSourceError, match="stopped at byte 199000 of 200000") as caught:
        sha256(source.open_chapters(item)[0].chunks())
    assert "sig=" not in str(caught.value)
    tries = [r for r in emulator.requests if r.path == "/files/short1" and r.method == "GET"]
    assert len(tries) == settings.stream_attempts + 1


def test_an_expired_url_is_resolved_again(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    item = add_video(emulator, "expiry1", 50_000)
    emulator.faults.url_ttl_seconds = 1.5  # the URLs expire between HEAD and GET
    download = source.open_chapters(item)[0]
    time.sleep(2)
    assert sha256(download.chunks()) == (emulator.original_sha256("expiry1"), 50_000)
    resolutions = [r for r in emulator.requests if r.path == "/media/expiry1/download"]
    assert len(resolutions) == 2


def test_urls_that_keep_expiring_end_in_a_transient_error(
    emulator: GoProEmulator, source: GoProMediaSource, settings: GoProSettings
) -> None:
    item = add_video(emulator, "expiry2", 50_000)
    emulator.faults.url_ttl_seconds = -1
    with pytest.raises(TransientSourceError, match="kept expiring"):
        sha256(source.open_chapters(item)[0].chunks())
    resolutions = [r for r in emulator.requests if r.path == "/media/expiry2/download"]
    assert len(resolutions) == settings.url_refreshes + 1


def test_server_errors_on_the_file_are_retried(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    item = add_video(emulator, "flaky1", 100_000)
    download = source.open_chapters(item)[0]
    emulator.faults.server_errors_next = 2
    assert sha256(download.chunks()) == (emulator.original_sha256("flaky1"), 100_000)


def test_throughput_is_capped_when_asked(emulator: GoProEmulator, source: GoProMediaSource) -> None:
    item = add_video(emulator, "slow1", 200_000)
    emulator.faults.throughput_bytes_per_second = 1_000_000
    began = time.monotonic()
    assert sha256(source.open_chapters(item)[0].chunks())[1] == 200_000
    assert time.monotonic() - began >= 0.2  # pacing sleeps; a lower bound cannot flake


@pytest.mark.parametrize(
    "base",
    [
        "http://10.0.0.1:8080",
        "https://169.254.169.254",
        "http://cdn.example.com",
        "http://user:hunter2pw@cdn.example.com",
    ],
)
def test_download_urls_off_the_emulator_are_refused(
    emulator: GoProEmulator, source: GoProMediaSource, base: str
) -> None:
    item = add_video(emulator, "hostile1", 1_000)
    emulator.faults.url_base = base
    with pytest.raises(UnsafeUrlError) as caught:
        source.open_chapters(item)[0]
    assert "sig=" not in str(caught.value)
    assert "hunter2pw" not in str(caught.value)  # userinfo is masked like a signature
    assert not [r for r in emulator.requests if r.path.startswith("/files/")]


def test_unknown_media_is_refused(emulator: GoProEmulator, source: GoProMediaSource) -> None:
    item = MediaItem("gopro", "gone1", "x.MP4", 10, WHEN, WHEN, 1.0, "Video", "ready")
    with pytest.raises(TransferRejectedError, match="HTTP 404"):
        source.open_chapters(item)[0]


def test_a_listing_a_few_kb_off_is_archived_as_served_and_the_drift_recorded(
    emulator: GoProEmulator, source: GoProMediaSource, caplog: pytest.LogCaptureFixture
) -> None:
    # Given reprocessed media: the listing says 3,245 bytes more than GoPro serves
    add_video(emulator, "liar1", 80_000)
    emulator.faults.file_size_override["liar1"] = 83_245
    tracker, store = InMemorySyncTracker(), InMemoryObjectStore()
    ports = TransferPorts(
        source, tracker, store, RecordingMetrics(), RecordingNotifier(), FixedClock()
    )
    discover("gopro", source, tracker, ports.clock, SelectionPolicy())
    # When it is transferred
    with caplog.at_level(logging.WARNING, logger="cloudsync.transfer"):
        outcome = transfer_video("liar1", "w", ports)
    # Then the served bytes are archived, both sizes are on the record, the drift is told
    assert outcome.result is TransferResult.COMPLETED
    stored = store.objects[outcome.object_key or ""].data
    assert hashlib.sha256(stored).hexdigest() == emulator.original_sha256("liar1")
    record = tracker.records["liar1"]
    assert (record.item.size_bytes, record.stored_size) == (83_245, 80_000)
    (drift,) = [r for r in caplog.records if getattr(r, "event_type", "") == "gopro.size_mismatch"]
    assert drift.metadata["difference"] == 3_245  # type: ignore[attr-defined]


def test_a_length_that_changes_between_head_and_get_still_fails_and_stores_nothing(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    add_video(emulator, "liar2", 80_000)
    emulator.faults.head_size_override["liar2"] = 90_000
    tracker, store = InMemorySyncTracker(), InMemoryObjectStore()
    ports = TransferPorts(
        source, tracker, store, RecordingMetrics(), RecordingNotifier(), FixedClock()
    )
    discover("gopro", source, tracker, ports.clock, SelectionPolicy())
    outcome = transfer_video("liar2", "w", ports)
    assert outcome.result is TransferResult.FAILED
    # The GET serves another length than the HEAD said: another version, never spliced
    assert "changed while it was read (length 90000 -> 80000)" in (outcome.error or "")
    assert outcome.retryable
    assert store.objects == {}


def test_a_range_the_server_ignores_is_passed_over_not_failed(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    # Given a download that breaks, and a server that answers the resuming Range with a 200
    item = add_video(emulator, "whole1", 300_000)
    emulator.faults.drop_after_bytes, emulator.faults.drops_left = 100_000, 1
    emulator.faults.ignore_range_next = 1
    # Then the bytes still arrive once each, in order
    assert sha256(source.open_chapters(item)[0].chunks()) == (
        emulator.original_sha256("whole1"),
        300_000,
    )
    ranges = [r.range for r in emulator.requests if r.method == "GET" and r.path == "/files/whole1"]
    assert ranges == [None, "bytes=100000-"]


def test_a_whole_library_arrives_byte_for_byte(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    tracker, store, metrics = InMemorySyncTracker(), InMemoryObjectStore(), RecordingMetrics()
    ports = TransferPorts(source, tracker, store, metrics, RecordingNotifier(), FixedClock())
    plan = discover("gopro", source, tracker, ports.clock, SelectionPolicy())
    outcomes = [transfer_video(media_id, "w", ports) for media_id in plan.media_ids]
    assert {o.result for o in outcomes} == {TransferResult.COMPLETED}
    ready_videos = {
        m.id
        for m in emulator.media.values()
        if m.type not in ("Photo", "TimeLapse") and m.ready_to_view == "ready"
    }
    assert set(plan.media_ids) == ready_videos
    for media_id in ready_videos:
        record = tracker.records[media_id]
        assert record.status is SyncStatus.COMPLETED
        files = emulator.original_files(media_id)
        assert len(record.object_keys) == len(files)
        for key, (content_id, size) in zip(record.object_keys, files, strict=True):
            stored = store.objects[key]
            assert hashlib.sha256(stored.data).hexdigest() == emulator.file_sha256(content_id, size)
    archived = sum(len(emulator.original_files(m)) for m in ready_videos)
    assert len(store.objects) == archived
    chaptered = [tracker.records[m] for m in ready_videos if emulator.media[m].chapters]
    assert chaptered, "the library should hold chaptered media"
    for record in chaptered:  # named as the camera names chapters
        names = [key.rsplit("/", 1)[1] for key in record.object_keys]
        assert names[:3] in (
            ["GH010777.MP4", "GH020777.MP4", "GH030777.MP4"],
            [f"GH010777~{record.media_id}.MP4", f"GH020777~{record.media_id}.MP4",
             f"GH030777~{record.media_id}.MP4"],
        )  # fmt: skip


def test_a_long_retry_after_in_the_stream_ends_the_attempt_instead_of_waiting(
    emulator: GoProEmulator, source: GoProMediaSource, settings: GoProSettings
) -> None:
    # Given a CDN that asks the stream to come back in ten minutes
    item = add_video(emulator, "patience1", 50_000)
    download = source.open_chapters(item)[0]
    emulator.faults.retry_after_seconds = 600
    emulator.faults.too_many_requests_next = 1
    # Then the attempt ends at once, retryable, and nothing slept for it
    with pytest.raises(TransientSourceError, match="asked to wait 600s before the download"):
        sha256(download.chunks())
    assert all(wait <= settings.retry_max_wait for wait in settings.sleep.waits)  # type: ignore[attr-defined]
