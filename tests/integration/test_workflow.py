"""The real state machine definition, run on moto's interpreter with the real handlers."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime

import pytest

from domain.audit import in_tonights_slice
from domain.catalog import CatalogRow, parse
from domain.status import SyncStatus
from entrypoints.handlers.runtime import reset_container
from sandbox.age import age
from sandbox.gopro.library import EmulatedMedia
from sandbox.lambda_dispatch import MotoChangedError, check_moto
from sandbox.moto_restore import finish_restores
from sandbox.moto_restore import install as install_restores
from tests.integration.aws import BUCKET
from tests.integration.workflow import Workflow, ready_videos, short_deadlines, workflow

__all__ = ["short_deadlines", "workflow"]
DOWNLOADER = "video-downloader-dev"
AUTHENTICATOR = "media-authenticator-dev"
LISTER = "media-lister-dev"


def test_a_library_is_archived_five_at_a_time_and_a_second_run_downloads_nothing(
    workflow: Workflow,
) -> None:
    ready = ready_videos(workflow)
    assert len(ready) >= 20
    workflow.emulator.faults.throughput_bytes_per_second = 4_000_000  # transfers overlap
    result = workflow.run()
    assert result["status"] == "SUCCEEDED", result
    records = workflow.records()
    assert set(records) == ready
    assert {r.status for r in records.values()} == {SyncStatus.COMPLETED}
    # one object per file: a video's one, or each chapter of a chaptered recording
    files = sum(len(workflow.emulator.original_files(m)) for m in ready)
    assert files > len(ready)
    assert len(workflow.objects()) == files
    assert 1 < workflow.dispatcher.most_at_once[DOWNLOADER] <= 5
    assert workflow.account.alerts() == []
    for call in workflow.dispatcher.invocations:  # no secret in any event or result
        assert workflow.emulator.session_token not in repr(call.event)
        assert workflow.emulator.session_token not in repr(call.result)
    history = workflow.stepfunctions.get_execution_history(executionArn=result["executionArn"])
    assert len(history["events"]) > 5
    assert workflow.emulator.session_token not in repr(history)
    downloads = len(workflow.dispatcher.calls(DOWNLOADER))

    again = workflow.run()
    assert again["status"] == "SUCCEEDED"
    assert len(workflow.dispatcher.calls(DOWNLOADER)) == downloads
    assert len(workflow.objects()) == files


def assert_catalog_matches_bucket(workflow: Workflow) -> list[CatalogRow]:
    """The run's catalog lists every object under the archive prefix, each with the size
    and CRC32 S3 holds; a row the bucket does not hold is marked missing."""
    s3 = workflow.account.s3
    body = s3.get_object(Bucket=BUCKET, Key="catalog/gopro.csv")["Body"].read()
    catalog = parse(body.decode("utf-8"))
    held = [row for row in catalog if row.problem is None]
    assert sorted(row.key for row in held) == sorted(workflow.objects())
    assert {row.problem for row in catalog if row not in held} <= {"missing"}
    for row in held:
        head = s3.head_object(Bucket=BUCKET, Key=row.key, ChecksumMode="ENABLED")
        assert (head["ContentLength"], head.get("ChecksumCRC32")) == (row.size_bytes, row.checksum)
    return catalog


def test_two_failing_videos_leave_the_rest_archived_and_raise_one_partial_alert(
    workflow: Workflow,
) -> None:
    ready = sorted(ready_videos(workflow))
    broken = ready[:2]
    # GoPro serves them with an ETag their bytes do not give: not what its origin holds
    workflow.emulator.faults.wrong_etags.update(broken)
    result = workflow.run()
    assert result["status"] == "SUCCEEDED", result
    records = workflow.records()
    assert {m for m, r in records.items() if r.status is SyncStatus.FAILED} == set(broken)
    assert {m for m, r in records.items() if r.status is SyncStatus.COMPLETED} == set(ready) - set(
        broken
    )
    alerts = workflow.account.alerts()
    partial = [a for a in alerts if a["Subject"] == "cloud-sync: some videos failed"]
    assert len(partial) == 1
    assert partial[0]["Message"].startswith(f"2 of {len(ready)} videos failed")
    assert sum("failed verification" in a["Subject"] for a in alerts) == 2
    assert all("OriginMismatchError" in (records[m].error or "") for m in broken)
    catalog = assert_catalog_matches_bucket(workflow)
    assert {row.media_id for row in catalog} == set(ready) - set(broken)

    # The next execution retries the FAILED videos (R8.5), and the catalog takes them in
    workflow.emulator.faults.wrong_etags.clear()
    assert workflow.run()["status"] == "SUCCEEDED"
    assert {r.status for r in workflow.records().values()} == {SyncStatus.COMPLETED}
    assert {row.media_id for row in assert_catalog_matches_bucket(workflow)} == set(ready)
    assert [a["Subject"] for a in workflow.account.alerts()] == []


def test_the_nightly_check_alerts_on_an_object_gone_from_tonights_slice(
    workflow: Workflow,
) -> None:
    night = datetime.now(UTC).toordinal()  # the lister's clock names the night's slice
    media_id = next(
        f"slice{n:04d}" for n in range(1000) if in_tonights_slice(f"slice{n:04d}", night)
    )
    when = datetime(2024, 5, 1, tzinfo=UTC)
    workflow.emulator.add(EmulatedMedia(media_id, "S.MP4", "MP4", "Video", when, when, 40_000))
    assert workflow.run()["status"] == "SUCCEEDED"
    assert workflow.account.alerts() == []
    key = workflow.records()[media_id].object_key
    workflow.account.s3.delete_object(Bucket=BUCKET, Key=key)

    assert workflow.run()["status"] == "SUCCEEDED"  # nothing new tonight: the slice is checked
    (alert,) = workflow.account.alerts()
    assert alert["Subject"] == "cloud-sync: the archive differs from its records"
    assert f"missing: {media_id} {key}: the record says archived; no object" in alert["Message"]
    marked = {row.key: row.problem for row in assert_catalog_matches_bucket(workflow)}
    assert marked[key] == "missing"  # kept, and marked


def test_rejected_credentials_alert_and_fail_without_downloading(workflow: Workflow) -> None:
    workflow.emulator.faults.reject_tokens = True
    result = workflow.run()
    assert result["status"] == "FAILED"
    (alert,) = workflow.account.alerts()
    assert alert["Subject"] == "cloud-sync: sync failed"
    assert "CredentialsRejectedError" in alert["Message"]
    assert "gp_access_token" in alert["Message"]  # says how to fix it
    assert len(workflow.dispatcher.calls(AUTHENTICATOR)) == 1  # not retried
    assert workflow.dispatcher.calls(LISTER) == []
    assert workflow.objects() == []


def test_a_transient_function_error_is_retried(workflow: Workflow) -> None:
    workflow.emulator.faults.server_errors_next = 4  # one authenticator invocation's worth
    result = workflow.run()
    assert result["status"] == "SUCCEEDED", result
    calls = workflow.dispatcher.calls(AUTHENTICATOR)
    assert [call.error for call in calls] == ["TransientSourceError", None]


def test_a_failed_download_waits_and_tries_again(workflow: Workflow) -> None:
    workflow.emulator.media.clear()
    when = datetime(2024, 3, 1, tzinfo=UTC)
    workflow.emulator.add(EmulatedMedia("flaky01", "F.MP4", "MP4", "Video", when, when, 50_000))
    workflow.emulator.faults.drop_after_bytes = 0  # every file response breaks at once
    workflow.emulator.faults.drops_left = 7  # more than one invocation's six tries
    result = workflow.run()
    assert result["status"] == "SUCCEEDED", result
    calls = workflow.dispatcher.calls(DOWNLOADER)
    assert [c.result["status"] for c in calls] == ["failed", "completed"]
    assert calls[0].result["retry"] is True
    assert calls[0].result["retry_after_seconds"] == 1
    assert calls[1].event["attempt"] == 1
    record = workflow.records()["flaky01"]
    assert record.status is SyncStatus.COMPLETED
    assert record.retry_count == 1
    assert [row.media_id for row in assert_catalog_matches_bucket(workflow)] == ["flaky01"]


def test_a_long_transfer_completes_through_continue_loops(
    short_deadlines: None, workflow: Workflow
) -> None:
    workflow.emulator.media.clear()
    when = datetime(2024, 3, 1, tzinfo=UTC)
    size = 17 * (1 << 20) + 5
    workflow.emulator.add(EmulatedMedia("long001", "L.MP4", "MP4", "Video", when, when, size))
    result = workflow.run()
    assert result["status"] == "SUCCEEDED", result
    statuses = [c.result["status"] for c in workflow.dispatcher.calls(DOWNLOADER)]
    assert statuses == ["continue", "continue", "continue", "completed"]
    record = workflow.records()["long001"]
    assert record.status is SyncStatus.COMPLETED
    body = workflow.account.s3.get_object(Bucket=BUCKET, Key=record.object_key or "")["Body"]
    assert hashlib.sha256(body.read()).hexdigest() == workflow.emulator.original_sha256("long001")


def test_the_lambda_shim_matches_the_moto_in_use() -> None:
    check_moto()  # raises MotoChangedError, naming both versions, when moto changes
    assert issubclass(MotoChangedError, RuntimeError)


def test_a_run_started_while_another_holds_the_library_ends_at_once_as_skipped(
    workflow: Workflow,
) -> None:
    # Given a run in progress (the nightly one, say) and a second started under it
    start = workflow.stepfunctions.start_execution
    first = start(stateMachineArn=workflow.state_machine_arn, name="sync-first",
                  input=json.dumps({"provider": "gopro"}))["executionArn"]  # fmt: skip
    second = start(stateMachineArn=workflow.state_machine_arn, name="sync-second",
                   input=json.dumps({"provider": "gopro"}))["executionArn"]  # fmt: skip
    ends = time.monotonic() + 120
    statuses: dict[str, str] = {}
    while time.monotonic() < ends and len(statuses) < 2:
        for arn in (first, second):
            described = workflow.stepfunctions.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                statuses[arn] = described["status"]
        time.sleep(0.05)
    # Then both end well, the second without listing or downloading anything
    assert statuses == {first: "SUCCEEDED", second: "SUCCEEDED"}
    events = workflow.stepfunctions.get_execution_history(executionArn=second)["events"]
    entered = [e["stateEnteredEventDetails"] for e in events if "stateEnteredEventDetails" in e]
    assert [e["name"] for e in entered] == [
        "Authenticate", "StartListing", "List", "Listed", "Skipped",
    ]  # fmt: skip
    skipped = json.loads(entered[-1]["input"])["listing"]
    assert (skipped["status"], skipped["held_by"]) == ("skipped", "sync-first")
    # The first archived the library; no alert for the skipped one
    assert {r.status for r in workflow.records().values()} == {SyncStatus.COMPLETED}
    assert workflow.account.alerts() == []


def test_thumbnails_are_kept_beside_the_archive_and_a_failed_one_comes_a_night_later(
    workflow: Workflow,
) -> None:
    # Given a library whose one video's thumbnail fails tonight
    ready = ready_videos(workflow)
    failing = sorted(ready)[0]
    workflow.emulator.faults.failing_thumbnails.add(failing)
    # When the night runs, every video is archived; all but that one have a thumbnail
    assert workflow.run()["status"] == "SUCCEEDED"
    records = workflow.records()
    assert {r.status for r in records.values()} == {SyncStatus.COMPLETED}
    kept = {m for m, r in records.items() if r.thumbnail_key}
    assert kept == ready - {failing}
    assert sorted(workflow.objects("thumbnails/")) == sorted(
        f"thumbnails/gopro/{m}.jpg" for m in kept
    )
    s3 = workflow.account.s3
    some = next(iter(kept))
    head = s3.head_object(Bucket=BUCKET, Key=f"thumbnails/gopro/{some}.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert head.get("StorageClass", "STANDARD") == "STANDARD"
    assert head["ServerSideEncryption"] == "aws:kms"
    body = s3.get_object(Bucket=BUCKET, Key=f"thumbnails/gopro/{some}.jpg")["Body"].read()
    assert body.startswith(b"\xff\xd8\xff")
    catalog = {row.media_id: row.thumbnail_key for row in assert_catalog_matches_bucket(workflow)}
    assert catalog[some] == f"thumbnails/gopro/{some}.jpg"
    assert catalog[failing] is None
    downloads = len(workflow.dispatcher.calls(DOWNLOADER))
    # And the next night's listing keeps the missing one, downloading no video again
    workflow.emulator.faults.failing_thumbnails.clear()
    assert workflow.run()["status"] == "SUCCEEDED"
    assert workflow.records()[failing].thumbnail_key == f"thumbnails/gopro/{failing}.jpg"
    assert len(workflow.dispatcher.calls(DOWNLOADER)) == downloads
    catalog = {row.media_id: row.thumbnail_key for row in assert_catalog_matches_bucket(workflow)}
    assert catalog[failing] == f"thumbnails/gopro/{failing}.jpg"


def test_the_stacks_selection_decides_what_the_listing_picks(
    workflow: Workflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stack that archives only what was shot in the library's first 30 days
    media = workflow.emulator.media
    first = min(m.captured_at for m in media.values()).date()
    until = first.fromordinal(first.toordinal() + 30)
    monkeypatch.setenv("CAPTURE_UNTIL", until.isoformat())
    reset_container()
    ready = ready_videos(workflow)
    inside = {m for m in ready if media[m].captured_at.date() <= until}
    assert inside
    assert inside != ready
    result = workflow.run()
    assert result["status"] == "SUCCEEDED"
    assert set(workflow.records()) == inside
    listing = json.loads(result["output"])["listing"]
    assert listing["skipped"]["captured_outside"] == len(ready - inside)


def summary_of(result: dict[str, object]) -> dict[str, object]:
    found: dict[str, object] = json.loads(str(result["output"]))["summary"]
    return found


def test_the_monthly_restore_drill_restores_reads_back_and_records_or_alerts(
    workflow: Workflow,
) -> None:
    s3 = workflow.account.s3
    install_restores(delay=60.0)
    try:
        # A first night: nothing is in Deep Archive yet, so nothing to drill
        first = workflow.run()
        assert first["status"] == "SUCCEEDED"
        assert summary_of(first)["drill"] == (
            "restore drill: no small archived object in an archive class yet"
        )
        # Once the lifecycle has moved the archive, a night requests one Bulk restore
        assert age(s3, BUCKET, "DEEP_ARCHIVE") > 0
        second = summary_of(workflow.run())["drill"]
        assert isinstance(second, str)
        assert second.startswith("restore drill: a Bulk restore of gopro-videos/")
        key = second.rsplit(" of ", 1)[1].removesuffix(" requested")
        assert 'ongoing-request="true"' in s3.head_object(Bucket=BUCKET, Key=key)["Restore"]
        assert summary_of(workflow.run())["drill"] == (
            f"restore drill: the restore of {key} is in progress"
        )
        # When S3 is done, the next night reads it back, checks it and records the drill
        finish_restores()
        third = summary_of(workflow.run())["drill"]
        assert isinstance(third, str)
        assert third.startswith("restore drill passed, ")
        assert key in third
        body = s3.get_object(Bucket=BUCKET, Key="catalog/drill-gopro.json")["Body"].read()
        state = json.loads(body)
        assert state["current"] is None
        assert state["last"]["passed"] is True
        assert state["last"]["drill"]["key"] == key
        assert not [a for a in workflow.account.alerts() if "drill" in a["Subject"]]
    finally:
        finish_restores()


def test_a_restore_drill_whose_copy_is_gone_alerts(workflow: Workflow) -> None:
    s3 = workflow.account.s3
    install_restores(delay=60.0)
    try:
        assert workflow.run()["status"] == "SUCCEEDED"
        age(s3, BUCKET, "DEEP_ARCHIVE")
        said = str(summary_of(workflow.run())["drill"])
        key = said.rsplit(" of ", 1)[1].removesuffix(" requested")
        # The object is replaced before the drill reads it back (a new version, unrestored)
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"other bytes", StorageClass="DEEP_ARCHIVE")
        finish_restores()
        failed = str(summary_of(workflow.run())["drill"])
        assert failed.startswith("restore drill FAILED: the restored copy expired")
        alerts = [a for a in workflow.account.alerts() if "restore drill" in a["Subject"]]
        assert len(alerts) == 1
        assert key in alerts[0]["Message"]
    finally:
        finish_restores()
