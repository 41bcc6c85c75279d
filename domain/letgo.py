"""Safe to let go: whether everything the source holds (that the stack's selection covers)
is archived and verified, item by item, so that its owner can decide to stop paying the
source.

An item is **archived and verified** when its record is COMPLETED (every chapter stored,
each checked at upload against the size the source served and S3's whole-object checksum),
and tonight's audit finds every one of its objects in the bucket at its recorded size and
checksum. Where the source gave an ETag that is an MD5 of the file, the bytes were also
checked against it (`origin`). Its storage says whether it is in Deep Archive yet, or from
which day the lifecycle moves it there. An item not archived says why; an item archived
that the source no longer lists is named too (the archive is then its only copy).

The report holds ids, names, sizes, keys and reasons: never a token or a signed URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.audit import Discrepancy, archived_objects
from domain.model import MediaItem, SyncRecord
from domain.rules import SelectionPolicy
from domain.status import SyncStatus
from domain.units import GB


class Standing(StrEnum):
    ARCHIVED = "archived and verified"
    NOT_ARCHIVED = "not archived"
    DAMAGED = "archived, but the archive does not hold it as recorded"
    ONLY_IN_ARCHIVE = "only in the archive"


@dataclass(frozen=True)
class ItemReport:
    media_id: str
    filename: str
    captured_at: datetime | None
    standing: Standing
    size_bytes: int | None
    """What the source served and the archive holds (the listing's size when not archived)."""
    objects: int
    origin: str
    """`matched` (every file's bytes gave the source's ETag), or why it could not be."""
    storage: str
    """Where its objects are: `DEEP_ARCHIVE`, or `STANDARD until YYYY-MM-DD`."""
    why: str | None = None


@dataclass
class LetGoReport:
    generated_at: datetime
    covered: int = 0
    """Items the source lists that the selection covers."""
    items: list[ItemReport] = field(default_factory=list)

    def of(self, standing: Standing) -> list[ItemReport]:
        return [item for item in self.items if item.standing is standing]

    @property
    def safe(self) -> bool:
        return len(self.of(Standing.ARCHIVED)) == self.covered

    @property
    def verdict(self) -> str:
        archived = self.of(Standing.ARCHIVED)
        size = _size(sum(item.size_bytes or 0 for item in archived))
        if self.safe:
            return f"everything GoPro holds is archived and verified: {self.covered} items, {size}"
        missing = self.covered - len(archived)
        return (
            f"{missing} of the {self.covered} items GoPro holds are not archived and verified "
            f"({len(archived)} are, {size})"
        )


def _size(size_bytes: int) -> str:
    """GB as AWS bills them (2^30 bytes), or MB below one."""
    if size_bytes >= GB:
        return f"{size_bytes / GB:.2f} GB"
    return f"{size_bytes / 2**20:.1f} MB"


def _origin(record: SyncRecord) -> str:
    outcomes = [obj.origin for obj in archived_objects(record)]
    if outcomes and all(o and o.startswith("matched") for o in outcomes):
        return "matched"
    unchecked = next((o for o in outcomes if not (o and o.startswith("matched"))), None)
    return unchecked or "not checked"


def _storage(record: SyncRecord, classes: Mapping[str, str], deep_after: timedelta) -> str:
    found = {classes.get(obj.key, "missing") for obj in archived_objects(record)}
    if found == {"DEEP_ARCHIVE"}:
        return "DEEP_ARCHIVE"
    if record.transferred_at is not None and found <= {"STANDARD", "GLACIER_IR", "DEEP_ARCHIVE"}:
        moves = (record.transferred_at + deep_after).date().isoformat()
        return f"{', '.join(sorted(found))} until {moves}, then DEEP_ARCHIVE"
    return ", ".join(sorted(found))


def _why_not(record: SyncRecord | None) -> str:
    if record is None:
        return "never recorded: the next run archives it"
    if record.status is SyncStatus.FAILED:
        return f"its last attempt failed: {record.error or 'no reason recorded'}"
    return f"its record is {record.status.value}: the next run goes on with it"


def let_go_report(
    listed: Iterable[MediaItem],
    records: Mapping[str, SyncRecord],
    faults: Sequence[Discrepancy],
    classes: Mapping[str, str],
    policy: SelectionPolicy,
    *,
    deep_archive_after: timedelta,
    now: datetime,
) -> LetGoReport:
    """Every item of the source's listing that the selection covers, and every archived item
    the listing no longer holds (see the module docstring)."""
    report = LetGoReport(now)
    damaged: dict[str, str] = {}
    for fault in faults:
        if fault.media_id is not None:
            damaged.setdefault(fault.media_id, fault.line())
    seen: set[str] = set()
    for item in listed:
        seen.add(item.media_id)
        if policy.rejects(item) is not None:
            continue
        report.covered += 1
        record = records.get(item.media_id)
        if record is None or record.status is not SyncStatus.COMPLETED:
            report.items.append(
                ItemReport(
                    item.media_id, item.filename, item.captured_at, Standing.NOT_ARCHIVED,
                    item.size_bytes, 0, "-", "-", _why_not(record),
                )
            )  # fmt: skip
            continue
        report.items.append(_archived(record, damaged, classes, deep_archive_after))
    for media_id, record in sorted(records.items()):
        if media_id not in seen and record.status is SyncStatus.COMPLETED:
            found = _archived(record, damaged, classes, deep_archive_after)
            report.items.append(
                ItemReport(
                    found.media_id, found.filename, found.captured_at, Standing.ONLY_IN_ARCHIVE,
                    found.size_bytes, found.objects, found.origin, found.storage,
                    "GoPro no longer lists it: the archive is its only copy",
                )
            )  # fmt: skip
    return report


def _archived(
    record: SyncRecord, damaged: Mapping[str, str], classes: Mapping[str, str],
    deep_after: timedelta,
) -> ItemReport:  # fmt: skip
    fault = damaged.get(record.media_id)
    return ItemReport(
        record.media_id, record.item.filename, record.item.captured_at,
        Standing.DAMAGED if fault else Standing.ARCHIVED,
        record.stored_size, len(archived_objects(record)), _origin(record),
        _storage(record, classes, deep_after), fault,
    )  # fmt: skip
