"""`cloudsync verify` against the local world after a real sync: it passes, then each kind
of damage is reported exactly once, with the requests it took."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from entrypoints.cli import main
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.world import World
from tests.integration.synced import synced_world


@pytest.fixture(scope="module")
def gopro() -> Iterator[GoProEmulator]:
    with GoProEmulator(generate_library(seed=7, videos=6)) as emulator:
        yield emulator


@pytest.fixture
def synced(
    gopro: GoProEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    with synced_world(gopro, monkeypatch, capsys) as world:
        yield world


def run_verify(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["verify", "--stack", "dev", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def completed(world: World) -> list[dict[str, Any]]:
    items = world.client("dynamodb").scan(TableName=world.table)["Items"]
    return [i for i in items if i["status"]["S"] == "COMPLETED"]


def test_verify_passes_after_a_sync_and_reports_each_damage_once(
    synced: World, gopro: GoProEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fresh archive passes, with one HeadObject per archived object and nothing else
    code, report = run_verify(capsys, "--source")
    assert code == 0, report
    assert report["discrepancies"] == []
    assert report["records"] >= 4
    assert report["requests"]["head_object"] == report["objects_expected"]
    assert report["objects_in_bucket"] == report["objects_expected"]
    assert report["source_listed"] == len(gopro.ordered_media())

    # Damage of each kind
    s3, dynamodb = synced.client("s3"), synced.client("dynamodb")
    bucket = synced.environment["ARCHIVE_BUCKET"]
    # Videos of one file each (a chaptered one's checksums are per chapter)
    records = sorted(
        (i for i in completed(synced) if "chapters" not in i), key=lambda i: i["media_id"]["S"]
    )
    deleted, altered, gone = records[0], records[1], records[2]
    s3.delete_object(Bucket=bucket, Key=deleted["object_key"]["S"])
    dynamodb.update_item(
        TableName=synced.table,
        Key={"media_id": altered["media_id"]},
        UpdateExpression="SET checksum = :c",
        ExpressionAttributeValues={":c": {"S": "AAAAAA=="}},
    )
    stray = "gopro-videos/2024/01/left-by-hand.MP4"
    s3.put_object(Bucket=bucket, Key=stray, Body=b"not a video")
    gopro.faults.unlisted.add(gone["media_id"]["S"])
    try:
        code, report = run_verify(capsys, "--source")
    finally:
        gopro.faults.unlisted.clear()
    assert code == 1
    found = sorted((d["finding"], d["media_id"], d["key"]) for d in report["discrepancies"])
    assert found == sorted(
        [
            ("missing", deleted["media_id"]["S"], deleted["object_key"]["S"]),
            ("checksum_differs", altered["media_id"]["S"], altered["object_key"]["S"]),
            ("unclaimed", None, stray),
            ("only_copy", gone["media_id"]["S"], gone["object_key"]["S"]),
        ]
    )
    # The deleted object was known missing from the listing: no HeadObject for it
    assert report["requests"]["head_object"] == report["objects_expected"] - 1

    # The plain output: one line per discrepancy, then the summary
    assert main(["verify", "--stack", "dev"]) == 1
    out = capsys.readouterr()
    assert out.err == ""  # no progress bar, nor its blank line, where stderr is no terminal
    lines = out.out.strip().splitlines()
    assert len(lines) == 4  # without --source: no only_copy
    assert lines[-1].startswith("3 discrepancies (0 notes)")
    assert any(line.startswith("unclaimed: " + stray) for line in lines)


def test_a_wrong_bucket_is_one_line_saying_it_does_not_exist(
    synced: World, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["verify"], ["restore", "status"], ["restore", "fetch", "--urls"]):
        assert main([*argv, "--stack", "dev", "--bucket", "no-such-bucket-1"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith("cloudsync: error: S3 "), err
        assert "s3://no-such-bucket-1" in err[0]
        assert "does not exist" in err[0]


def test_without_aws_credentials_is_one_line_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    for name in ("ARCHIVE_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["verify", "--stack", "dev"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "no AWS credentials found" in err[0]
    assert "AWS_PROFILE" in err[0]
