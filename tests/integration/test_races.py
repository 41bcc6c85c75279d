"""Races on the real adapters (moto, the GoPro emulator): two workers for one video, a
lease that runs out while its worker still streams, and a manual execution of the state
machine during the scheduled one. Each ends with one COMPLETED record and one object per
file, holding the source's bytes, and each video counted once."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest

from adapters.gopro.source import GoProMediaSource
from domain.status import SyncStatus
from domain.transfer import (
    DEFAULT_LEASE,
    TransferOutcome,
    TransferResult,
    transfer_video,
)
from domain.units import MIB
from sandbox.gopro.server import GoProEmulator
from tests.crashes import Deadline, Plan, fragile
from tests.fakes import FixedClock
from tests.integration.aws import BUCKET, Account
from tests.integration.test_transfer_aws import Rig, make_rig
from tests.integration.workflow import Workflow, ready_videos, workflow

__all__ = ["workflow"]


@pytest.fixture
def rig(account: Account, source: GoProMediaSource, emulator: GoProEmulator) -> Rig:
    return make_rig(account, source, emulator, single_put_limit=5 * MIB, part_size=5 * MIB)


def keys(rig: Rig) -> list[str]:
    listed = rig.account.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return [entry["Key"] for entry in listed]


def assert_archived_once(rig: Rig, media_id: str) -> None:
    record = rig.ports.tracker.get(media_id)
    assert record is not None
    assert record.status is SyncStatus.COMPLETED
    assert keys(rig) == [record.object_key]
    assert rig.s3_sha256(record.object_key or "") == rig.emulator.original_sha256(media_id)
    assert rig.emf.metrics().count("VideosSynced") == 1
    assert rig.emf.metrics().count("SyncFailures") == 0
    assert rig.account.open_uploads() == []


@pytest.mark.parametrize("size", [3 * MIB, 12 * MIB], ids=["single-put", "multipart"])
def test_two_workers_for_one_video_give_one_object(rig: Rig, size: int) -> None:
    rig.add("dup1", size)
    rig.emulator.faults.throughput_bytes_per_second = 8 * MIB  # the two overlap
    rig.discover()
    results: dict[str, TransferResult] = {}

    def run(worker: str) -> None:
        results[worker] = transfer_video("dup1", worker, rig.ports).result

    threads = [threading.Thread(target=run, args=(name,)) for name in ("exec-a", "exec-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == sorted([TransferResult.COMPLETED, TransferResult.BUSY])
    assert_archived_once(rig, "dup1")


@pytest.mark.parametrize("size", [3 * MIB, 12 * MIB], ids=["single-put", "multipart"])
def test_a_lease_that_runs_out_while_its_worker_streams(rig: Rig, size: int) -> None:
    # Given a worker half-way through its stream when its lease runs out, and a second
    # worker that takes the video over and archives it meanwhile
    rig.add("slow1", size)
    rig.discover()
    clock = rig.ports.clock
    assert isinstance(clock, FixedClock)
    second: list[TransferOutcome] = []

    def takeover() -> None:
        clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
        second.append(transfer_video("slow1", "exec-b", rig.ports))

    deadline = Deadline(None, meanwhile_at=size // 2, meanwhile=takeover)
    slow = fragile(rig.ports, Plan(), deadline)
    # When the first worker's stream goes on to its end
    first = transfer_video("slow1", "exec-a", slow)
    # Then the second archived it, the first stored nothing of its own and stood back
    assert [o.result for o in second] == [TransferResult.COMPLETED]
    assert first.result is TransferResult.BUSY
    assert_archived_once(rig, "slow1")


def test_a_manual_execution_during_the_scheduled_one_is_skipped_and_each_video_archived_once(
    workflow: Workflow,
) -> None:
    ready = ready_videos(workflow)
    workflow.emulator.faults.throughput_bytes_per_second = 6_000_000  # the runs overlap
    runs = []
    for name in ("scheduled", "manual"):
        runs.append(
            workflow.stepfunctions.start_execution(
                stateMachineArn=workflow.state_machine_arn,
                name=f"{name}-{uuid.uuid4().hex[:8]}",
                input=json.dumps({"provider": "gopro"}),
            )["executionArn"]
        )
    ends = time.monotonic() + 240
    results = []
    for arn in runs:
        while True:
            described = workflow.stepfunctions.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                results.append(described)
                break
            assert time.monotonic() < ends, "the executions did not end"
            time.sleep(0.05)
    assert [r["status"] for r in results] == ["SUCCEEDED", "SUCCEEDED"], results
    records = workflow.records()
    assert set(records) == ready
    assert {r.status for r in records.values()} == {SyncStatus.COMPLETED}
    files = sum(len(workflow.emulator.original_files(m)) for m in ready)
    assert len(workflow.objects()) == files
    assert sorted(workflow.objects()) == sorted(k for r in records.values() for k in r.object_keys)
    assert workflow.account.alerts() == []
    # The runs overlapped, and one run at a time held the library: the one started under
    # the other ended at once, naming it; the other listed and archived everything.
    listed = [call.result for call in workflow.dispatcher.calls("media-lister-dev")]
    (listing,) = [result for result in listed if "to_sync" in result]
    assert listing["to_sync"] == len(ready)
    (skipped,) = [result for result in listed if result.get("status") == "skipped"]
    names = {r["name"] for r in results}
    assert skipped["held_by"] in names
