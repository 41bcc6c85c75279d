"""The origin check: what an ETag says, which part sizes it allows, and that the MD5s of the
bytes give it (or not), whole or carried across pauses."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.etag_review import review_etags
from domain.origin import (
    MB,
    MIB,
    OriginCheck,
    OriginPolicy,
    OriginStatus,
    OriginTag,
    candidate_part_sizes,
    parse_etag,
)
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import TransferResult, transfer_video
from tests.fakes import FakeVideo as Video
from tests.fakes import (
    InMemoryEtagVerdicts,
    InMemoryObjectStore,
    RecordingNotifier,
    World,
    content_for,
    make_item,
)


def s3_etag(data: bytes, part_size: int | None) -> str:
    """The ETag S3 gives `data` uploaded whole, or in parts of `part_size`."""
    if part_size is None:
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    digests = b"".join(
        hashlib.md5(data[i : i + part_size], usedforsecurity=False).digest()
        for i in range(0, len(data), part_size)
    )
    count = -(-len(data) // part_size)
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{count}"


@pytest.mark.parametrize(
    ("raw", "meaning"),
    [
        ('"9e107d9d372bb6826bd81d3542a419d6"', OriginTag("9e107d9d372bb6826bd81d3542a419d6", None)),
        ("9E107D9D372BB6826BD81D3542A419D6-12", OriginTag("9e107d9d372bb6826bd81d3542a419d6", 12)),
        (None, "no ETag"),
        ('W/"9e107d9d372bb6826bd81d3542a419d6"', "weak"),
        ('"abc"', "unknown form"),
        ('"9e107d9d372bb6826bd81d3542a419d6-0"', "unknown form"),
    ],
)  # fmt: skip
def test_an_etag_says_a_plain_or_a_multipart_md5_or_why_it_cannot(
    raw: str | None, meaning: OriginTag | str
) -> None:
    found = parse_etag(raw)
    if isinstance(meaning, str):
        assert isinstance(found, str)
        assert meaning in found
    else:
        assert found == meaning


def test_the_part_sizes_are_the_round_ones_that_give_n_parts_usual_first() -> None:
    # 121 MiB in 16 parts fits both 8 MiB and 8 MB (120 MiB is 15 parts of 8 MiB exactly)
    sizes = candidate_part_sizes(121 * MIB, 16)
    assert sizes[:2] == [8 * MIB, 8 * MB]
    assert 8 * MIB not in candidate_part_sizes(120 * MIB, 16)
    for size in sizes:
        assert -(-121 * MIB // size) == 16
        assert size >= 5 * MIB
        assert size % MIB == 0 or size % MB == 0
    assert candidate_part_sizes(4 * MIB, 2) == []  # below S3's 5 MiB minimum part
    assert candidate_part_sizes(1234, 1) == [1234]


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(min_value=5 * MIB + 1, max_value=80 * MIB),
    parts=st.integers(min_value=2, max_value=16),
)
def test_every_round_size_that_gives_n_parts_is_a_candidate(length: int, parts: int) -> None:
    found = set(candidate_part_sizes(length, parts))
    for unit in (MIB, MB):
        for k in range(1, length // unit + 2):
            size = k * unit
            fits = size >= 5 * MIB and -(-length // size) == parts
            assert (size in found) == fits, size


def feed(check: OriginCheck, data: bytes, start: int = 0, chunk: int = 1 << 20) -> None:
    for at in range(start, len(data), chunk):
        check.feed(at, data[at : at + chunk])


@pytest.mark.parametrize("part_size", [None, 5 * MIB, 6 * MB])
def test_the_bytes_that_gave_the_etag_match_it_and_one_flipped_byte_does_not(
    part_size: int | None,
) -> None:
    data = content_for("o1", 17 * MIB + 3)
    etag = s3_etag(data, part_size)
    check = OriginCheck(f'"{etag}"', len(data), max_candidates=8)
    feed(check, data)
    result = check.result()
    assert result.status is OriginStatus.MATCHED, result
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 1
    check = OriginCheck(etag, len(data), max_candidates=8)
    feed(check, bytes(damaged))
    assert check.result().status is OriginStatus.MISMATCH


def test_the_usual_part_sizes_are_tried_first_and_an_untried_one_is_no_mismatch() -> None:
    data = content_for("o2", 11 * MIB)  # two parts: 6 to 10 MiB and 6 to 11 MB all fit
    check = OriginCheck(s3_etag(data, 8 * MIB), len(data), max_candidates=2)
    feed(check, data)
    assert check.result().status is OriginStatus.MATCHED  # 8 MiB is tried first
    check = OriginCheck(s3_etag(data, 9 * MIB), len(data), max_candidates=2)
    feed(check, data)
    result = check.result()
    assert result.status is OriginStatus.UNAVAILABLE  # 9 MiB fits, and was not tried
    assert result.detail.startswith("none of the part sizes tried (8 MiB, 10 MiB)")
    assert result.detail.endswith("more fit")


@settings(max_examples=12, deadline=None)
@given(
    part=st.sampled_from([5 * MIB, 6 * MIB, 6 * MB, 8 * MIB]),
    extra=st.integers(min_value=1, max_value=3 * MIB),
    pauses=st.lists(st.integers(min_value=1, max_value=30 * MIB), max_size=4),
)
def test_a_check_carried_across_pauses_gives_the_uninterrupted_verdict(
    part: int, extra: int, pauses: list[int]
) -> None:
    data = content_for("o3", 2 * part + extra)
    etag = s3_etag(data, part)
    offsets = sorted({p for p in pauses if p < len(data)})
    check = OriginCheck(etag, len(data), max_candidates=8)
    for offset in offsets:
        feed(check, data[:offset], check.resume_from or 0)
        progress = check.progress(offset)
        assert progress.unavailable is None
        check = OriginCheck(etag, len(data), progress=progress, offset=offset, max_candidates=8)
        # What is read again is at most one part of the largest candidate
        assert check.resume_from is not None
        assert offset - check.resume_from < max(candidate_part_sizes(len(data), 3))
    feed(check, data, check.resume_from or 0)
    assert check.result().status is OriginStatus.MATCHED


def test_a_paused_plain_md5_is_unavailable_and_says_why() -> None:
    data = content_for("o4", 300_000)
    check = OriginCheck(s3_etag(data, None), len(data))
    feed(check, data[:100_000])
    progress = check.progress(100_000)
    resumed = OriginCheck(s3_etag(data, None), len(data), progress=progress, offset=100_000)
    assert resumed.resume_from is None  # nothing to read again
    feed(resumed, data, 100_000)
    result = resumed.result()
    assert result.status is OriginStatus.UNAVAILABLE
    assert "cannot be carried across invocations" in result.detail


def origin_world(*videos: Video) -> World:
    world = World(store=InMemoryObjectStore(part_size=100_000))
    for video in videos:
        world.source.add(video)
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    return world


def test_a_file_whose_bytes_do_not_give_its_etag_is_refused_and_nothing_is_stored() -> None:
    data = content_for("v1", 250_000)
    world = origin_world(Video(make_item("v1", size=len(data)), data, etag="0" * 32))
    outcome = transfer_video("v1", "w1", world.ports())
    assert outcome.result is TransferResult.FAILED
    assert outcome.error is not None
    assert outcome.error.startswith("verification failed: origin: the bytes served do not")
    assert world.store.objects == {}
    assert world.store.open_uploads() == []
    (alert,) = world.notifier.alerts
    assert "failed verification" in alert[0]
    # Turned off, the same file is archived with its size and CRC32 checked
    off = transfer_video("v1", "w2", world.ports(), origin=OriginPolicy(enabled=False))
    assert off.result is TransferResult.COMPLETED
    assert world.tracker.records["v1"].origin is None


def test_each_file_records_its_origin_check() -> None:
    data = content_for("v2", 250_000)
    chaptered = Video(make_item("v3", size=600, media_type="Chaptered"), content_for("v3", 600))
    world = origin_world(
        Video(make_item("v2", size=len(data)), data, etag=s3_etag(data, None)),
        replace(chaptered, chapters=(300, 300)),
    )
    assert transfer_video("v2", "w1", world.ports()).result is TransferResult.COMPLETED
    assert transfer_video("v3", "w1", world.ports()).result is TransferResult.COMPLETED
    single = world.tracker.records["v2"].origin
    assert single is not None
    assert single.startswith("matched (ETag ")
    chapters = world.tracker.records["v3"].chapters
    assert [c.origin is not None and c.origin.startswith("matched") for c in chapters] == [
        True,
        True,
    ]


def test_several_mismatches_and_no_match_judge_the_etags_and_then_archive_unavailable() -> None:
    verdicts, notifier = InMemoryEtagVerdicts(), RecordingNotifier()
    # Two refused and none matched: not yet a judgement
    assert review_etags("gopro", 0, 2, verdicts, notifier) is None
    # Three: one alert, and the judgement kept
    decided = review_etags("gopro", 0, 3, verdicts, notifier)
    assert decided == "distrusted: 3 mismatches and no match in one run"
    (alert,) = notifier.alerts
    assert alert[0] == "cloud-sync: gopro's ETags no longer describe the bytes it serves"
    assert review_etags("gopro", 0, 5, verdicts, notifier) is None  # judged once
    assert len(notifier.alerts) == 1
    # A file then refused before is archived, recorded unavailable
    data = content_for("v4", 120_000)
    world = origin_world(Video(make_item("v4", size=len(data)), data, etag="1" * 32))
    world.verdicts.verdicts.update(verdicts.verdicts)
    assert transfer_video("v4", "w1", world.ports()).result is TransferResult.COMPLETED
    record = world.tracker.records["v4"]
    assert record.status is SyncStatus.COMPLETED
    assert record.origin is not None
    assert record.origin.startswith("unavailable (gopro's ETags are judged not to be content")
    # A match trusts them again
    assert review_etags("gopro", 1, 0, verdicts, notifier) == "trusted again: 1 files matched"
    assert verdicts.distrusted("gopro") is None
