"""Getting videos back out of the archive: which objects, what a restore costs and how long
it takes, where each lands on disk, and whether a local file is already the archived one.

- **Selection.** By capture day (UTC, the day the key's year and month come from; the
  upload day when the camera gave none), inclusive at both ends; by media id; by a filename
  glob (`*`, `?`, `[...]`, case-insensitive). Criteria combine with AND; a chaptered video
  is selected whole, every chapter an object of its own.
- **State.** An object in an archive class (DEEP_ARCHIVE, GLACIER) cannot be read until a
  restore makes a temporary copy; S3 says where it stands in the HeadObject `Restore`
  header: absent (not requested, or the copy has expired), `ongoing-request="true"`
  (pending), or `ongoing-request="false", expiry-date="…"` (ready until then). An object in
  any other class is readable now and needs no restore.
- **Price and time.** Per GB retrieved and per 1,000 restore requests, by tier; the
  temporary copy is billed at S3 Standard's rate for the days it is kept; taking the bytes
  out of AWS is billed per GB (data transfer out). Hours are S3's stated bounds.
- **Layout.** `DIR/YYYY/MM/filename`: the object's key below `{provider}-videos/`, which is
  already by capture month, sanitised, and distinct for same-named videos and chapters.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import PurePosixPath

from domain.catalog import CatalogRow
from domain.errors import DomainError
from domain.keys import archive_prefix, placement_time
from domain.model import Checksum
from domain.units import GB

ARCHIVE_CLASSES = frozenset({"DEEP_ARCHIVE", "GLACIER"})
"""Storage classes whose objects must be restored before they can be read."""

MAX_RESTORE_DAYS = 30_000
"""S3 keeps a restored copy 1 to 30,000 days."""


class RestoreError(DomainError):
    """A restore that cannot go ahead as asked; the message says why."""


class Tier(StrEnum):
    BULK = "bulk"
    STANDARD = "standard"


HOURS = {
    ("DEEP_ARCHIVE", Tier.BULK): 48,
    ("DEEP_ARCHIVE", Tier.STANDARD): 12,
    ("GLACIER", Tier.BULK): 12,
    ("GLACIER", Tier.STANDARD): 5,
}
"""S3's stated bounds: a restore is ready within this many hours."""


@dataclass(frozen=True)
class Selection:
    since: date | None = None
    until: date | None = None
    media_ids: frozenset[str] = frozenset()
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise RestoreError(
                f"the selection starts on {self.since.isoformat()}, after it ends on "
                f"{self.until.isoformat()}"
            )

    def describe(self) -> str:
        parts = []
        if self.since or self.until:
            start = self.since.isoformat() if self.since else "the start"
            end = self.until.isoformat() if self.until else "today"
            parts.append(f"captured {start} to {end}")
        if self.media_ids:
            parts.append(f"media id {', '.join(sorted(self.media_ids))}")
        if self.pattern:
            parts.append(f"filename {self.pattern!r}")
        return " and ".join(parts) or "everything"

    def matches(self, row: CatalogRow) -> bool:
        day = capture_day(row)
        if self.since and day < self.since:
            return False
        if self.until and day > self.until:
            return False
        if self.media_ids and row.media_id not in self.media_ids:
            return False
        return not self.pattern or fnmatch.fnmatchcase(row.filename.lower(), self.pattern.lower())


def capture_day(row: CatalogRow) -> date:
    """The UTC day the video was shot (uploaded, when the camera gave no time): the day
    its key's year and month come from."""
    return placement_time(row.captured_at, row.uploaded_at).date()


def select(rows: Iterable[CatalogRow], selection: Selection) -> list[CatalogRow]:
    """The rows the selection takes, in key order; none is an error naming the criteria."""
    chosen = sorted((row for row in rows if selection.matches(row)), key=lambda r: r.key)
    if not chosen:
        raise RestoreError(f"nothing archived matches {selection.describe()}")
    return chosen


class State(StrEnum):
    READABLE = "readable"
    """Not in an archive class: readable now, no restore needed."""
    NOT_REQUESTED = "not requested"
    PENDING = "pending"
    READY = "ready"
    MISSING = "missing from the bucket"
    """The record names it; S3 has no object at its key (`cloudsync verify` says more)."""


@dataclass(frozen=True)
class ObjectState:
    key: str
    storage_class: str
    state: State
    expires_at: datetime | None = None

    def line(self) -> str:
        if self.state is State.READY and self.expires_at is not None:
            return f"ready until {self.expires_at:%Y-%m-%d %H:%M} UTC"
        if self.state is State.READABLE:
            return f"readable now ({self.storage_class}, no restore needed)"
        return self.state.value

    @property
    def can_read(self) -> bool:
        return self.state in (State.READABLE, State.READY)


