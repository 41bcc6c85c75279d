"""Step Functions' 256 KiB limit on a state's input and output, which moto does not enforce.

Going over it is States.DataLimitExceeded, which no Catch handles: the night would end with
no alert, and since the same videos are pending the next night, it would never finish. So
nothing the execution carries may grow with the library: the ids to sync travel in a run
list in S3, the Map's results go to S3, and the summary is read from the tracker.

The execution history holds every state's input and output; the largest is measured. In
`make test` a library grows between two runs and the largest payload must not; in `make
soak` a library whose ids alone exceed the limit is synced.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.services import FAILED_NAMED, REASON_CHARS
from domain.status import SyncStatus
from entrypoints.handlers import lister
from entrypoints.handlers import summary as run_summary
from sandbox.gopro.library import EmulatedMedia, hex_media_id
from tests.infra.aws_rules import STATE_PAYLOAD_LIMIT
from tests.integration.aws import BUCKET
from tests.integration.workflow import Workflow, ready_videos, workflow

__all__ = ["workflow"]
FAR_BELOW = 8 * 1024
"""What "far below the limit" means here: 1/32 of it."""


def payloads(workflow: Workflow, execution_arn: str) -> list[str]:
    found: list[str] = []
    pages = workflow.stepfunctions.get_paginator("get_execution_history")
    for page in pages.paginate(executionArn=execution_arn):
        for event in page["events"]:
            for details in event.values():
                if isinstance(details, dict):
                    found += [details[k] for k in ("input", "output") if details.get(k)]
    return found


def largest(workflow: Workflow, execution_arn: str) -> int:
    return max(len(p.encode()) for p in payloads(workflow, execution_arn))


def tiny_videos(count: int, seed: int) -> list[EmulatedMedia]:
    """`count` ready videos of a few hundred bytes, each with a 24-hex id (the contract's
    longest)."""
    rng = random.Random(seed)  # noqa: S311 - test data
    start = datetime(2024, 3, 1, tzinfo=UTC)
    return [
        EmulatedMedia(
            id=hex_media_id(rng),
            filename=f"GX{n:06d}.MP4",
            file_extension="MP4",
            type="Video",
            captured_at=start + timedelta(minutes=n),
            created_at=start + timedelta(minutes=n, hours=2),
            size=rng.randrange(200, 800),
        )
        for n in range(count)
    ]


def fail(workflow: Workflow, media_ids: list[str]) -> None:
    """Each of these is served 10 bytes short of what its HEAD says: a failed video."""
    for media_id in media_ids:
        workflow.emulator.faults.head_size_override[media_id] = (
            workflow.emulator.media[media_id].size + 10
        )


def run_list_bytes(workflow: Workflow) -> list[int]:
    listed = workflow.account.s3.list_objects_v2(Bucket=BUCKET, Prefix="runs/")
    return [
        workflow.account.s3.head_object(Bucket=BUCKET, Key=entry["Key"])["ContentLength"]
        for entry in listed.get("Contents", [])
        if entry["Key"].endswith("/to-sync.json")
    ]


def test_the_largest_state_payload_does_not_grow_with_the_library(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failed download is tried again at once (the waits are not what is measured here)
    monkeypatch.setenv("RETRY_BASE_SECONDS", "0.1")
    failing = sorted(ready_videos(workflow))[:2]
    fail(workflow, failing)
    first = workflow.run()
    assert first["status"] == "SUCCEEDED", first
    small = largest(workflow, first["executionArn"])

    grown = tiny_videos(60, seed=1)
    for media in grown:
        workflow.emulator.add(media)
    fail(workflow, [m.id for m in grown[:20]])
    second = workflow.run()
    assert second["status"] == "SUCCEEDED", second
    big = largest(workflow, second["executionArn"])

    # The second run synced 62 videos (60 new, 2 retried), 22 of them failing, against
    # the first's 24 with 2 failing: the old design's largest state grew by 27 bytes an id
    # and again a failed id.
    records = workflow.records()
    assert sum(r.status is SyncStatus.FAILED for r in records.values()) == 22
    summary = json.loads(second["output"])["summary"]
    assert (summary["videos"], summary["failures"], summary["discrepancies"]) == (62, 22, 0)
    # A count's digits, a name, and at most FAILED_NAMED failures named: never an id list
    named = FAILED_NAMED * (REASON_CHARS + 60)
    assert abs(big - small) < 40 + named, (small, big)
    assert len(summary["failed"]) == FAILED_NAMED
    assert big < FAR_BELOW
    print(f"state payload: largest {small} bytes at 24 videos, {big} at 62")


@dataclass
class ShortOfTime:
    """A Lambda context whose time is always under the deadline margin: every listing
    invocation reads one page and hands on its cursor."""

    function_name: str = "media-lister-dev"
    aws_request_id: str = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 1_000


@pytest.mark.slow
def test_a_library_whose_ids_alone_exceed_the_limit_is_listed_and_summarized(
    workflow: Workflow,
) -> None:
    """The lister and the summary at 10,000 videos, one page an invocation. (The whole
    execution at that size, 10,000 child executions, takes hours on moto.)"""
    videos = tiny_videos(10_000, seed=2)
    for media in videos:
        workflow.emulator.add(media)
    ids_alone = len(json.dumps([m.id for m in videos]).encode())
    assert ids_alone > STATE_PAYLOAD_LIMIT
    event: dict[str, Any] = {"provider": "gopro", "correlation_id": "sync-big", "cursor": None}
    answers: list[dict[str, Any]] = []
    while not answers or answers[-1]["status"] == "continue":
        answers.append(lister.handler(event, ShortOfTime()))
        event = {**event, "cursor": answers[-1]["cursor"]}
    done = answers[-1]
    assert done["to_sync"] == len(ready_videos(workflow)) == 10_024
    assert len(answers) > 100  # one page of 100 an invocation
    assert max(len(json.dumps(a)) for a in answers) < FAR_BELOW
    assert run_list_bytes(workflow) == [
        len(json.dumps(sorted(ready_videos(workflow)), separators=(",", ":")))
    ]
    assert run_list_bytes(workflow)[0] > STATE_PAYLOAD_LIMIT
    step: dict[str, Any] = {
        **event, "bucket": done["bucket"], "key": done["key"], "cursor": None
    }  # fmt: skip
    summaries: list[dict[str, Any]] = []
    while not summaries or summaries[-1]["status"] == "continue":
        summaries.append(run_summary.handler(step, ShortOfTime()))
        step = {**step, "cursor": summaries[-1]["cursor"]}
    # 100 records counted an invocation, then the catalog in one of its own; each answer small
    assert len(summaries) == 10_024 // 100 + 2
    assert max(len(json.dumps(a)) for a in summaries) < FAR_BELOW
    last = dict(summaries[-1])
    assert len(last.pop("failed")) == FAILED_NAMED
    assert last == {  # none downloaded yet: nothing in the catalog, nothing to check
        "status": "done", "cursor": None,
        "videos": 10_024, "failures": 10_024, "catalog_rows": 0, "verified": 0, "deferred": 0,
        "discrepancies": 0, "unreadable_records": 0, "report": "none",
        "origin": {"matched": 0, "mismatched": 0, "etags": "unchanged"},
    }  # fmt: skip
    print(
        f"run list {run_list_bytes(workflow)[0]} bytes; largest answer "
        f"{max(len(json.dumps(a)) for a in answers)} bytes in {len(answers)} invocations"
    )
