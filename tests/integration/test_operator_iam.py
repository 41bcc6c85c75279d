"""The policies `cloudsync policy` publishes for a person are enough, and no more than
needed, for the commands they cover: every AWS call the commands make in the sandbox is
judged against the policy the command prints for the sandbox's own resources."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.cli import main
from sandbox.aws_calls import AwsCall, calling_function
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.moto_restore import finish_restores
from sandbox.world import World
from tests.infra.iam import Need, allowed_by, statements
from tests.integration.synced import synced_world


@pytest.fixture
def synced(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[World, GoProEmulator]]:
    with (
        GoProEmulator(generate_library(seed=37, videos=4)) as gopro,
        synced_world(gopro, monkeypatch, capsys, restore_seconds=3600) as world,
    ):
        yield world, gopro


def as_person(role: str, capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    """A command run by a person holding `role`'s policy; its calls are recorded as theirs."""
    token = calling_function.set(f"person:{role}")
    try:
        return main([*argv, "--stack", "dev"])
    finally:
        calling_function.reset(token)
        capsys.readouterr()


def person_needs(call: AwsCall, region: str, account: str) -> list[Need]:  # noqa: PLR0911
    """What the call needs, on the sandbox's own resources."""
    p, op, why = call.parameters, call.operation, f"{call.service}:{call.operation}"
    if call.service == "lambda":
        name = p["FunctionName"]
        return [Need(f"lambda:{op}", f"arn:aws:lambda:{region}:{account}:function:{name}", why)]
    if call.service == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{account}:table/{p['TableName']}"
        return [Need(f"dynamodb:{op}", table, why)]
    if call.service == "s3":
        bucket = f"arn:aws:s3:::{p['Bucket']}"
        if op in ("HeadBucket", "ListObjectsV2"):
            return [Need("s3:ListBucket", bucket, why)]
        action = {"HeadObject": "s3:GetObject", "GetObject": "s3:GetObject",
                  "RestoreObject": "s3:RestoreObject"}[op]  # fmt: skip
        found = [Need(action, f"{bucket}/{p['Key']}", why)]
        if op in ("HeadObject", "GetObject") and call.status == 404:
            found.append(Need("s3:ListBucket", bucket, f"{why} of a missing key answers 404"))
        if op == "GetObject":
            found.append(Need("kms:Decrypt", "the archive key", f"{why} of an SSE-KMS object"))
        return found
    if call.service == "stepfunctions":
        parameter = next(k for k in ("stateMachineArn", "executionArn", "mapRunArn") if k in p)
        return [Need(f"states:{op}", p[parameter], why)]
    if call.service == "cloudwatch" and op == "DescribeAlarms":
        alarms = f"arn:aws:cloudwatch:{region}:{account}:alarm:"
        return [Need("cloudwatch:DescribeAlarms", alarms + n, why) for n in p["AlarmNames"]]
    if call.service == "cloudwatch":
        return [Need(f"cloudwatch:{op}", "*", why)]
    if call.service == "secretsmanager":
        secret = f"arn:aws:secretsmanager:{region}:{account}:secret:{p['SecretId']}-AbCdEf"
        return [Need(f"secretsmanager:{op}", secret, why)]
    raise AssertionError(f"no mapping for {why}: add one here and grant it in infra/policies.py")


def refused(calls: list[AwsCall], role: str, policy: dict[str, Any], key: str) -> list[str]:
    granted = statements(policy)
    found = []
    for call in calls:
        if call.function != f"person:{role}":
            continue
        for need in person_needs(call, "eu-central-1", "123456789012"):
            resource = key if need.resource == "the archive key" else need.resource
            if allowed_by(Need(need.action, resource, need.because), granted) is None:
                found.append(f"{role} may not {need.action} on {resource} ({need.because})")
    return sorted(set(found))


def test_the_published_policies_cover_every_call_of_the_commands_they_name(
    synced: tuple[World, GoProEmulator],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    world, gopro = synced
    for name in ("TRACKER_TABLE", "ARCHIVE_BUCKET", "GOPRO_API_URL"):
        monkeypatch.delenv(name, raising=False)  # found from the stack, as a person would
    policies = {}
    for role in ("operator", "restore"):
        assert main(["policy", role, "--stack", "dev"]) == 0
        policies[role] = json.loads(capsys.readouterr().out)
    # The operator's commands
    assert as_person("operator", capsys, "status", "--json") == 0
    assert as_person("operator", capsys, "runs") == 0
    assert as_person("operator", capsys, "verify") == 0
    assert as_person("operator", capsys, "credentials", "show") == 0
    assert as_person("operator", capsys, "credentials", "test") == 0
    secrets = json.dumps({"access_token": gopro.session_token, "user_id": gopro.user_id})
    monkeypatch.setattr("sys.stdin", io.StringIO(secrets))
    assert as_person("operator", capsys, "credentials", "set", "--from-stdin") == 0
    assert as_person("operator", capsys, "restore", "status", "--catalog") == 0
    assert as_person("operator", capsys, "start", "--follow") == 0
    # The restorer's: request, status, fetch
    bucket = world.environment["ARCHIVE_BUCKET"]
    s3 = world.client("s3")
    for listed in s3.list_objects_v2(Bucket=bucket, Prefix="gopro-videos/")["Contents"]:
        s3.copy_object(Bucket=bucket, Key=listed["Key"], StorageClass="DEEP_ARCHIVE",
                       CopySource={"Bucket": bucket, "Key": listed["Key"]})  # fmt: skip
    assert as_person("restore", capsys, "restore", "--all") == 0
    assert as_person("restore", capsys, "restore", "status") == 3
    finish_restores()
    assert as_person("restore", capsys, "restore", "fetch", "--to", str(tmp_path)) == 0
    assert as_person("restore", capsys, "restore", "fetch", "--urls") == 0

    calls = world.dispatcher.aws.calls
    key = world.environment["ARCHIVE_KMS_KEY"]
    for role, policy in policies.items():
        made = [c for c in calls if c.function == f"person:{role}"]
        assert made, role
        assert refused(calls, role, policy, key) == [], role
    # Least privilege: the operator may not restore, and neither may delete or write videos
    operator = statements(policies["operator"])
    for action in ("s3:RestoreObject", "s3:PutObject", "s3:DeleteObject"):
        need = Need(action, f"arn:aws:s3:::{bucket}/gopro-videos/x.MP4", "a check")
        assert allowed_by(need, operator) is None, action
    restore = statements(policies["restore"])
    for action in ("s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem"):
        assert allowed_by(Need(action, f"arn:aws:s3:::{bucket}/x", "a check"), restore) is None
    for statement in policies["operator"]["Statement"]:
        if statement["Resource"] == ["*"]:  # CloudWatch's metric reads take no resource
            assert statement["Action"] == ["cloudwatch:GetMetricStatistics"], statement
