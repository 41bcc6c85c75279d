"""The soak: a sandbox library (the GoPro emulator, moto, the real state machine and
handlers) in which one transfer in ten meets a fault — a dropped connection, a server
error, an expired URL, or an invocation that dies at a moment nobody chose — synced
execution after execution until every video is archived and verified.

Goal: every video COMPLETED within three executions, its objects holding exactly the
original's bytes, no object twice, none lost. `make test` runs 50 videos; `make soak`
(the `slow` marker) runs 1,000 and prints the figures."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest

from domain.status import SyncStatus
from sandbox.gopro.library import EmulatedMedia, generate_library
from tests.integration.aws import BUCKET
from tests.integration.workflow import Workflow, ready_videos, workflow

__all__ = ["workflow"]
FAULTS = ("drop", "503", "expired", "kill")
FAULT_SHARE = 0.10
GOAL_EXECUTIONS = 3


@pytest.fixture
def library(request: pytest.FixtureRequest) -> list[EmulatedMedia]:
    videos = getattr(request, "param", 50)
    return generate_library(seed=2026, videos=videos, size_range=(20_000, 200_000))


def plant_faults(workflow: Workflow, seed: int) -> Counter[str]:
    """One fault, of a kind drawn at random, for a tenth of the ready videos' transfers."""
    rng = random.Random(seed)  # noqa: S311 - test data
    ready = sorted(ready_videos(workflow))
    planted: Counter[str] = Counter()
    for media_id in rng.sample(ready, max(1, round(len(ready) * FAULT_SHARE))):
        kind = rng.choice(FAULTS)
        planted[kind] += 1
        if kind == "kill":
            workflow.dispatcher.kills[media_id] = rng.uniform(0.0, 0.05)
        else:
            content_id, _ = workflow.emulator.original_files(media_id)[0]
            workflow.emulator.faults.file_faults[content_id] = kind
    return planted


def sha256(workflow: Workflow, key: str) -> str:
    body = workflow.account.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return hashlib.sha256(body).hexdigest()


def soak(workflow: Workflow) -> int:
    """The executions it took until every video was archived and verified."""
    ready = ready_videos(workflow)
    planted = plant_faults(workflow, seed=len(ready))
    executions = 0
    while executions < GOAL_EXECUTIONS + 2:
        executions += 1
        result = workflow.run(timeout=1_800)
        assert result["status"] == "SUCCEEDED", result
        records = workflow.records()
        if set(records) == ready and all(
            r.status is SyncStatus.COMPLETED for r in records.values()
        ):
            break
    records = workflow.records()
    # Zero loss: every ready video archived, each file once, with the original's bytes.
    assert set(records) == ready
    assert {r.status for r in records.values()} == {SyncStatus.COMPLETED}
    objects = workflow.objects()
    expected_keys = [key for r in records.values() for key in r.object_keys]
    assert len(expected_keys) == len(set(expected_keys))
    assert sorted(objects) == sorted(expected_keys), "an object nobody's record names"
    for media_id, record in records.items():
        files = workflow.emulator.original_files(media_id)
        assert len(record.object_keys) == len(files)
        for key, (content_id, size) in zip(record.object_keys, files, strict=True):
            assert sha256(workflow, key) == workflow.emulator.file_sha256(content_id, size)
    assert workflow.account.open_uploads() == []
    killed = sum(1 for c in workflow.dispatcher.invocations if c.error == "Sandbox.Timedout")
    figures: dict[str, object] = {
        "videos": len(ready),
        "files": len(objects),
        "faults": dict(planted),
        "killed_invocations": killed,
        "executions": executions,
        "duplicates": len(objects) - len(set(objects)),
    }
    print("soak " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return executions


def test_a_faulty_night_leaves_nothing_behind_within_three_executions(
    workflow: Workflow,
) -> None:
    assert soak(workflow) <= GOAL_EXECUTIONS


@pytest.mark.slow
@pytest.mark.parametrize("library", [1_000], indirect=True)
def test_a_1000_video_library_soaks_within_three_executions(workflow: Workflow) -> None:
    assert soak(workflow) <= GOAL_EXECUTIONS
