"""What needs syncing: which items are videos ready to archive, and which records want work.

A video needs syncing when the tracker has no record of it, or its record is PENDING
(discovered, never attempted), FAILED (R8.5: every run retries it), or IN_PROGRESS with an
expired lease (the transfer crashed or timed out and must not block the video forever).
COMPLETED never needs syncing again (R4.2); an unexpired lease is left to its holder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidSettingError
from domain.model import MediaItem, SyncRecord
from domain.selection import Selection
from domain.status import WAITING, SyncStatus

DEFAULT_MEDIA_TYPES = frozenset(
    {
        "Video",
        "TimeLapseVideo",
        "BurstVideo",
        "LoopedVideo",
        "Chaptered",
        "Continuous",
        "ExternalVideo",
        "Livestream",
        "MultiClipEdit",
        "Edit",
    }
)
"""Every type the contract lists that is a video (edits included: a `MultiClipEdit` is
archived as its rendered `baked_source`). Photo series (Photo, TimeLapse, Burst,
Looped), Audio and Session are left out; a type GoPro adds later is left out until
configured."""

DEFAULT_READY_STATES = frozenset({"ready"})


class SkipReason(StrEnum):
    """Why a listed item is not transferred in this run."""

    NOT_A_VIDEO = "not_a_video"
    """Its type is not among those chosen (the stack's mediaTypes: videos by default)."""
    NOT_READY = "not_ready"
    ARCHIVED = "archived"
    LEASED = "leased"
    DUPLICATE = "duplicate"
    """The listing named the same media id twice (pages shift while a library grows)."""
    UNSTORABLE = "unstorable"
    """The tracker refused the item's record; the rest of the library goes on."""
    UNREADABLE = "unreadable"
    """The listing's entry could not be read as a media item (a field no record could
    hold, say); the rest of the library goes on."""
    CAPTURED_OUTSIDE = "captured_outside"
    """Captured outside the stack's captureSince..captureUntil."""
    OTHER_CAMERA = "other_camera"
    """Shot by a camera the stack's `cameras` does not name."""
    UNREADABLE_RECORD = "unreadable_record"
    """The video's tracker record cannot be read (an impossible date, say): it is named in
    the run's report until someone repairs it; the rest of the library goes on."""


@dataclass(frozen=True)
class SelectionPolicy:
    """Which media types and readiness states count as "a video ready to archive".

    Comparison ignores case: providers' enums drift in spelling as well as in values.
    """

    media_types: frozenset[str] = DEFAULT_MEDIA_TYPES
    ready_states: frozenset[str] = DEFAULT_READY_STATES
    selection: Selection = field(default_factory=Selection)
    """The owner's choice of dates and cameras (its kinds decide `media_types`)."""

    def __post_init__(self) -> None:
        if not self.media_types:
            raise InvalidSettingError("media_types", "must name at least one media type")
        if not self.ready_states:
            raise InvalidSettingError("ready_states", "must name at least one readiness state")
        object.__setattr__(self, "media_types", frozenset(t.casefold() for t in self.media_types))
        object.__setattr__(self, "ready_states", frozenset(s.casefold() for s in self.ready_states))

    @classmethod
    def from_lists(
        cls,
        media_types: str | None,
        ready_states: str | None,
        selection: Selection | None = None,
        default_types: frozenset[str] = DEFAULT_MEDIA_TYPES,
    ) -> SelectionPolicy:
        """Build from comma-separated settings; an unset setting keeps the default."""

        def parse(name: str, text: str | None, default: frozenset[str]) -> frozenset[str]:
            if text is None:
                return default
            values = frozenset(part.strip() for part in text.split(",") if part.strip())
            if not values:
                raise InvalidSettingError(name, f"has no values in {text!r}")
            return values

        return cls(
            parse("media_types", media_types, default_types),
            parse("ready_states", ready_states, DEFAULT_READY_STATES),
            selection or Selection(),
        )

    def rejects(self, item: MediaItem) -> SkipReason | None:
        """None when the item is chosen and ready to archive; otherwise why not."""
        if (item.media_type or "").casefold() not in self.media_types:
            return SkipReason.NOT_A_VIDEO
        if (item.readiness or "").casefold() not in self.ready_states:
            return SkipReason.NOT_READY
        if not self.selection.date_allows(item.captured_at, item.uploaded_at):
            return SkipReason.CAPTURED_OUTSIDE
        if not self.selection.camera_allows(item.camera_model):
            return SkipReason.OTHER_CAMERA
        return None


def record_wants_work(record: SyncRecord | None, now: datetime) -> bool:
    """The record rule of the module docstring."""
    if record is None or record.status in WAITING:
        return True
    if record.status is SyncStatus.IN_PROGRESS:
        return record.lease is None or not record.lease.active(now)
    return False


@dataclass(frozen=True)
class SyncPlan:
    """The videos to transfer in this run, in listing order, and why the rest are not."""

    to_sync: tuple[MediaItem, ...]
    skipped: Mapping[SkipReason, int] = field(default_factory=dict)

    @property
    def media_ids(self) -> tuple[str, ...]:
        return tuple(item.media_id for item in self.to_sync)


def plan_sync(
    items: Iterable[MediaItem],
    records: Mapping[str, SyncRecord],
    now: datetime,
    policy: SelectionPolicy,
) -> SyncPlan:
    """Choose what to transfer. `records` holds the tracker's records by media id."""
    chosen: list[MediaItem] = []
    seen: set[str] = set()
    skipped: Counter[SkipReason] = Counter()
    for item in items:
        if item.media_id in seen:
            skipped[SkipReason.DUPLICATE] += 1
            continue
        seen.add(item.media_id)
        reason = policy.rejects(item)
        record = records.get(item.media_id)
        if reason is None and not record_wants_work(record, now):
            completed = record is not None and record.status is SyncStatus.COMPLETED
            reason = SkipReason.ARCHIVED if completed else SkipReason.LEASED
        if reason is None:
            chosen.append(item)
        else:
            skipped[reason] += 1
    return SyncPlan(tuple(chosen), dict(skipped))
