"""The sandbox is provisioned from the stack's builders: read both back and compare."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.provision import BUCKET
from sandbox.world import World, local_world
from tests.infra.recorder import Recorder, run_program


@pytest.fixture(scope="module")
def stack() -> Recorder:
    return run_program("dev")


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with local_world(gopro_url="http://127.0.0.1:1") as running:
        yield running


def test_the_lifecycle_is_the_stacks(stack: Recorder, world: World) -> None:
    deployed = stack.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    local = world.client("s3").get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    by_id = {rule["ID"]: rule for rule in local}
    for rule in deployed.inputs["rules"]:
        mine = by_id[rule["id"]]
        assert mine["Filter"]["Prefix"] == rule["filter"]["prefix"]
        assert [(t["Days"], t["StorageClass"]) for t in mine.get("Transitions", [])] == [
            (t["days"], t["storageClass"]) for t in rule.get("transitions", [])
        ]
        assert [
            (t["NoncurrentDays"], t["StorageClass"])
            for t in mine.get("NoncurrentVersionTransitions", [])
        ] == [
            (t["noncurrentDays"], t["storageClass"])
            for t in rule.get("noncurrentVersionTransitions", [])
        ]
        if "abortIncompleteMultipartUpload" in rule:
            assert (
                mine["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
                == (rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"])
            )


def test_the_bucket_is_protected_as_the_stacks(world: World) -> None:
    s3 = world.client("s3")
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_functions_table_topic_secret_and_machine_carry_the_stacks_names(
    stack: Recorder, world: World
) -> None:
    deployed = {f.inputs["name"]: f.inputs for f in stack.of_type("aws:lambda/function:Function")}
    local = {f["FunctionName"]: f for f in world.client("lambda").list_functions()["Functions"]}
    assert set(local) == set(deployed)
    for name, function in deployed.items():
        assert local[name]["Handler"] == function["handler"]
        assert local[name]["Timeout"] == function["timeout"]
        assert local[name]["MemorySize"] == function["memorySize"]
    table = stack.one("aws:dynamodb/table:Table").inputs
    assert world.table == table["name"]
    assert world.secret_name == stack.one("aws:secretsmanager/secret:Secret").inputs["name"]
    assert world.topic_arn.endswith(":" + stack.one("aws:sns/topic:Topic").inputs["name"])
    machine = stack.one("aws:sfn/stateMachine:StateMachine").inputs
    assert world.state_machine_arn.endswith(":" + machine["name"])


def test_the_state_machine_is_the_stacks_but_for_retry_intervals(
    stack: Recorder, world: World
) -> None:
    deployed = json.loads(stack.one("aws:sfn/stateMachine:StateMachine").inputs["definition"])
    described = world.client("stepfunctions").describe_state_machine(
        stateMachineArn=world.state_machine_arn
    )
    local = json.loads(described["definition"])

    def shape(definition: dict[str, Any]) -> Any:
        text = json.dumps(definition, sort_keys=True)
        for arn_part in ("arn:aws:lambda", "arn:aws:sns"):
            text = text.replace(arn_part, "ARN")
        loaded = json.loads(text)
        for state in loaded["States"].values():
            for retry in state.get("Retry", []):
                retry.pop("IntervalSeconds")
        return {name: state["Type"] for name, state in loaded["States"].items()}, loaded["StartAt"]

    assert shape(local) == shape(deployed)
    local_download = local["States"]["DownloadVideos"]
    assert (
        local_download["MaxConcurrency"] == deployed["States"]["DownloadVideos"]["MaxConcurrency"]
    )
