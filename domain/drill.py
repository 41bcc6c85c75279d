"""The restore drill: an archive that has never been restored is a hope, so once a month
the workflow proves it restores.

On a night the drill is due (none yet, or the last finished `every` ago), one archived
object is picked at random among the small ones (the smallest tenth, none over
`SMALL_BYTES`), and if S3 holds it
in an archive class a Bulk restore of it is requested (for a day: a fraction of a cent).
On each later night, once S3 says the restored copy is ready, its bytes are read back and
checked against the size and CRC32 recorded when it was archived, and the drill is
recorded: when, what, how long the restore took, what it cost. A drill that fails (the
object gone, a byte different, the copy expired unread) raises an alert. An object that
is not in an archive class yet (younger than the lifecycle's days) is not drilled: the
drill waits for one that is.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from domain.audit import ArchivedObject, archived_objects
from domain.errors import DomainError
from domain.model import Checksum, SyncRecord
from domain.ports import Notifier
from domain.restore import ObjectState, RestorePrices, State, Tier, restore_cost
from domain.units import MIB
from domain.verification import Crc32

log = logging.getLogger("cloudsync.drill")

SMALL_BYTES = 1024 * MIB
"""No object larger than this is drilled (it is read back inside one invocation)."""
SMALL_SHARE = 10
"""The drill picks among the smallest tenth of the archive's objects: cheap to restore."""
EVERY = timedelta(days=30)
TRIES = 5
"""Candidates looked at (a HeadObject each) before a night gives up finding one to drill."""
COPY_DAYS = 1


@dataclass(frozen=True)
class Drill:
    media_id: str
    key: str
    size_bytes: int
    checksum: Checksum | None
    storage_class: str
    requested_at: datetime
    cost_usd: float
    """What the restore costs (retrieval, request, the copy for a day); reading the bytes
    back inside AWS costs nothing more."""


@dataclass(frozen=True)
class DrillResult:
    drill: Drill
    finished_at: datetime
    passed: bool
    reason: str

    @property
    def restore_hours(self) -> float:
        return (self.finished_at - self.drill.requested_at).total_seconds() / 3600

    def line(self) -> str:
        outcome = "passed" if self.passed else f"FAILED: {self.reason}"
        hours = self.restore_hours
        took = f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.1f} min"
        cost = self.drill.cost_usd
        price = f"${cost:.4f}" if cost >= 0.0001 else "under $0.0001"
        return (
            f"restore drill {outcome}, {self.finished_at:%Y-%m-%d}: {self.drill.key} "
            f"({self.drill.size_bytes} bytes, {self.drill.storage_class}), the restore took "
            f"{took}, {price}"
        )


@dataclass(frozen=True)
class DrillState:
    current: Drill | None = None
    """A drill whose restore was requested and is not read back yet."""
    last: DrillResult | None = None


class DrillArchive(Protocol):
    """The archive, as the drill reaches it."""

    def state(self, key: str) -> ObjectState | None: ...

    def request(self, key: str, tier: Tier, days: int) -> object: ...

    def download(self, key: str) -> Iterator[bytes]: ...


class DrillLog(Protocol):
    """Where the drill's state is kept between nights."""

    def load(self, provider: str) -> DrillState: ...

    def save(self, provider: str, state: DrillState) -> None: ...


def due(state: DrillState, now: datetime, every: timedelta = EVERY) -> bool:
    return state.current is None and (state.last is None or now - state.last.finished_at >= every)


def drill_step(
    provider: str,
    records: Sequence[SyncRecord],
    *,
    archive: DrillArchive,
    drills: DrillLog,
    notifier: Notifier,
    now: datetime,
    prices: RestorePrices,
    pick: random.Random | None = None,
) -> str:
    """Tonight's part of the drill (see the module docstring); one line saying what it did."""
    state = drills.load(provider)
    if state.current is not None:
        result = _follow(state.current, archive, now)
        if result is None:
            return f"restore drill: the restore of {state.current.key} is in progress"
        drills.save(provider, DrillState(current=None, last=result))
        if not result.passed:
            try:
                notifier.alert("cloud-sync: the restore drill failed", result.line())
            except DomainError as error:
                log.warning("%s: the drill's alert could not be sent: %s", provider, error)
        return result.line()
    if not due(state, now):
        return state.last.line() if state.last else "no restore drill yet"
    sized = sorted(
        (o for r in records for o in archived_objects(r)
         if o.size_bytes is not None and 0 < o.size_bytes <= SMALL_BYTES),
        key=lambda o: (o.size_bytes or 0, o.key),
    )  # fmt: skip
    candidates = sized[: max(1, len(sized) // SMALL_SHARE)] if sized else []
    chooser = pick or random.SystemRandom()
    for obj in chooser.sample(candidates, min(TRIES, len(candidates))):
        found = archive.state(obj.key)
        if found is None or found.state is not State.NOT_REQUESTED:
            continue  # not in an archive class (or already being restored by a person)
        drill = _drill(obj, found, now, prices)
        archive.request(obj.key, Tier.BULK, COPY_DAYS)
        drills.save(provider, replace(state, current=drill))
        return f"restore drill: a Bulk restore of {obj.key} requested"
    return "restore drill: no small archived object in an archive class yet"


def _drill(obj: ArchivedObject, found: ObjectState, now: datetime, prices: RestorePrices) -> Drill:
    size = obj.size_bytes or 0
    cost = restore_cost(size, found.storage_class, Tier.BULK, COPY_DAYS, prices)
    return Drill(obj.media_id, obj.key, size, obj.checksum, found.storage_class, now, sum(cost))


def _follow(drill: Drill, archive: DrillArchive, now: datetime) -> DrillResult | None:
    """The drill's outcome once its restore is done; None while it is in progress."""
    found = archive.state(drill.key)
    if found is not None and found.state is State.PENDING:
        return None
    if found is None:
        reason = "the object is gone from the bucket"
    elif not found.can_read:
        reason = "the restored copy expired before it was read back"
    else:
        reason = _read_back(archive, drill)
    return DrillResult(drill, now, passed=not reason, reason=reason)


def _read_back(archive: DrillArchive, drill: Drill) -> str:
    """Why the bytes read back are not the archived ones ("" when they are)."""
    crc, size = Crc32(), 0
    try:
        for chunk in archive.download(drill.key):
            crc.update(chunk)
            size += len(chunk)
    except DomainError as error:
        return f"the restored copy could not be read: {error}"
    if size != drill.size_bytes:
        return f"{size} bytes came back, {drill.size_bytes} were archived"
    if drill.checksum is not None and crc.checksum() != drill.checksum:
        return (
            f"the bytes read back have CRC32 {crc.checksum().value}, the archived ones "
            f"{drill.checksum.value}"
        )
    return ""
