"""Safe to let go: the verdict and each item's standing, from the listing, the records, the
audit's faults and the storage classes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.audit import Discrepancy, Finding
from domain.letgo import Standing, let_go_report
from domain.model import Checksum, StoredChapter, SyncRecord
from domain.rules import SelectionPolicy
from domain.status import SyncStatus
from tests.fakes import EPOCH, make_item

CRC = Checksum("CRC32", "AAAAAA==")
DEEP = timedelta(days=14)


def archived(media_id: str, origin: str | None = "matched (ETag abc)") -> SyncRecord:
    return replace(
        SyncRecord.discovered(make_item(media_id), EPOCH), status=SyncStatus.COMPLETED,
        version=4, object_key=f"gopro-videos/2026/01/{media_id}.MP4", stored_size=2**30,
        checksum=CRC, transferred_at=EPOCH, origin=origin,
    )  # fmt: skip


def test_all_archived_gives_the_all_clear() -> None:
    records = {m: archived(m) for m in ("a", "b")}
    classes = {r.object_key or "": "DEEP_ARCHIVE" for r in records.values()}
    found = let_go_report(
        [make_item("a"), make_item("b"), make_item("p", media_type="Photo")], records, [],
        classes, SelectionPolicy(), deep_archive_after=DEEP, now=EPOCH,
    )  # fmt: skip
    assert found.safe
    assert found.covered == 2  # the photo is not covered by the selection
    assert found.verdict == "everything GoPro holds is archived and verified: 2 items, 2.00 GB"
    assert {i.storage for i in found.items} == {"DEEP_ARCHIVE"}
    assert {i.origin for i in found.items} == {"matched"}


def test_each_gap_says_why_and_the_verdict_counts_them() -> None:
    failed = replace(archived("f"), status=SyncStatus.FAILED, error="HTTP 404 from GoPro")
    records = {"a": archived("a", origin="unavailable (no ETag)"), "f": failed,
               "d": archived("d"), "gone": archived("gone")}  # fmt: skip
    missing = Discrepancy(Finding.MISSING, "d", "gopro-videos/2026/01/d.MP4", "not in the bucket")
    found = let_go_report(
        [make_item(m) for m in ("a", "f", "d", "new")], records, [missing],
        {"gopro-videos/2026/01/a.MP4": "STANDARD"}, SelectionPolicy(),
        deep_archive_after=DEEP, now=EPOCH,
    )  # fmt: skip
    assert not found.safe
    assert found.verdict.startswith("3 of the 4 items GoPro holds are not archived and verified")
    by_id = {i.media_id: i for i in found.items}
    assert by_id["a"].standing is Standing.ARCHIVED
    assert by_id["a"].origin == "unavailable (no ETag)"
    assert by_id["a"].storage == "STANDARD until 2026-01-15, then DEEP_ARCHIVE"
    assert by_id["f"].why == "its last attempt failed: HTTP 404 from GoPro"
    assert by_id["new"].why == "never recorded: the next run archives it"
    assert by_id["d"].standing is Standing.DAMAGED
    assert "not in the bucket" in (by_id["d"].why or "")
    assert by_id["gone"].standing is Standing.ONLY_IN_ARCHIVE


def test_a_chaptered_recording_is_matched_only_when_every_chapter_is() -> None:
    chapters = (
        StoredChapter(1, "k1", 10, CRC, "matched (ETag x)"),
        StoredChapter(2, "k2", 10, CRC, "unavailable (no ETag)"),
    )
    record = replace(archived("c"), chapters=chapters)
    found = let_go_report(
        [make_item("c")], {"c": record}, [], {"k1": "DEEP_ARCHIVE", "k2": "DEEP_ARCHIVE"},
        SelectionPolicy(), deep_archive_after=DEEP, now=EPOCH,
    )  # fmt: skip
    (item,) = found.items
    assert (item.objects, item.origin, item.storage) == (
        2,
        "unavailable (no ETag)",
        "DEEP_ARCHIVE",
    )
