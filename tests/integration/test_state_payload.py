"""Step Functions' 256 KiB limit on a state's input and output, which moto does not enforce.

The workflow runs on moto; its execution history holds every state's input and output. The
largest is measured, then scaled: every list in it as long as the library becomes a list of
R10.2's 1,000 videos, each the longest id the contract knows (24 characters), each failed
(a failed video's result is its id, a completed one's is "ok"). Going over the limit is
States.DataLimitExceeded, which no Catch handles: the night would end with no alert.
"""

from __future__ import annotations

import json
from typing import Any

from tests.infra.aws_rules import STATE_PAYLOAD_LIMIT
from tests.integration.workflow import Workflow, ready_videos, workflow

__all__ = ["workflow"]
R10_2_VIDEOS = 1_000
LONGEST_ID = 24


def payloads(workflow: Workflow, execution_arn: str) -> list[str]:
    found: list[str] = []
    pages = workflow.stepfunctions.get_paginator("get_execution_history")
    for page in pages.paginate(executionArn=execution_arn):
        for event in page["events"]:
            for details in event.values():
                if isinstance(details, dict):
                    found += [details[k] for k in ("input", "output") if details.get(k)]
    return found


def scaled(document: Any, library: int, videos: int) -> Any:
    """`document` with every list as long as the library grown to `videos` failed ids."""
    if isinstance(document, dict):
        return {k: scaled(v, library, videos) for k, v in document.items()}
    if isinstance(document, list):
        if len(document) == library:
            return [f"{n:0{LONGEST_ID}x}" for n in range(videos)]
        return [scaled(v, library, videos) for v in document]
    return document


def size(document: Any) -> int:
    return len(json.dumps(document, ensure_ascii=False).encode())


def test_no_state_payload_reaches_the_limit_for_r10_2s_thousand_videos(workflow: Workflow) -> None:
    ready = sorted(ready_videos(workflow))
    for media_id in ready[:2]:
        workflow.emulator.faults.head_size_override[media_id] = (
            workflow.emulator.media[media_id].size + 10
        )
    result = workflow.run()
    assert result["status"] == "SUCCEEDED", result
    measured = payloads(workflow, result["executionArn"])
    largest = max(measured, key=len)
    assert len(largest.encode()) < STATE_PAYLOAD_LIMIT
    document = json.loads(largest)
    at_r10_2 = size(scaled(document, len(ready), R10_2_VIDEOS))
    assert at_r10_2 > size(document)  # the state does grow with the library…
    assert at_r10_2 < STATE_PAYLOAD_LIMIT, f"{at_r10_2} bytes for {R10_2_VIDEOS} videos"
    per_video = (at_r10_2 - size(scaled(document, len(ready), 0))) / R10_2_VIDEOS
    capacity = int((STATE_PAYLOAD_LIMIT - size(scaled(document, len(ready), 0))) / per_video)
    print(
        f"state payload: {at_r10_2} bytes at {R10_2_VIDEOS} videos; limit reached near {capacity}"
    )
    assert capacity > R10_2_VIDEOS
