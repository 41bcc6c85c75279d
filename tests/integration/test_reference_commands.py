"""The reference README's operator commands, typed with the real AWS CLI, work against the
sandbox as against AWS: the secret in its JSON shape, and a manual execution without a
name (AWS names it; so does the sandbox)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.handlers.runtime import reset_container
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.world import World, local_world
from tests.infra.iam import assert_granted

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def aws_cli() -> str:
    """The AWS CLI installed beside this interpreter (the dev extra brings it)."""
    found = Path(sys.executable).with_name("aws")
    if found.exists():
        return str(found)
    on_path = shutil.which("aws")
    assert on_path, "the AWS CLI is not installed: `make install` installs it"
    return on_path


@pytest.fixture
def world() -> Iterator[tuple[World, GoProEmulator]]:
    with (
        GoProEmulator(generate_library(seed=31, videos=4)) as gopro,
        local_world(gopro) as running,
    ):
        reset_container()
        yield running, gopro
        reset_container()
        assert_granted(running.dispatcher.aws.calls, running.environment)


def aws(world: World, *argv: str) -> Any:
    environment = {**os.environ, **world.environment, "AWS_PAGER": ""}
    done = subprocess.run(
        [aws_cli(), *argv, "--output", "json"],
        env=environment, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_the_reference_readmes_secret_and_manual_execution(
    world: tuple[World, GoProEmulator],
) -> None:
    running, gopro = world
    secret = running.secret_name  # the stack creates it, empty: the value is put
    aws(
        running, "secretsmanager", "put-secret-value", "--secret-id", secret,
        "--secret-string", json.dumps({
            "provider": "gopro",
            "client_id": gopro.client_id,
            "client_secret": gopro.client_secret,
            "refresh_token": gopro.refresh_token,
            "user_id": gopro.user_id,
        }),
    )  # fmt: skip
    started = aws(
        running, "stepfunctions", "start-execution",
        "--state-machine-arn", running.state_machine_arn, "--input", '{"provider": "gopro"}',
    )  # fmt: skip
    name = started["executionArn"].rsplit(":", 1)[1]
    assert UUID.fullmatch(name), started
    stepfunctions = running.client("stepfunctions")
    ends = time.monotonic() + 600
    while time.monotonic() < ends:
        described = stepfunctions.describe_execution(executionArn=started["executionArn"])
        if described["status"] != "RUNNING":
            break
        time.sleep(0.2)
    assert described["status"] == "SUCCEEDED", described
    assert described["name"] == name
    assert running.notifications() == []
    records = running.client("dynamodb").scan(TableName=running.table)["Items"]
    assert records
    assert {r["status"]["S"] for r in records} == {"COMPLETED"}
    listed = aws(running, "stepfunctions", "list-executions", "--state-machine-arn",
                 running.state_machine_arn)  # fmt: skip
    assert [e["name"] for e in listed["executions"]] == [name]
