"""Crash at every step: a transfer on the real adapters (moto, the GoPro emulator) killed
at each call it makes to the outside, just before the call or just after it took effect,
then carried on by the same worker's retry or by another worker once the lease expired.

Whatever the kill point: one COMPLETED record, one object holding the source's bytes, no
open upload but those the bucket's lifecycle rule removes, no failure counted, and the
video counted once (twice only for a kill between sending the count and recording it
sent, which the design accepts over ever losing a count)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from adapters.gopro.source import GoProMediaSource
from domain.keys import ARCHIVE_PREFIX
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from domain.transfer import (
    DEFAULT_LEASE,
    TransferOutcome,
    TransferPorts,
    TransferResult,
    transfer_video,
)
from domain.units import MIB
from sandbox.gopro.server import GoProEmulator
from tests.crashes import Deadline, Killed, Plan, fragile
from tests.fakes import FixedClock
from tests.integration.aws import BUCKET, TABLE, Account
from tests.integration.test_transfer_aws import Rig, make_rig


@dataclass(frozen=True)
class Case:
    name: str
    size: int
    budget: int | None
    """The bytes one invocation has time to read (a video larger than that takes several);
    None: time enough for the whole video."""


CASES = [
    Case("single-put", 300_000, None),
    Case("multipart", 11 * MIB + 5, None),
    Case("paused-multipart", 11 * MIB + 5, 5 * MIB),
]


def ports_of(rig: Rig, plan: Plan, deadline: Deadline) -> TransferPorts:
    return fragile(rig.ports, plan, deadline)


def attempt(rig: Rig, plan: Plan, worker: str, case: Case) -> TransferOutcome:
    deadline = Deadline(case.budget)
    return transfer_video("crash1", worker, ports_of(rig, plan, deadline), should_pause=deadline)


def run(
    rig: Rig, case: Case, plan: Plan, takeover: bool, between: Callable[[], None] | None = None
) -> int:
    """Invoke until the video is archived; the invocations it took. `between` runs after
    each invocation that did not archive it."""
    worker = "w1"
    seen: list[object] = []
    for invocations in range(1, 12):
        if invocations > 1 and between is not None:
            between()
        try:
            outcome = attempt(rig, plan, worker, case)
        except Killed as killed:
            seen.append(killed)
            if takeover:
                clock = rig.ports.clock
                assert isinstance(clock, FixedClock)
                clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
                worker = f"w{invocations + 1}"
            continue
        seen.append(outcome)
        if outcome.result in (TransferResult.COMPLETED, TransferResult.ALREADY_ARCHIVED):
            return invocations
        assert outcome.result is TransferResult.PAUSED, seen
    raise AssertionError(f"the video was never archived: {seen}")


def fresh(account: Account, source: GoProMediaSource, emulator: GoProEmulator) -> Rig:
    rig = make_rig(account, source, emulator, single_put_limit=5 * MIB, part_size=5 * MIB)
    for listed in account.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        account.s3.delete_object(Bucket=BUCKET, Key=listed["Key"])
    for upload in account.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        account.s3.abort_multipart_upload(
            Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    account.dynamodb.delete_item(TableName=TABLE, Key={"media_id": {"S": "crash1"}})
    return rig


def calls_of_a_clean_run(rig: Rig, case: Case) -> list[str]:
    plan = Plan()
    run(rig, case, plan, takeover=False)
    return plan.calls


def kill_points(
    account: Account, source: GoProMediaSource, emulator: GoProEmulator, case: Case
) -> Iterator[tuple[int, bool, bool]]:
    """(call number, after it?, between sending the count and recording it sent?)"""
    rig = fresh(account, source, emulator)
    rig.add("crash1", case.size)
    rig.discover()
    calls = calls_of_a_clean_run(rig, case)
    assert calls.count("metrics.video_synced") == 1
    counted = calls.index("metrics.video_synced")
    for index in range(len(calls)):
        yield index, False, index == counted + 1
        yield index, True, index == counted


def _kill_cases() -> list[object]:
    """Every case by each worker; the longest (a takeover of a paused multipart upload,
    some 15 s) runs with `make soak`, its same-worker twin in every `make test`."""
    found: list[object] = []
    for takeover in (False, True):
        for case in CASES:
            name = f"{'takeover' if takeover else 'same-worker'}-{case.name}"
            slow = takeover and "paused-multipart" in case.name
            marks = [pytest.mark.slow] if slow else []
            found.append(pytest.param(case, takeover, id=name, marks=marks))
    return found


@pytest.mark.parametrize(("case", "takeover"), _kill_cases())
def test_a_kill_at_any_call_leaves_one_verified_object_counted_once(
    account: Account,
    source: GoProMediaSource,
    emulator: GoProEmulator,
    case: Case,
    takeover: bool,
) -> None:
    points = list(kill_points(account, source, emulator, case))
    assert len(points) >= 12
    for index, after, between_count_and_record in points:
        where = f"kill {'after' if after else 'before'} call {index}"
        rig = fresh(account, source, emulator)
        rig.add("crash1", case.size)
        rig.discover()
        source_sha = emulator.original_sha256("crash1")
        plan = Plan(at=index, after=after)
        run(rig, case, plan, takeover)
        assert plan.fired, where
        where += f" ({plan.calls[index]})"
        # The next night's discovery sends a count a crash held back.
        clock = rig.ports.clock
        assert isinstance(clock, FixedClock)
        clock.advance(timedelta(days=1))
        discover("gopro", source, rig.ports.tracker, rig.ports.clock, SelectionPolicy(),
                 metrics=rig.ports.metrics)  # fmt: skip

        record = rig.ports.tracker.get("crash1")
        assert record is not None, where
        assert record.status is SyncStatus.COMPLETED, where
        assert not record.count_pending, where
        listed = account.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        assert [o["Key"] for o in listed] == [record.object_key], where
        assert record.object_key is not None
        assert record.object_key.startswith(ARCHIVE_PREFIX)
        assert rig.s3_sha256(record.object_key) == source_sha, where
        # An upload a kill left open is the lifecycle rule's (it covers every key), and a
        # kill leaves at most the one upload it interrupted.
        assert len(account.open_uploads()) <= 1, where
        synced = rig.emf.metrics().count("VideosSynced")
        failed = rig.emf.metrics().count("SyncFailures")
        assert synced == (2 if between_count_and_record else 1), where
        assert failed == 0, where


PATHS = [
    # Each path walks every kill point (some 18 s): one in every `make test`, all three
    # with `make soak`.
    pytest.param("pause", marks=pytest.mark.slow),
    pytest.param("takeover", marks=pytest.mark.slow),
    "drop",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_source_changed_at_any_kill_point_leaves_one_version_archived_once(
    account: Account, source: GoProMediaSource, emulator: GoProEmulator, path: str
) -> None:
    """Killed at any call, then GoPro reprocesses the video before the next invocation
    (resuming its pause, taking over its checkpoint) or while a dropped connection is
    resumed: the object is one version of the file, whole, never a splice."""
    case = CASES[2]  # paused after each 5 MiB part
    points = list(kill_points(account, source, emulator, case))
    for index, after, _ in points:
        where = f"{path}: kill {'after' if after else 'before'} call {index}"
        rig = fresh(account, source, emulator)
        rig.add("crash1", case.size)
        rig.discover()
        versions = {emulator.original_sha256("crash1")}
        if path == "drop":  # changed the moment the first GET breaks off
            emulator.faults.file_faults["crash1"] = "drop"
            emulator.faults.change_on_drop.add("crash1")
        changes: list[int] = []

        def change(changes: list[int] = changes) -> None:
            if path != "drop" and not changes:
                changes.append(emulator.change("crash1", case.size + 3_245).length)

        run(rig, case, Plan(at=index, after=after), path == "takeover", change)
        versions.add(emulator.original_sha256("crash1"))
        clock = rig.ports.clock
        assert isinstance(clock, FixedClock)
        clock.advance(timedelta(days=1))
        discover("gopro", source, rig.ports.tracker, clock, SelectionPolicy(),
                 metrics=rig.ports.metrics)  # fmt: skip
        record = rig.ports.tracker.get("crash1")
        assert record is not None, where
        assert record.status is SyncStatus.COMPLETED, where
        listed = account.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        assert [o["Key"] for o in listed] == [record.object_key], where
        assert record.object_key is not None
        assert rig.s3_sha256(record.object_key) in versions, where  # one version, whole
        assert len(account.open_uploads()) <= 1, where
        assert rig.emf.metrics().count("VideosSynced") in (1, 2), where
        assert rig.emf.metrics().count("SyncFailures") == 0, where
        emulator.faults.file_faults.clear()
        emulator.faults.change_on_drop.clear()
