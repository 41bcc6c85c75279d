"""Hostile answers, fuzzed with Hypothesis through the real GoPro adapter over HTTP: any
JSON value in any field of a listing item or a download answer, filenames of every Unicode
class and length, ids of both real shapes and malformed, sizes and times at every edge.

Nothing crashes a run; an item that cannot be read is skipped; what is archived holds the
source's bytes under `gopro-videos/` with a safe key; nothing stored is overwritten."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.gopro.http import api_headers
from adapters.gopro.source import GoProMediaSource
from domain.credentials import SessionCredentials
from domain.keys import KEY_LIMIT_BYTES
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import TransferPorts, TransferResult, transfer_video
from sandbox.gopro.content import content
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.server import GoProEmulator
from tests.fakes import (
    FixedClock,
    InMemoryObjectStore,
    InMemorySyncTracker,
    RecordingMetrics,
    RecordingNotifier,
    StoredBytes,
)

WHEN = datetime(2024, 5, 17, 8, 30, tzinfo=UTC)
TARGET, SIZE = "fuzztarget001", 3_000
"""An unlisted video the emulator serves; hostile listing items of its id stand for it."""
KEPT = "gopro-videos/2024/05/GX010001.MP4"
"""An object archived before, of another video, at the key the target would like."""

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NAMES = [
    "", ".", "..", "../../etc/passwd", "a/../../b.MP4", "/abs.MP4", "\\win\\x.MP4",
    "~", "GX010001~other.MP4", "...", " .MP4", "x" * 70_000 + ".MP4", "clip\ud800.MP4",
    "\u202egnp.MP4", "NUL\x00.MP4", "a\nb.MP4", "GX010001.MP4",
]  # fmt: skip
TIMES = [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "2024-02-30T00:00:00Z", "2024-05-17", "yesterday", "",
    "2024-05-17T08:30:00", "1970-01-01T00:00:00Z",
]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
filenames = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, categories=["Cc", "Cf", "Cs", "Zl", "Zp", "Mn", "So"])),
    st.text(min_size=200, max_size=2_000),
    st.sampled_from(NAMES),
)
times = st.one_of(
    st.sampled_from(TIMES),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    json_values,
)
sizes = st.one_of(
    st.sampled_from([0, -1, 1, SIZE, SIZE + 1, 2**53, 2**53 + 1, 2**63, 10**40, "3000", 1.5]),
    json_values,
)
ids = st.one_of(
    st.from_regex(r"\A[0-9A-Za-z]{13}\Z"),
    st.from_regex(r"\A[0-9a-f]{24}\Z"),
    st.text(max_size=30),
    json_values,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's usual value or, now and then, anything at all."""
    return st.one_of(strategy, strategy, json_values)


def item(identity: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": identity,
            "filename": maybe(filenames),
            "file_extension": maybe(st.sampled_from(["MP4", "mp4", "", "JPG"])),
            "type": maybe(st.sampled_from(["Video", "Chaptered", "Photo", "", "Burst"])),
            "captured_at": maybe(times),
            "created_at": maybe(times),
            "file_size": maybe(sizes),
            "source_duration": maybe(st.sampled_from(["1000", "1e300", "-5", "NaN", ""])),
            "ready_to_view": maybe(st.sampled_from(["ready", "transcoding", "failure"])),
        },
        optional={"extra": json_values},
    )


class Archive:
    """The tracker and store of one example, with an object of another video already kept."""

    def __init__(self, source: GoProMediaSource) -> None:
        self.tracker = InMemorySyncTracker()
        self.store = InMemoryObjectStore(part_size=1_024)
        self.store.objects[KEPT] = StoredBytes(b"kept bytes", "othervideo01")
        self.metrics = RecordingMetrics()
        self.ports = TransferPorts(
            source, self.tracker, self.store, self.metrics, RecordingNotifier(), FixedClock()
        )

    def check(self) -> None:
        """Nothing outside the archive's prefix, nothing unsafe, nothing overwritten."""
        assert self.store.objects[KEPT] == StoredBytes(b"kept bytes", "othervideo01")
        for key, stored in self.store.objects.items():
            assert key.startswith("gopro-videos/"), key
            assert len(key.encode("utf-8")) <= KEY_LIMIT_BYTES
            segments = key.split("/")
            assert all(s not in ("", ".", "..") for s in segments), key
            assert all(ord(c) >= 0x20 and not 0xD800 <= ord(c) <= 0xDFFF for c in key), key
            if stored.owner == TARGET:
                assert stored.data == content(TARGET, 0, SIZE)
        for record in self.tracker.records.values():
            assert len(record.item.filename) <= 1_024
            assert record.status is not SyncStatus.IN_PROGRESS
            if record.status is SyncStatus.FAILED:
                assert record.error


def reset(emulator: GoProEmulator) -> None:
    emulator.faults.raw_listing_items = []
    emulator.faults.raw_download_answers = {}
    if TARGET not in emulator.media:
        emulator.add(EmulatedMedia(TARGET, "GX010001.MP4", "MP4", "Video", WHEN, WHEN, SIZE))
    emulator.faults.unlisted = {TARGET}


