"""Executions in the sandbox as AWS shows them (sandbox/moto_executions.py)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest

from entrypoints.handlers.runtime import reset_container
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.world import World, local_world

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def world() -> Iterator[World]:
    with (
        GoProEmulator(generate_library(seed=41, videos=2)) as gopro,
        local_world(gopro) as running,
    ):
        reset_container()
        yield running
        reset_container()


def test_an_unnamed_execution_gets_a_uuid_and_map_runs_list_empty_before_the_map(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    stepfunctions = world.client("stepfunctions")
    with caplog.at_level(logging.ERROR):
        started = stepfunctions.start_execution(
            stateMachineArn=world.state_machine_arn, input=json.dumps({"provider": "gopro"})
        )
        # At once, before the execution's interpreter has reached its Map
        runs = stepfunctions.list_map_runs(executionArn=started["executionArn"])["mapRuns"]
    assert runs == []
    name = started["executionArn"].rsplit(":", 1)[1]
    assert UUID.fullmatch(name)
    assert stepfunctions.describe_execution(executionArn=started["executionArn"])["name"] == name
    assert [r.getMessage() for r in caplog.records if r.name.startswith("werkzeug")] == []
