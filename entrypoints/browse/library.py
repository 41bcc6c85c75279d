"""The archive as the browse page shows it: items (a video with its chapters, a photo set
with its photos) from the catalog's rows, newest first, filtered and paged.

Everything here works on rows already in memory: a filter over 100,000 items is a pass
over a list, a page is a slice, and the months, cameras and types are counted once.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.catalog import CatalogRow
from domain.keys import placement_time
from domain.restore import (
    ARCHIVE_CLASSES,
    HOURS,
    ObjectState,
    RestorePrices,
    State,
    Tier,
    restore_cost,
)

PAGE_SIZE = 60


class PageError(ValueError):
    """A request the page cannot act on (a filter value, a stale quote, an amount that is
    not the quote's); the message names what and what to do."""


@dataclass(frozen=True)
class Item:
    media_id: str
    filename: str
    taken: datetime
    """When it was shot (uploaded, when the camera gave no time)."""
    uploaded_at: datetime
    camera: str | None
    media_type: str | None
    duration_seconds: float | None
    resolution: str | None
    thumbnail_key: str | None
    objects: tuple[CatalogRow, ...]
    """Its archived objects: one, or a chapter (a photo) each, in order."""

    @property
    def size_bytes(self) -> int:
        return sum(row.size_bytes or 0 for row in self.objects)

    @property
    def month(self) -> str:
        return f"{self.taken:%Y-%m}"


def items_of(rows: Iterable[CatalogRow]) -> list[Item]:
    """The rows grouped into items, newest first (ties by media id)."""
    grouped: dict[str, list[CatalogRow]] = {}
    for row in rows:
        grouped.setdefault(row.media_id, []).append(row)
    found = []
    for media_id, objects in grouped.items():
        objects.sort(key=lambda r: (r.chapter or 0, r.key))
        first = objects[0]
        found.append(
            Item(
                media_id=media_id,
                filename=first.filename,
                taken=placement_time(first.captured_at, first.uploaded_at),
                uploaded_at=first.uploaded_at,
                camera=first.camera_model,
                media_type=first.media_type,
                duration_seconds=first.duration_seconds,
                resolution=first.resolution,
                thumbnail_key=first.thumbnail_key,
                objects=tuple(objects),
            )
        )
    found.sort(key=lambda i: (i.taken, i.media_id), reverse=True)
    return found


@dataclass(frozen=True)
class Filter:
    since: date | None = None
    until: date | None = None
    camera: str | None = None
    media_type: str | None = None
    min_seconds: float | None = None
    max_seconds: float | None = None
    name: str | None = None
    """Part of the filename, or a glob (`*`, `?`), without regard to case."""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filter:
        def day(name: str) -> date | None:
            text = (query.get(name) or "").strip()
            if not text:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise PageError(f"{name} must be a date as YYYY-MM-DD, not {text!r}") from None

        def seconds(name: str) -> float | None:
            text = (query.get(name) or "").strip()
            if not text:
                return None
            try:
                value = float(text)
            except ValueError:
                raise PageError(f"{name} must be a number of seconds, not {text!r}") from None
            if not 0 <= value < 10**9:
                raise PageError(f"{name} must be a number of seconds from 0, not {text!r}")
            return value

        found = cls(
            since=day("since"),
            until=day("until"),
            camera=(query.get("camera") or "").strip() or None,
            media_type=(query.get("type") or "").strip() or None,
            min_seconds=seconds("min_seconds"),
            max_seconds=seconds("max_seconds"),
            name=(query.get("name") or "").strip() or None,
        )
        if found.since and found.until and found.since > found.until:
            raise PageError("since must not be after until")
        return found

    def as_query(self) -> dict[str, str]:
        values = {
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "camera": self.camera or "",
            "type": self.media_type or "",
            "min_seconds": "" if self.min_seconds is None else f"{self.min_seconds:g}",
            "max_seconds": "" if self.max_seconds is None else f"{self.max_seconds:g}",
            "name": self.name or "",
        }
        return {name: value for name, value in values.items() if value}

    def matches(self, item: Item) -> bool:
        day = item.taken.date()
        duration = item.duration_seconds
        return (
            not ((self.since and day < self.since) or (self.until and day > self.until))
            and not (self.camera and (item.camera or "") != self.camera)
            and not (self.media_type and (item.media_type or "") != self.media_type)
            and not (
                self.min_seconds is not None and (duration is None or duration < self.min_seconds)
            )
            and not (
                self.max_seconds is not None and (duration is None or duration > self.max_seconds)
            )
            and self._name_matches(item.filename)
        )

    def _name_matches(self, filename: str) -> bool:
        if not self.name:
            return True
        name, wanted = filename.casefold(), self.name.casefold()
        globbed = any(c in wanted for c in "*?[")
        return fnmatch.fnmatchcase(name, wanted) if globbed else wanted in name


@dataclass(frozen=True)
class Totals:
    count: int
    size_bytes: int
    restore_usd: dict[Tier, float]
    """What restoring every archived object of the selection costs, by tier (retrieval
    and requests; objects readable now cost nothing)."""
    hours: dict[Tier, int | None]


def totals(items: Sequence[Item], classes: Mapping[str, str], prices: RestorePrices) -> Totals:
    """The selection's count, size, and the restore of it by tier, from each object's
    storage class as the archive's listing gives it."""
    usd = dict.fromkeys(Tier, 0.0)
    hours: dict[Tier, int | None] = dict.fromkeys(Tier)
    for item in items:
        for row in item.objects:
            klass = classes.get(row.key, "STANDARD")
            if klass not in ARCHIVE_CLASSES:
                continue
            for tier in Tier:
                usd[tier] += restore_cost(row.size_bytes or 0, klass, tier, 1, prices)[0]
                hours[tier] = max(hours[tier] or 0, HOURS[(klass, tier)])
    return Totals(len(items), sum(i.size_bytes for i in items), usd, hours)


@dataclass
class Library:
    """The archive's items, with what the page needs counted once."""

    items: list[Item]
    classes: dict[str, str] = field(default_factory=dict)
    """Object key -> storage class, from the archive's listing."""
    by_id: dict[str, Item] = field(init=False)
    cameras: list[str] = field(init=False)
    types: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {item.media_id: item for item in self.items}
        self.cameras = sorted({i.camera for i in self.items if i.camera})
        self.types = sorted({i.media_type for i in self.items if i.media_type})

    def select(self, chosen: Filter) -> list[Item]:
        if chosen == Filter():
            return self.items
        return [item for item in self.items if chosen.matches(item)]

    def storage_class(self, row: CatalogRow) -> str:
        return self.classes.get(row.key, "unknown")


def page_of(items: Sequence[Item], number: int, size: int = PAGE_SIZE) -> tuple[list[Item], int]:
    """Page `number` (1-based, clamped) and how many pages there are."""
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    return list(items[(number - 1) * size : number * size]), pages


def months(items: Iterable[Item]) -> list[tuple[str, list[Item]]]:
    """The items in runs of one capture month, in their order."""
    grouped: list[tuple[str, list[Item]]] = []
    for item in items:
        if not grouped or grouped[-1][0] != item.month:
            grouped.append((item.month, []))
        grouped[-1][1].append(item)
    return grouped


def state_label(state: ObjectState | None) -> str:
    """How a page names an object's archive state."""
    if state is None:
        return "unknown"
    if state.state is State.NOT_REQUESTED:
        return "archived, not restored"
    if state.state is State.READABLE:
        return "readable now"
    return state.line()


def archive_growth(items: Iterable[Item]) -> list[tuple[str, int, int]]:
    """(month archived, items, bytes archived by the end of that month), oldest first."""
    monthly: dict[str, tuple[int, int]] = {}
    for item in items:
        archived = item.objects[0].archived_at
        if archived is None:
            continue
        month = f"{archived:%Y-%m}"
        count, size = monthly.get(month, (0, 0))
        monthly[month] = (count + 1, size + item.size_bytes)
    running_count = running_size = 0
    found = []
    for month in sorted(monthly):
        running_count += monthly[month][0]
        running_size += monthly[month][1]
        found.append((month, running_count, running_size))
    return found


def whole(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        raise PageError(f"expected a whole number, not {text!r}") from None
