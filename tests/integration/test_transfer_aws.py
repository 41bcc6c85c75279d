"""The transfer engine end to end: GoPro emulator -> GoProMediaSource -> transfer_video ->
S3ObjectStore, DynamoDbSyncTracker, SnsNotifier, EmfMetrics (moto)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.aws.metrics import EmfMetrics
from adapters.gopro.auth import GoProAuth
from adapters.gopro.settings import GoProSettings
from adapters.gopro.source import GoProMediaSource
from adapters.logs import JsonFormatter, LogRedactor, correlation_id
from domain.credentials import OAuthCredentials
from domain.model import StoredObject, UploadCheckpoint
from domain.rules import SelectionPolicy
from domain.services import authenticate, discover
from domain.status import SyncStatus
from domain.transfer import TransferOutcome, TransferPorts, TransferResult, transfer_video
from domain.units import MIB
from domain.verification import Crc32
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.server import GoProEmulator
from tests.fakes import FixedClock, InMemorySyncTracker, RecordingMetrics, RecordingNotifier
from tests.integration.aws import BUCKET, Account

WHEN = datetime(2024, 5, 17, 8, 30, tzinfo=UTC)


@dataclass
class Lines:
    lines: list[str] = field(default_factory=list)

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def metrics(self) -> list[str]:
        return [
            json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
            for line in self.lines
        ]


class Capture(logging.Handler):
    """Formats records as the Lambda functions do and keeps the lines."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines
        self.setFormatter(JsonFormatter("downloader"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Rig:
    account: Account
    emulator: GoProEmulator
    source: GoProMediaSource
    ports: TransferPorts
    emf: Lines

    def add(self, media_id: str, size: int, filename: str = "GX010001.MP4") -> None:
        self.emulator.add(EmulatedMedia(media_id, filename, "MP4", "Video", WHEN, WHEN, size))

    def discover(self) -> tuple[str, ...]:
        plan = discover(
            "gopro", self.source, self.ports.tracker, self.ports.clock, SelectionPolicy()
        )
        return plan.media_ids

    def s3_sha256(self, key: str) -> str:
        body = self.account.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return hashlib.sha256(body).hexdigest()


def make_rig(
    account: Account, source: GoProMediaSource, emulator: GoProEmulator, **store: int
) -> Rig:
    emf = Lines()
    ports = TransferPorts(
        source,
        account.tracker(),
        account.store(**store),
        EmfMetrics(write=emf),
        account.notifier(),
        FixedClock(),
    )
    emulator.media.clear()
    return Rig(account, emulator, source, ports, emf)


@pytest.fixture
def rig(account: Account, source: GoProMediaSource, emulator: GoProEmulator) -> Rig:
    return make_rig(account, source, emulator)


@pytest.fixture
def small_parts(account: Account, source: GoProMediaSource, emulator: GoProEmulator) -> Rig:
    return make_rig(account, source, emulator, single_put_limit=5 * MIB, part_size=5 * MIB)


def test_a_120_mb_video_arrives_in_three_parts_byte_for_byte(rig: Rig) -> None:
    rig.add("big120", 120 * MIB)
    parts: list[int] = []
    rig.account.s3.meta.events.register("before-call.s3.UploadPart", lambda **_: parts.append(1))
    assert rig.discover() == ("big120",)
    outcome = transfer_video("big120", "exec-1", rig.ports)
    assert outcome.result is TransferResult.COMPLETED
    assert outcome.object_key == "gopro-videos/2024/05/GX010001.MP4"
    assert len(parts) == 3
    assert rig.s3_sha256(outcome.object_key) == rig.emulator.original_sha256("big120")
    head = rig.account.s3.head_object(Bucket=BUCKET, Key=outcome.object_key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["Metadata"] == {"media-id": "big120"}
    tags = rig.account.s3.get_object_tagging(Bucket=BUCKET, Key=outcome.object_key)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"Source": "GoPro", "AutoSync": "True"}
    record = rig.ports.tracker.get("big120")
    assert record is not None
    assert record.status is SyncStatus.COMPLETED
    assert record.checksum is not None
    assert record.transferred_at is not None
    assert rig.emf.metrics() == ["VideosSynced", "BytesTransferred"]


def test_a_served_length_that_changes_after_head_fails_and_leaves_no_object(
    small_parts: Rig,
) -> None:
    rig = small_parts
    rig.add("liar1", 12 * MIB)
    rig.emulator.faults.head_size_override["liar1"] = 13 * MIB
    rig.discover()
    outcome = transfer_video("liar1", "exec-1", rig.ports)
    # The GET's length is not the HEAD's: another version of the file, so not one byte
    # of it is taken, and after the bounded restarts the attempt fails (retryable)
    assert outcome.result is TransferResult.FAILED
    assert outcome.retryable
    assert "length 13631488 -> 12582912" in (outcome.error or "")
    assert rig.account.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert rig.account.open_uploads() == []
    assert rig.emf.metrics() == ["SyncFailures"]
    record = rig.ports.tracker.get("liar1")
    assert record is not None
    assert record.status is SyncStatus.FAILED
    assert "SourceChangedError" in (record.error or "")


def test_a_truncated_body_fails_retryably_with_nothing_stored(small_parts: Rig) -> None:
    rig = small_parts
    rig.add("short1", 12 * MIB)
    rig.emulator.faults.short_body_bytes = 1_000
    rig.discover()
    outcome = transfer_video("short1", "exec-1", rig.ports)
    assert outcome.result is TransferResult.FAILED
    assert outcome.retryable
    assert rig.account.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert rig.account.open_uploads() == []


def test_a_resumed_transfer_equals_an_uninterrupted_one(small_parts: Rig) -> None:
    rig = small_parts
    rig.add("resume1", 23 * MIB + 7, "A.MP4")
    rig.add("whole1", 23 * MIB + 7, "B.MP4")
    rig.emulator.media["whole1"].id = "resume1"  # the same bytes under another media id
    rig.emulator.files["whole1"] = rig.emulator.files["resume1"]
    rig.discover()
    results: list[TransferOutcome] = []
    while not results or results[-1].result is TransferResult.PAUSED:
        results.append(transfer_video("resume1", "exec-1", rig.ports, should_pause=lambda: True))
    assert [r.result for r in results].count(TransferResult.PAUSED) == 4
    resumed = results[-1]
    assert resumed.result is TransferResult.COMPLETED
    ranges = [
        r.range for r in rig.emulator.requests if r.path == "/files/resume1" and r.method == "GET"
    ]
    # Each resume reads again from the origin check's last part boundary (the ETag is of
    # 8 MiB parts): at most one origin part before the checkpoint's 5, 10, 15, 20 MiB
    assert ranges == [None, None, f"bytes={8 * MIB}-", f"bytes={8 * MIB}-", f"bytes={16 * MIB}-"]
    record = rig.ports.tracker.get("resume1")
    assert record is not None
    assert (record.origin or "").startswith("matched (ETag ")
    assert rig.s3_sha256(resumed.object_key or "") == rig.emulator.original_sha256("resume1")
    record = rig.ports.tracker.get("resume1")
    assert record is not None
    assert record.checkpoint is None
    assert record.retry_count == 0


def test_no_secret_reaches_a_log_line(
    account: Account, emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    # Given OAuth credentials in Secrets Manager and a GoPro that drops and fails requests
    secret = account.credential_store()
    account.secrets.create_secret(Name="gopro/credentials", SecretString="{}")
    original = OAuthCredentials(emulator.client_id, emulator.client_secret, emulator.refresh_token)
    secret.save("gopro", original)
    captured: list[str] = []
    handler = Capture(captured)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    correlation_id.set("exec-123")
    try:
        authenticate("gopro", secret, GoProAuth(client, settings), FixedClock())
        stored = secret.load("gopro")
        LogRedactor.register([stored.access_token, emulator.client_secret, emulator.refresh_token])
        source = GoProMediaSource(client, settings, stored)
        rig = make_rig(account, source, emulator, single_put_limit=5 * MIB, part_size=5 * MIB)
        rig.add("logged1", 6 * MIB)
        rig.add("logged2", 1 * MIB)
        rig.emulator.faults.drop_after_bytes = 2 * MIB
        rig.emulator.faults.drops_left = 2
        rig.discover()
        rig.emulator.faults.server_errors_next = 2
        assert transfer_video("logged1", "exec-1", rig.ports).result is TransferResult.COMPLETED
        rig.emulator.faults.url_ttl_seconds = -1
        assert transfer_video("logged2", "exec-1", rig.ports).result is TransferResult.FAILED
        logging.getLogger("cloudsync.test").info(
            "a careless line with %s and %s",
            rig.emulator.signed_url("logged1"),
            f"Bearer {stored.access_token}",
        )
    finally:
        root.removeHandler(handler)
    text = "\n".join(captured)
    events = [json.loads(line)["event_type"] for line in captured]
    assert {"auth.refreshed", "discovery.finished", "gopro.resume", "gopro.retry"} <= set(events)
    assert {"transfer.completed", "transfer.failed"} <= set(events)
    for line in captured:
        fields = json.loads(line)
        assert set(fields) >= {
            "timestamp",
            "level",
            "correlation_id",
            "function_name",
            "event_type",
            "metadata",
        }
        assert fields["correlation_id"] == "exec-123"
    assert stored.access_token
    assert stored.access_token not in text
    assert emulator.client_secret not in text
    assert emulator.refresh_token not in text
    assert "sig=" not in text
    assert "<redacted>" in text


@dataclass
class HashingStore:
    """An object-store port double for sizes no in-memory S3 can hold: it keeps, per open
    upload, the hash state after each part, and of a finished object only its digest."""

    part_size: int
    digests: dict[str, str] = field(default_factory=dict)
    states: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    """Per upload: (offset, hash state) after each acknowledged part."""

    def describe(self, key: str) -> StoredObject | None:
        return None

    def create(
        self,
        key: str,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        return self._upload(key, media_id, chunks, size_bytes, None, pause)

    def resume(
        self,
        checkpoint: UploadCheckpoint,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        return self._upload(checkpoint.key, media_id, chunks, size_bytes, checkpoint, pause)

    def abandon(self, checkpoint: UploadCheckpoint) -> None:
        self.states.pop(checkpoint.upload_id, None)

    def _upload(
        self,
        key: str,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        resume: UploadCheckpoint | None,
        pause: Callable[[], bool] | None,
    ) -> StoredObject | UploadCheckpoint:
        upload_id = resume.upload_id if resume else f"u-{key}"
        states = self.states.setdefault(upload_id, [(0, hashlib.sha256())])
        del states[(resume.parts if resume else 0) + 1 :]
        offset, digest = states[-1][0], states[-1][1].copy()
        crc = Crc32(resume.crc32 if resume else 0)
        pending = 0
        for chunk in chunks:
            digest.update(chunk)
            crc.update(chunk)
            offset += len(chunk)
            pending += len(chunk)
            if pending >= self.part_size:
                pending = 0
                states.append((offset, digest.copy()))
                if offset < size_bytes and pause is not None and pause():
                    return UploadCheckpoint(key, upload_id, len(states) - 1, offset, crc.value)
        self.digests[key] = digest.hexdigest()
        return StoredObject(key, offset, crc.checksum(), media_id)


@dataclass
class ShortDeadline:
    """An artificially small deadline: time runs out after this many parts."""

    parts: int
    asked: int = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked >= self.parts


def several_short_invocations(size: int, emulator: GoProEmulator, source: GoProMediaSource) -> None:
    emulator.media.clear()
    emulator.add(EmulatedMedia("huge1", "HUGE.MP4", "MP4", "Video", WHEN, WHEN, size))
    tracker = InMemorySyncTracker()
    store = HashingStore(part_size=64 * MIB)
    ports = TransferPorts(
        source, tracker, store, RecordingMetrics(), RecordingNotifier(), FixedClock()
    )
    discover("gopro", source, tracker, ports.clock, SelectionPolicy())
    invocations = 0
    outcome = None
    while outcome is None or outcome.result is TransferResult.PAUSED:
        outcome = transfer_video("huge1", "exec-1", ports, should_pause=ShortDeadline(3))
        invocations += 1
    assert outcome.result is TransferResult.COMPLETED
    assert invocations == -(-size // (3 * 64 * MIB))
    assert store.digests[outcome.object_key or ""] == emulator.original_sha256("huge1")


def test_a_large_video_goes_through_several_short_invocations(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    several_short_invocations(700 * MIB, emulator, source)


@pytest.mark.slow
def test_a_5_gib_video_goes_through_several_short_invocations(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    several_short_invocations(5 << 30, emulator, source)