@dataclass(frozen=True)
class RestorePrices:
    """USD, from entrypoints/prices.json."""

    per_gb: dict[tuple[str, Tier], float]
    per_1000_requests: dict[tuple[str, Tier], float]
    standard_gb_month: float
    transfer_out_gb: float
    retrieval_gb: dict[str, float]
    """Per GB read, for classes that charge reads (GLACIER_IR)."""


@dataclass(frozen=True)
class Quote:
    objects: int
    size_bytes: int
    to_restore: int
    restore_bytes: int
    restore_usd: float
    copy_usd: float
    download_usd: float
    hours: int | None
    """Within how many hours the slowest restore is ready; None when none is needed."""

    @property
    def total_usd(self) -> float:
        return self.restore_usd + self.copy_usd + self.download_usd


def restore_cost(
    size_bytes: int, storage_class: str, tier: Tier, days: int, prices: RestorePrices
) -> tuple[float, float]:
    """What restoring one archived object costs: (retrieval and its request, the restored
    copy kept `days` days at S3 Standard's rate)."""
    gb = size_bytes / GB
    price_key = (storage_class, tier)
    retrieval = gb * prices.per_gb[price_key] + prices.per_1000_requests[price_key] / 1000
    return retrieval, gb * prices.standard_gb_month * days / 30


def quote(
    rows: Sequence[CatalogRow],
    states: Sequence[ObjectState],
    tier: Tier,
    days: int,
    prices: RestorePrices,
) -> Quote:
    """What restoring and downloading the selection costs: only objects that need a
    restore (in an archive class, not already pending or ready) are retrieved and billed;
    every object that is there is downloaded."""
    sizes = {row.key: row.size_bytes or 0 for row in rows}
    needed = [s for s in states if s.state is State.NOT_REQUESTED]
    restore_usd = copy_usd = 0.0
    hours: int | None = None
    for state in needed:
        retrieval, copy = restore_cost(
            sizes.get(state.key, 0), state.storage_class, tier, days, prices
        )
        restore_usd += retrieval
        copy_usd += copy
        hours = max(hours or 0, HOURS[(state.storage_class, tier)])
    total = sum(sizes.values())
    download_usd = sum(
        sizes.get(s.key, 0)
        / GB
        * (prices.transfer_out_gb + prices.retrieval_gb.get(s.storage_class, 0))
        for s in states
        if s.state is not State.MISSING
    )
    return Quote(
        objects=len(rows),
        size_bytes=total,
        to_restore=len(needed),
        restore_bytes=sum(sizes.get(s.key, 0) for s in needed),
        restore_usd=restore_usd,
        copy_usd=copy_usd,
        download_usd=download_usd,
        hours=hours,
    )


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_RESTORE_DAYS:
        raise RestoreError(f"a restored copy is kept 1 to {MAX_RESTORE_DAYS} days, not {days}")
    return days


class LocalPathError(RestoreError):
    """A key that would not land inside the download folder."""


def local_path(provider: str, key: str) -> PurePosixPath:
    """`YYYY/MM/filename` for an archived key, refusing one that could climb out of the
    folder it is fetched into (the catalog is a file anyone can edit)."""
    prefix = archive_prefix(provider)
    if not key.startswith(prefix):
        raise LocalPathError(f"{key!r} is not under {prefix}")
    relative = key[len(prefix) :]
    parts = relative.split("/")
    if any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts):
        raise LocalPathError(f"{key!r} does not name a file below the download folder")
    return PurePosixPath(*parts)


class Local(StrEnum):
    ABSENT = "absent"
    SAME = "same"
    """Already here: its size and checksum are the record's."""
    DIFFERS = "differs"


def local_verdict(row: CatalogRow, size: int | None, checksum: Checksum | None) -> Local:
    """A local file (its size and checksum; size None when there is none) against the row.
    Without a recorded checksum of the same algorithm, equal size is taken as the same."""
    if size is None:
        return Local.ABSENT
    if row.size_bytes is not None and size != row.size_bytes:
        return Local.DIFFERS
    recorded = recorded_checksum(row)
    if recorded and checksum and recorded.algorithm == checksum.algorithm and recorded != checksum:
        return Local.DIFFERS
    return Local.SAME


def recorded_checksum(row: CatalogRow) -> Checksum | None:
    if row.checksum is None or row.checksum_algorithm is None:
        return None
    return Checksum(row.checksum_algorithm, row.checksum)
