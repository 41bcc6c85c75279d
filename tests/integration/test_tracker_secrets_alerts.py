"""DynamoDB tracker, Secrets Manager credential store, SNS alerts and metrics, against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.stub import Stubber

from adapters.aws.dynamodb_tracker import DynamoDbSyncTracker, TrackerSettings
from adapters.aws.metrics import CloudWatchApiMetrics, EmfMetrics
from adapters.aws.records import record_to_item
from adapters.aws.secrets_store import SecretsManagerCredentialStore
from domain.credentials import OAuthCredentials, SessionCredentials
from domain.errors import (
    ConcurrentUpdateError,
    CredentialsMissingError,
    IllegalTransitionError,
    InvalidSettingError,
    StorageError,
    UnreadableRecordError,
)
from domain.model import StoredChapter, StoredObject, SyncRecord, UploadCheckpoint
from domain.status import SyncStatus
from domain.verification import crc32_of
from tests.fakes import EPOCH, make_item
from tests.integration.aws import REGION, TABLE, Account

LEASE = timedelta(minutes=20)


def test_records_round_trip_with_every_field(account: Account) -> None:
    tracker = account.tracker()
    record = SyncRecord.discovered(make_item("m1", filename="Zürich 🎿.MP4"), EPOCH)
    tracker.create(record)
    assert tracker.get("m1") == record
    claimed = record.claim("w", EPOCH, LEASE)
    tracker.replace(record, claimed)
    paused = claimed.pause("w", EPOCH, LEASE, UploadCheckpoint("k", "u1", 3, 150, 987654321))
    tracker.replace(claimed, paused)
    assert tracker.get("m1") == paused
    stored = StoredObject("gopro-videos/2026/01/x.MP4", 100, crc32_of(b"x"), "m1")
    done = paused.complete("w", EPOCH, stored)
    tracker.replace(paused, done)
    assert tracker.get("m1") == done
    item = account.dynamodb.get_item(TableName=TABLE, Key={"media_id": {"S": "m1"}})["Item"]
    assert item["provider"] == {"S": "gopro"}
    assert item["status"] == {"S": "COMPLETED"}
    assert "ttl" not in item


def test_a_chaptered_record_round_trips_its_chapters(account: Account) -> None:
    tracker = account.tracker()
    record = SyncRecord.discovered(make_item("c1", filename="GX010001.MP4"), EPOCH)
    tracker.create(record)
    claimed = record.claim("w", EPOCH, LEASE)
    tracker.replace(record, claimed)
    first = StoredChapter(1, "gopro-videos/2026/01/GX010001.MP4", 60, crc32_of(b"a"))
    one = claimed.chapter_stored("w", EPOCH, LEASE, first)
    tracker.replace(claimed, one)
    assert tracker.get("c1") == one
    last = StoredObject("gopro-videos/2026/01/GX020001.MP4", 40, None, "c1")
    done = one.complete("w", EPOCH, last)
    tracker.replace(one, done)
    read = tracker.get("c1")
    assert read == done
    assert read is not None
    assert read.object_keys == (first.key, last.key)
    assert (read.object_key, read.stored_size, read.checksum) == (first.key, 100, first.checksum)


def test_a_second_create_and_a_stale_write_are_refused(account: Account) -> None:
    tracker = account.tracker()
    record = SyncRecord.discovered(make_item("m1"), EPOCH)
    tracker.create(record)
    with pytest.raises(ConcurrentUpdateError):
        tracker.create(SyncRecord.discovered(make_item("m1"), EPOCH))
    first = record.claim("w1", EPOCH, LEASE)
    tracker.replace(record, first)
    with pytest.raises(ConcurrentUpdateError):  # w2 read the record before w1 claimed it
        tracker.replace(record, record.claim("w2", EPOCH, LEASE))
    assert tracker.get("m1") == first


def test_an_illegal_transition_is_refused_before_writing(account: Account) -> None:
    tracker = account.tracker()
    record = SyncRecord.discovered(make_item("m1"), EPOCH)
    tracker.create(record)
    done = record.claim("w", EPOCH, LEASE).complete("w", EPOCH, StoredObject("k", 1, None, "m1"))
    forged = SyncRecord(record.item, SyncStatus.COMPLETED, 2, EPOCH, object_key="k")
    with pytest.raises(IllegalTransitionError):
        tracker.replace(record, forged)
    assert done.status is SyncStatus.COMPLETED
    assert tracker.get("m1") == record


def test_get_many_reads_in_batches_of_100(account: Account) -> None:
    tracker = account.tracker()
    for number in range(250):
        tracker.create(SyncRecord.discovered(make_item(f"m{number}"), EPOCH))
    asked = [f"m{n}" for n in range(0, 300, 2)] + ["m0"]
    found = tracker.get_many(asked)
    assert set(found) == {f"m{n}" for n in range(0, 250, 2)}


def test_an_unreadable_record_is_passed_over_and_named_never_a_stop(account: Account) -> None:
    tracker = account.tracker()
    done = {}
    for name in ("m0", "m1", "m2"):
        record = SyncRecord.discovered(make_item(name), EPOCH)
        tracker.create(record)
        claimed = record.claim("w", EPOCH, LEASE)
        tracker.replace(record, claimed)
        stored = StoredObject(f"gopro-videos/2026/01/{name}.MP4", 1, crc32_of(b"x"), name)
        done[name] = claimed.complete("w", EPOCH, stored)
        tracker.replace(claimed, done[name])
    # Given one record holds an impossible date
    account.dynamodb.update_item(
        TableName=TABLE,
        Key={"media_id": {"S": "m1"}},
        UpdateExpression="SET uploaded_at = :impossible",
        ExpressionAttributeValues={":impossible": {"S": "2024-02-30T10:00:00+00:00"}},
    )
    # Then a batch read and the scan skip it and say which and why
    assert set(tracker.get_many(["m0", "m1", "m2"])) == {"m0", "m2"}
    assert tracker.unreadable() == {"m1": "'uploaded_at' is not an ISO 8601 time"}
    assert sorted(r.media_id for r in tracker.completed("gopro")) == ["m0", "m2"]
    assert set(tracker.unreadable()) == {"m1"}
    assert tracker.get_many(["m0"]) == {"m0": done["m0"]}
    assert tracker.unreadable() == {}  # of the last read only
    with pytest.raises(UnreadableRecordError, match=r"m1.*uploaded_at"):
        tracker.get("m1")


def stubbed_tracker(responses: list[dict[str, Any]]) -> tuple[DynamoDbSyncTracker, list[float]]:
    client = boto3.client(
        "dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    for response in responses:
        stubber.add_response("batch_get_item", response)
    stubber.activate()
    waits: list[float] = []
    return DynamoDbSyncTracker(client, TrackerSettings(TABLE, 3, 0.5, waits.append)), waits


def item_of(media_id: str) -> dict[str, Any]:

    serializer = TypeSerializer()
    record = SyncRecord.discovered(make_item(media_id), EPOCH)
    return {k: serializer.serialize(v) for k, v in record_to_item(record).items()}


def test_unprocessed_keys_are_asked_for_again() -> None:
    left = {TABLE: {"Keys": [{"media_id": {"S": "b"}}], "ConsistentRead": True}}
    tracker, waits = stubbed_tracker(
        [
            {"Responses": {TABLE: [item_of("a")]}, "UnprocessedKeys": left},
            {"Responses": {TABLE: [item_of("b")]}, "UnprocessedKeys": {}},
        ]
    )
    assert set(tracker.get_many(["a", "b"])) == {"a", "b"}
    assert waits == [0.5]


def test_keys_that_stay_unprocessed_end_in_a_clear_error() -> None:
    left = {TABLE: {"Keys": [{"media_id": {"S": "b"}}], "ConsistentRead": True}}
    tracker, waits = stubbed_tracker(
        [{"Responses": {TABLE: []}, "UnprocessedKeys": left} for _ in range(3)]
    )
    with pytest.raises(StorageError, match="1 keys unprocessed after 3 tries"):
        tracker.get_many(["b"])
    assert waits == [0.5, 1.0, 2.0]


def test_credentials_round_trip_through_the_secret(account: Account) -> None:
    store = SecretsManagerCredentialStore(account.secrets)
    with pytest.raises(CredentialsMissingError, match="gopro/credentials"):
        store.load("gopro")
    account.secrets.create_secret(
        Name="gopro/credentials",
        SecretString=json.dumps(
            {
                "provider": "gopro",
                "client_id": "c",
                "client_secret": "s3cr3t-value",
                "refresh_token": "r3fr3sh-value",
                "user_id": "u1",
            }
        ),
    )
    loaded = store.load("gopro")
    assert isinstance(loaded, OAuthCredentials)
    assert (loaded.client_id, loaded.user_id, loaded.access_token) == ("c", "u1", None)
    refreshed = OAuthCredentials(
        "c", "s3cr3t-value", "r3fr3sh-2", "acc3ss", EPOCH + timedelta(days=1), "u1", EPOCH
    )
    version = store.save("gopro", refreshed)
    assert version
    assert store.load("gopro") == refreshed
    store.save("gopro", SessionCredentials("br0wser-token", "u2"))
    assert store.load("gopro") == SessionCredentials("br0wser-token", "u2")


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "is not JSON"),
        ("[]", "is not a JSON object"),
        ('{"access_token": "t0ken-value"}', "field user_id"),
        ('{"refresh_token": "r", "client_id": "c"}', "field client_secret"),
        ('{"refresh_token": "r", "client_id": "c", "client_secret": 5}', "field client_secret"),
        (
            '{"refresh_token": "r", "client_id": "c", "client_secret": "s", "expires_at": "soon"}',
            "field expires_at",
        ),
    ],
)
def test_a_malformed_secret_names_the_field_not_the_value(
    account: Account, secret: str, message: str
) -> None:
    account.secrets.create_secret(Name="gopro/credentials", SecretString=secret)
    with pytest.raises(InvalidSettingError, match=message) as caught:
        SecretsManagerCredentialStore(account.secrets).load("gopro")
    assert "t0ken-value" not in str(caught.value)


def test_alerts_reach_the_topic_with_a_valid_subject(account: Account) -> None:
    account.notifier().alert("cloud-sync: gopro video Zürich 🎿 failed\nverification", "body")
    (notification,) = account.alerts()
    assert notification["Subject"] == "cloud-sync: gopro video Z?rich ? failed?verification"
    assert notification["Message"] == "body"


def test_emf_lines_carry_the_four_metrics() -> None:
    lines: list[str] = []
    metrics = EmfMetrics(write=lines.append)
    metrics.video_synced("gopro", 4096)
    metrics.sync_failed("gopro", "VerificationFailedError")
    metrics.items_skipped("gopro", "unreadable", 3)
    records = [json.loads(line) for line in lines]
    by_name = {r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: r for r in records}
    assert by_name["VideosSynced"]["VideosSynced"] == 1
    assert by_name["BytesTransferred"]["BytesTransferred"] == 4096
    failure = by_name["SyncFailures"]
    assert failure["SyncFailures"] == 1
    assert failure["ErrorType"] == "VerificationFailedError"
    assert failure["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Provider"],
        ["Provider", "ErrorType"],
    ]
    skipped = by_name["ItemsSkipped"]
    assert (skipped["ItemsSkipped"], skipped["Reason"]) == (3, "unreadable")
    assert skipped["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Provider"],
        ["Provider", "Reason"],
    ]
    assert by_name["VideosSynced"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Provider"]]
    assert all(r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CloudSync" for r in records)


def test_put_metric_data_publishes_the_same_metrics(account: Account) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    metrics = CloudWatchApiMetrics(cloudwatch)
    metrics.video_synced("gopro", 4096)
    metrics.sync_failed("gopro", "TransientSourceError")
    metrics.items_skipped("gopro", "not_ready", 2)
    listed = cloudwatch.list_metrics(Namespace="CloudSync")["Metrics"]
    seen = {
        (m["MetricName"], tuple(sorted(d["Name"] for d in m.get("Dimensions", [])))) for m in listed
    }
    assert ("VideosSynced", ("Provider",)) in seen
    assert ("BytesTransferred", ("Provider",)) in seen
    assert ("SyncFailures", ("ErrorType", "Provider")) in seen
    assert ("SyncFailures", ("Provider",)) in seen
    assert ("ItemsSkipped", ("Provider", "Reason")) in seen
    assert ("ItemsSkipped", ("Provider",)) in seen


def test_times_keep_their_zone_through_the_tracker(account: Account) -> None:
    tracker = account.tracker()
    shot = datetime(2020, 4, 6, 15, 51, 32, tzinfo=UTC)
    record = SyncRecord.discovered(make_item("m9", captured_at=shot), EPOCH)
    tracker.create(record)
    loaded = tracker.get("m9")
    assert loaded is not None
    assert loaded.item.captured_at == shot
    assert loaded.item.captured_at.utcoffset() == timedelta(0)
