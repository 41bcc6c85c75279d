"""The state machine on AWS's time: every invocation's clock charged with the latencies of
sandbox.latency, and stopped at its function's timeout as Lambda stops it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.audit import in_tonights_slice
from sandbox.gopro.library import EmulatedMedia, plain_library
from sandbox.lambda_dispatch import KILLED_ERROR
from sandbox.latency import TYPICAL, Latency
from tests.integration.workflow import Workflow, workflow

__all__ = ["workflow"]
LISTER = "media-lister-dev"
SUMMARY = "run-summary-dev"
VIDEOS = 150


@pytest.fixture
def library() -> list[EmulatedMedia]:
    return plain_library(VIDEOS, start=datetime(2021, 3, 1, tzinfo=UTC), size=1500, prefix="t")


def test_a_first_night_and_a_quiet_night_keep_every_invocation_inside_its_timeout(
    workflow: Workflow,
) -> None:
    # When a library is archived on its first night, and the next night finds nothing new
    first = workflow.run(timeout=600)
    second = workflow.run(timeout=600)
    # Then both succeed, every video archived once, with no alert
    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert len(workflow.objects()) == VIDEOS
    assert workflow.account.alerts() == []
    # And every invocation ran on its modeled clock, none past its function's timeout
    invocations = workflow.dispatcher.invocations
    assert len(invocations) > VIDEOS
    for invocation in invocations:
        assert invocation.modeled_seconds is not None
        assert 0 < invocation.modeled_seconds <= invocation.timeout, invocation.function_name
        assert invocation.error is None
    # And the first night describes none of its new objects (each was read back when
    # stored), the quiet night describes the day's slice of them
    summaries = [
        i.result
        for i in invocations
        if i.function_name == SUMMARY and "catalog_rows" in (i.result or {})
    ]
    night = datetime.now(UTC).toordinal()
    sliced = sum(in_tonights_slice(f"t{n:09d}", night) for n in range(VIDEOS))
    assert [s["verified"] for s in summaries] == [0, sliced]
    # And AWS's time was charged: a download made requests that cost tens of milliseconds
    download = next(i for i in invocations if i.function_name.startswith("video-downloader"))
    assert download.calls >= 5
    assert download.modeled_seconds is not None
    assert download.modeled_seconds >= 0.1


def test_an_invocation_whose_clock_passes_its_timeout_is_stopped_there(
    workflow: Workflow,
) -> None:
    # Given each BatchGetItem takes 200 s, so the listing's second one passes 300 s
    slow = Latency(200.0, "test: a DynamoDB that answers in minutes")
    workflow.dispatcher.model = replace(
        TYPICAL, calls={**TYPICAL.calls, "dynamodb.BatchGetItem": slow}
    )
    # When the nightly runs
    result = workflow.run(timeout=600)
    # Then every listing was stopped at its timeout, as Lambda stops one, and retried
    listings = workflow.dispatcher.calls(LISTER)
    assert [i.error for i in listings] == [KILLED_ERROR] * 4
    for invocation in listings:
        assert invocation.modeled_seconds is not None
        assert invocation.modeled_seconds > 300
    # And nothing was downloaded; the run failed with an alert naming the timeout
    assert result["status"] == "FAILED"
    assert workflow.objects() == []
    alerts = workflow.account.alerts()
    assert len(alerts) == 1, alerts
    assert KILLED_ERROR in alerts[0]["Message"]
