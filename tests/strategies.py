"""Hypothesis strategies for the domain's inputs, hostile ones included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from domain.model import MEDIA_ID_PATTERN, MediaItem
from domain.rules import DEFAULT_MEDIA_TYPES

KNOWN_TYPES = [
    "Photo",
    "Video",
    "TimeLapse",
    "TimeLapseVideo",
    "Burst",
    "BurstVideo",
    "Chaptered",
    "Livestream",
    "Looped",
    "LoopedVideo",
    "Continuous",
    "ExternalVideo",
    "Session",
    "MultiClipEdit",
    "Audio",
]
KNOWN_READINESS = [
    "ready",
    "failure",
    "loading",
    "registered",
    "transcoding",
    "processing",
    "uploading",
    "pretranscoding",
    "updating",
    "live",
]

media_ids = st.from_regex(MEDIA_ID_PATTERN, fullmatch=True)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)

instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31), timezones=offsets
)

# Every code point, lone surrogates and controls included: filenames come from outside.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)

hostile_filenames = st.one_of(
    any_text,
    st.sampled_from(
        [
            "",
            " ",
            ".",
            "..",
            "../../etc/passwd",
            "..\\..\\boot.ini",
            "a/../b.MP4",
            "GX010123.MP4\x00.exe",
            "\u202egnp.MP4",
            "~",
            "~GX010123.MP4",
            "x" * 2000 + ".MP4",
            "é" * 600 + ".MP4",
            "🎥" * 400,
            "GOPR0001.MP4",
            "PXL_20240101_120000.mp4",
        ]
    ),
    st.lists(st.sampled_from(["/", "\\", ".", "..", "~", "\x07", "a", "é", " "]), max_size=40).map(
        "".join
    ),
)

providers = st.sampled_from(["gopro", "drive", "x", "a-very-long-provider-name-012345"])


@st.composite
def media_items(
    draw: st.DrawFn,
    media_id: st.SearchStrategy[str] = media_ids,
    media_type: st.SearchStrategy[str | None] | None = None,
    readiness: st.SearchStrategy[str | None] | None = None,
    filename: st.SearchStrategy[str] = hostile_filenames,
) -> MediaItem:
    if media_type is None:
        media_type = st.one_of(st.sampled_from(KNOWN_TYPES), st.text(max_size=12), st.none())
    if readiness is None:
        readiness = st.one_of(st.sampled_from(KNOWN_READINESS), st.none())
    return MediaItem(
        provider=draw(providers),
        media_id=draw(media_id),
        filename=draw(filename),
        size_bytes=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=10**12))),
        uploaded_at=draw(instants),
        captured_at=draw(st.one_of(st.none(), instants)),
        duration_seconds=draw(st.one_of(st.none(), st.floats(0, 10**6))),
        media_type=draw(media_type),
        readiness=draw(readiness),
        camera_model=draw(st.one_of(st.none(), st.sampled_from(["HERO12 Black", "", "Max"]))),
    )


ready_videos = media_items(
    media_type=st.sampled_from(sorted(DEFAULT_MEDIA_TYPES)), readiness=st.just("ready")
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)

UTC_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
