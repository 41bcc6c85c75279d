"""Chaptered recordings: each chapter its own object, named as the camera names it, stored
once across pauses, crashes and retries; the video COMPLETED only with every chapter."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.keys import FILENAME_LIMIT_BYTES, candidate_keys, chapter_filename
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import TransferResult, transfer_video
from tests.fakes import FakeVideo, InMemoryObjectStore, World, content_for, make_item
from tests.strategies import hostile_filenames


def chaptered_world(
    sizes: tuple[int, ...], part_size: int = 1_000, name: str = "GX010042.MP4"
) -> World:
    world = World(store=InMemoryObjectStore(part_size=part_size))
    item = replace(make_item("rec1", size=sum(sizes), media_type="Chaptered"), filename=name)
    world.source.add(FakeVideo(item, content_for("rec1", sum(sizes)), chapters=sizes))
    discover("gopro", world.source, world.tracker, world.clock, SelectionPolicy())
    return world


def chapter_data(sizes: tuple[int, ...]) -> list[bytes]:
    data, found, start = content_for("rec1", sum(sizes)), [], 0
    for size in sizes:
        found.append(data[start : start + size])
        start += size
    return found


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("GX010123.MP4", ["GX010123.MP4", "GX020123.MP4", "GX030123.MP4"]),
        ("GH010777.MP4", ["GH010777.MP4", "GH020777.MP4", "GH030777.MP4"]),
        ("gx010001.mp4", ["gx010001.mp4", "gx020001.mp4", "gx030001.mp4"]),
        ("GOPR0123.MP4", ["GOPR0123.MP4", "GP010123.MP4", "GP020123.MP4"]),
        ("Skitour.mp4", ["Skitour.mp4", "Skitour_ch02.mp4", "Skitour_ch03.mp4"]),
        ("noext", ["noext", "noext_ch02", "noext_ch03"]),
    ],
)
def test_chapters_are_named_as_the_camera_names_them(filename: str, expected: list[str]) -> None:
    assert [chapter_filename(filename, n) for n in (1, 2, 3)] == expected


@given(st.text(min_size=1, max_size=40), st.integers(min_value=2, max_value=99))
def test_later_chapters_sort_after_the_first_and_never_equal_it(name: str, number: int) -> None:
    first, later = chapter_filename(name, 1), chapter_filename(name, number)
    assert later != first
    assert chapter_filename(name, number) == later  # stable


# Names of every script and length: long CJK, emoji, combining marks, the camera's own.
_names = st.one_of(
    hostile_filenames,
    st.builds(
        lambda char, count, extension: char * count + extension,
        st.sampled_from(["滑", "é", "🎿", "a", "ש", "e\u0301", " ", "."]),
        st.integers(min_value=1, max_value=300),
        st.sampled_from(["", ".MP4", ".mp4", ".360", ".LRV"]),
    ),
    st.from_regex(r"G[XHxh]01[0-9]{4}\.MP4|GOPR[0-9]{4}\.MP4", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(name=_names, count=st.integers(min_value=2, max_value=120))
def test_n_chapters_always_get_n_distinct_keys(name: str, count: int) -> None:
    item = replace(make_item("rec1", media_type="Chaptered"), filename=name)
    keys = [candidate_keys(item, number) for number in range(1, count + 1)]
    for plain, disambiguated in keys:
        for key in (plain, disambiguated):
            assert len(key.rsplit("/", 1)[1].encode("utf-8")) <= FILENAME_LIMIT_BYTES
    assert len({plain for plain, _ in keys}) == count
    assert len({disambiguated for _, disambiguated in keys}) == count
    assert keys[0] == candidate_keys(item, 1) == candidate_keys(item)  # chapter 1: the video's


def test_a_chaptered_recording_with_a_long_cjk_name_archives_every_chapter() -> None:
    sizes = (300, 200, 101)
    name = "北アルプス縦走" * 13 + ".MP4"  # 91 characters, 273 bytes: cut to 255
    world = chaptered_world(sizes, name=name)
    outcome = transfer_video("rec1", "w1", world.ports())
    assert outcome.result is TransferResult.COMPLETED, outcome.error
    record = world.tracker.records["rec1"]
    assert len(set(record.object_keys)) == 3
    assert record.object_keys[1].endswith("_ch02.MP4")
    for key, data in zip(record.object_keys, chapter_data(sizes), strict=True):
        assert world.store.objects[key].data == data


def test_every_chapter_is_its_own_object_and_the_record_lists_them() -> None:
    sizes = (300, 200, 101)
    world = chaptered_world(sizes)
    outcome = transfer_video("rec1", "w1", world.ports())
    assert outcome.result is TransferResult.COMPLETED
    record = world.tracker.records["rec1"]
    assert record.status is SyncStatus.COMPLETED
    assert [c.number for c in record.chapters] == [1, 2, 3]
    assert [k.rsplit("/", 1)[1] for k in record.object_keys] == [
        "GX010042.MP4", "GX020042.MP4", "GX030042.MP4",
    ]  # fmt: skip
    for key, data in zip(record.object_keys, chapter_data(sizes), strict=True):
        assert world.store.objects[key].data == data
    assert len(world.store.objects) == 3
    assert (record.object_key, record.stored_size) == (record.object_keys[0], sum(sizes))
    assert outcome.size_bytes == sum(sizes)


def test_a_failed_chapter_keeps_the_finished_ones_and_the_retry_never_sends_them_again() -> None:
    sizes = (300, 200, 101)
    world = chaptered_world(sizes)
    video = world.source.videos["rec1"]
    # Given chapter 2 breaks off (a body shorter than announced) on the first attempt
    broken = video.files()
    broken[1].cut_after = 50
    world.source.videos["rec1"] = _Files(video, broken)
    first = transfer_video("rec1", "w1", world.ports())
    assert first.result is TransferResult.FAILED
    record = world.tracker.records["rec1"]
    assert record.status is SyncStatus.FAILED
    assert [c.number for c in record.chapters] == [1]
    # When it is tried again with the source whole
    world.source.videos["rec1"] = video
    served_before = world.source.bytes_served
    second = transfer_video("rec1", "w2", world.ports())
    # Then only chapters 2 and 3 are read, and all three are archived once
    assert second.result is TransferResult.COMPLETED
    assert world.source.bytes_served - served_before == 200 + 101
    record = world.tracker.records["rec1"]
    assert len(record.object_keys) == 3
    for key, data in zip(record.object_keys, chapter_data(sizes), strict=True):
        assert world.store.objects[key].data == data


def test_a_pause_between_chapters_goes_on_with_the_next_chapter() -> None:
    sizes = (300, 200, 101)
    world = chaptered_world(sizes, part_size=10_000)
    first = transfer_video("rec1", "w1", world.ports(), should_pause=lambda: True)
    assert first.result is TransferResult.PAUSED
    assert first.offset is None  # between files, not inside one
    record = world.tracker.records["rec1"]
    assert (record.status, len(record.chapters), record.checkpoint) == (
        SyncStatus.IN_PROGRESS, 1, None,
    )  # fmt: skip
    served = world.source.bytes_served
    assert transfer_video("rec1", "w1", world.ports()).result is TransferResult.COMPLETED
    assert world.source.bytes_served - served == 200 + 101


class _Files(FakeVideo):
    """A video whose files are given, so one chapter can be broken."""

    def __init__(self, video: FakeVideo, files: list[FakeVideo]) -> None:
        super().__init__(video.item, video.data, chapters=video.chapters)
        self._files = files

    def files(self) -> list[FakeVideo]:
        return self._files


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=5).map(tuple),
    part_size=st.integers(min_value=16, max_value=256),
    pauses=st.lists(st.booleans(), max_size=60),
)
def test_pauses_anywhere_resume_at_the_chapter_and_part_and_read_each_byte_once(
    sizes: tuple[int, ...], part_size: int, pauses: list[bool]
) -> None:
    world = chaptered_world(sizes, part_size)
    answers = iter(pauses)
    paused_in_a_file = 0
    for _ in range(len(pauses) + len(sizes) + 2):
        outcome = transfer_video(
            "rec1", "w1", world.ports(), should_pause=lambda: next(answers, False)
        )
        if outcome.result is not TransferResult.PAUSED:
            break
        paused_in_a_file += outcome.offset is not None
    assert outcome.result is TransferResult.COMPLETED
    record = world.tracker.records["rec1"]
    files = chapter_data(sizes) if len(sizes) > 1 else [content_for("rec1", sum(sizes))]
    assert len(record.object_keys) == len(files) == len(world.store.objects)
    for key, data in zip(record.object_keys, files, strict=True):
        assert world.store.objects[key].data == data
    # A pause inside a file re-reads at most the chunk read past its last part; a finished
    # chapter is never read again
    slack = paused_in_a_file * world.source.chunk_size
    assert sum(sizes) <= world.source.bytes_served <= sum(sizes) + slack
    assert record.retry_count == 0