def sync(archive: Archive, source: GoProMediaSource) -> tuple[str, ...]:
    """One night for the target: discovery, then its transfer if chosen; nothing raises."""
    plan = discover("gopro", source, archive.tracker, archive.ports.clock, SelectionPolicy())
    if TARGET in plan.media_ids:
        outcome = transfer_video(TARGET, "w1", archive.ports)
        assert outcome.result is not TransferResult.BUSY
    return plan.media_ids


@FUZZ
@given(hostile=st.lists(item(ids), max_size=4))
def test_any_listing_item_is_read_or_skipped_and_the_library_goes_on(
    emulator: GoProEmulator, source: GoProMediaSource, hostile: list[dict[str, Any]]
) -> None:
    reset(emulator)
    ordinary = discover("gopro", source, InMemorySyncTracker(), FixedClock(), SelectionPolicy())
    emulator.faults.raw_listing_items = list(hostile)
    archive = Archive(source)
    chosen = discover("gopro", source, archive.tracker, archive.ports.clock, SelectionPolicy())
    assert set(ordinary.media_ids) <= set(chosen.media_ids)
    archive.check()


served_item = st.fixed_dictionaries(
    {
        "id": st.just(TARGET),
        "filename": filenames,
        "file_extension": st.sampled_from(["MP4", "mp4", ""]),
        "type": st.sampled_from(["Video", "Video", "Chaptered"]),
        "captured_at": st.one_of(
            st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
            st.sampled_from(TIMES),
            times,
        ),
        "created_at": st.one_of(st.just("2024-05-02T10:00:00Z"), st.sampled_from(TIMES)),
        "file_size": st.sampled_from([SIZE, SIZE, SIZE, 0, SIZE + 1, 2**53, None, "3000"]),
        "source_duration": st.sampled_from(["1000", "1000", "1000", "1e300"]),
        "ready_to_view": st.just("ready"),
    }
)
"""A video the emulator serves, whose listing is hostile in the fields that place it."""


@FUZZ
@given(hostile=served_item)
def test_any_metadata_of_a_served_video_archives_it_safely_or_skips_it(
    emulator: GoProEmulator, source: GoProMediaSource, hostile: dict[str, Any]
) -> None:
    reset(emulator)
    emulator.faults.raw_listing_items = [hostile]
    archive = Archive(source)
    chosen = sync(archive, source)
    archive.check()
    record = archive.tracker.get(TARGET)
    event(f"target: {record.status.value if record else 'skipped'}")
    if TARGET in chosen:
        assert record is not None
        assert record.status in (SyncStatus.COMPLETED, SyncStatus.FAILED)
    if record is not None and record.status is SyncStatus.COMPLETED:
        assert record.object_key is not None
        assert record.object_key != KEPT
        assert archive.store.objects[record.object_key].data == content(TARGET, 0, SIZE)


URLS = [
    "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "ftp://x/y", "",
    "https://user:secret@127.0.0.1:1/x", "https://[::1]/x", "javascript:alert(1)", "//x",
    "https://10.0.0.1/x.mp4", "not a url", "https://localhost/x",
]  # fmt: skip
hostile_urls = st.sampled_from(URLS)


def mutated(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """`value` with some of its parts replaced by anything, hostile URLs, or dropped."""
    choice = data.draw(st.integers(min_value=0, max_value=30))
    if choice == 0:
        return data.draw(json_values)
    if choice == 1 and isinstance(value, str):
        return data.draw(hostile_urls)
    if isinstance(value, dict):
        return {
            k: mutated(v, data, depth + 1)
            for k, v in value.items()
            if data.draw(st.integers(min_value=0, max_value=30)) != 0
        }
    if isinstance(value, list):
        return [mutated(v, data, depth + 1) for v in value]
    return value


def real_answer(emulator: GoProEmulator, source: GoProMediaSource) -> Any:
    credentials = SessionCredentials(emulator.session_token, emulator.user_id)
    answer = httpx.get(
        f"{emulator.base_url}/media/{TARGET}/download", headers=api_headers(credentials)
    )
    assert answer.status_code == 200
    return answer.json()


@FUZZ
@given(data=st.data())
def test_any_download_answer_archives_the_true_bytes_or_fails_with_a_reason(
    emulator: GoProEmulator, source: GoProMediaSource, data: st.DataObject
) -> None:
    reset(emulator)
    emulator.faults.unlisted = set()
    answer = mutated(copy.deepcopy(real_answer(emulator, source)), data)
    emulator.faults.raw_download_answers = {TARGET: answer}
    archive = Archive(source)
    chosen = sync(archive, source)
    assert TARGET in chosen
    archive.check()
    record = archive.tracker.get(TARGET)
    assert record is not None
    event(f"target: {record.status.value}")
    assert record.status in (SyncStatus.COMPLETED, SyncStatus.FAILED)
    if record.status is SyncStatus.COMPLETED:
        assert archive.store.objects[record.object_key or ""].data == content(TARGET, 0, SIZE)
    else:
        assert archive.metrics.failed
