"""The sync status of one video and the table of legal status changes."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from domain.errors import AlreadyCompletedError, IllegalTransitionError


class SyncStatus(StrEnum):
    """Where one video stands in its journey to the archive."""

    PENDING = "PENDING"
    """Discovered, never attempted."""
    IN_PROGRESS = "IN_PROGRESS"
    """A worker holds a lease and is transferring it."""
    COMPLETED = "COMPLETED"
    """Stored and verified. Terminal."""
    FAILED = "FAILED"
    """The last attempt failed; the next run tries again."""


# None stands for "no record yet": a record is born PENDING, when discovery first sees the
# video. IN_PROGRESS -> IN_PROGRESS is a lease renewal by its holder, or the takeover of an
# expired lease; the record rules (domain.model.SyncRecord) decide which applies. PENDING
# -> PENDING and FAILED -> FAILED are discovery refreshing a waiting video's metadata.
# COMPLETED -> COMPLETED only records that the archived video's count was sent
# (SyncRecord.counted); nothing else about a COMPLETED record changes.
TRANSITIONS: Mapping[SyncStatus | None, frozenset[SyncStatus]] = {
    None: frozenset({SyncStatus.PENDING}),
    SyncStatus.PENDING: frozenset({SyncStatus.PENDING, SyncStatus.IN_PROGRESS}),
    SyncStatus.IN_PROGRESS: frozenset(
        {SyncStatus.IN_PROGRESS, SyncStatus.COMPLETED, SyncStatus.FAILED}
    ),
    SyncStatus.FAILED: frozenset({SyncStatus.FAILED, SyncStatus.IN_PROGRESS}),
    SyncStatus.COMPLETED: frozenset({SyncStatus.COMPLETED}),
}


WAITING = frozenset({SyncStatus.PENDING, SyncStatus.FAILED})
"""Statuses of a video that waits for its next attempt (and whose metadata may be refreshed)."""


def is_legal(current: SyncStatus | None, target: SyncStatus) -> bool:
    """True when the table allows moving from `current` (None: no record) to `target`."""
    return target in TRANSITIONS[current]


def predecessors(target: SyncStatus) -> frozenset[SyncStatus | None]:
    """Every state from which `target` may be entered (None: no record yet).

    Storage adapters turn this into the condition of their conditional write.
    """
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)


def check_transition(media_id: str, current: SyncStatus | None, target: SyncStatus) -> None:
    """Raise a domain error unless the table allows the change."""
    if current is SyncStatus.COMPLETED:
        raise AlreadyCompletedError(media_id, target.value)
    if not is_legal(current, target):
        raise IllegalTransitionError(
            media_id, "no record" if current is None else current.value, target.value
        )
