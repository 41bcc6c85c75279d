"""GoPro reprocesses a video while it is being archived: whatever the resume path (a pause,
a takeover of the paused upload, a dropped connection resumed with Range), the archived
object is one version of the file, byte for byte, never a splice of two; and the bytes are
checked against GoPro's ETag in both of its forms, refusing bytes that do not give it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from adapters.gopro.source import GoProMediaSource
from domain.status import SyncStatus
from domain.transfer import DEFAULT_LEASE, TransferResult, transfer_video
from domain.units import MIB
from sandbox.gopro.content import content
from sandbox.gopro.server import GoProEmulator
from tests.fakes import FixedClock
from tests.integration.aws import BUCKET, Account
from tests.integration.test_transfer_aws import Rig, make_rig


@pytest.fixture
def small_parts(account: Account, source: GoProMediaSource, emulator: GoProEmulator) -> Rig:
    return make_rig(account, source, emulator, single_put_limit=5 * MIB, part_size=5 * MIB)


SIZE = 12 * MIB + 4321
"""Three parts of 5 MiB: the upload pauses after each."""


def stored(rig: Rig, media_id: str) -> tuple[str, str]:
    """(the archived object's SHA-256, the record's origin check)."""
    record = rig.ports.tracker.get(media_id)
    assert record is not None
    assert record.status is SyncStatus.COMPLETED, record.error
    assert record.object_key is not None
    return rig.s3_sha256(record.object_key), record.origin or ""


def only_one_object(rig: Rig) -> None:
    listed = rig.account.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert len(listed) == 1, [o["Key"] for o in listed]
    assert rig.account.open_uploads() == []


@pytest.mark.parametrize("takeover", [False, True], ids=["same-worker", "takeover"])
def test_a_source_changed_during_a_pause_starts_the_file_over(
    small_parts: Rig, takeover: bool, caplog: pytest.LogCaptureFixture
) -> None:
    rig = small_parts
    rig.add("repro1", SIZE)
    rig.discover()
    before = rig.emulator.original_sha256("repro1")
    # Given the upload pauses after its first part
    first = transfer_video("repro1", "w1", rig.ports, should_pause=lambda: True)
    assert (first.result, first.offset) == (TransferResult.PAUSED, 5 * MIB)
    # When GoPro reprocesses the file: a few KB more, other bytes, a new ETag
    rig.emulator.change("repro1", SIZE + 3_245)
    after = rig.emulator.original_sha256("repro1")
    assert after != before
    worker = "w1"
    if takeover:  # the paused worker died; another takes its checkpoint over
        clock = rig.ports.clock
        assert isinstance(clock, FixedClock)
        clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
        worker = "w2"
    outcome = transfer_video("repro1", worker, rig.ports)
    # Then the object is the new version, whole, and the paused upload is gone
    assert outcome.result is TransferResult.COMPLETED, outcome.error
    digest, origin = stored(rig, "repro1")
    assert digest == after
    assert origin.startswith("matched (ETag ")
    only_one_object(rig)
    changed = [
        r for r in caplog.records if getattr(r, "event_type", "") == "transfer.source_changed"
    ]
    assert changed
    assert f"length {SIZE} -> {SIZE + 3_245}" in str(changed[0].metadata)  # type: ignore[attr-defined]


def test_a_source_changed_between_a_drop_and_its_range_resume_starts_the_file_over(
    small_parts: Rig,
) -> None:
    rig = small_parts
    rig.add("repro2", SIZE)
    rig.discover()
    # Given the first GET breaks off half-way, and GoPro reprocesses the file meanwhile
    # (same length: only the ETag and Last-Modified tell)
    rig.emulator.faults.file_faults["repro2"] = "drop"
    rig.emulator.faults.change_on_drop.add("repro2")
    outcome = transfer_video("repro2", "w1", rig.ports)
    assert outcome.result is TransferResult.COMPLETED, outcome.error
    digest, origin = stored(rig, "repro2")
    # Then the resume's If-Range brought the whole new file, and it was taken from byte 0
    assert digest == rig.emulator.original_sha256("repro2")
    assert origin.startswith("matched")
    gets = [r for r in rig.emulator.requests if r.method == "GET" and r.path == "/files/repro2"]
    assert [r.range for r in gets][:2] == [None, gets[1].range]
    assert gets[1].range is not None  # the resume asked for the rest
    assert gets[-1].range is None  # and the file started over
    only_one_object(rig)


@pytest.mark.parametrize("form", ["md5", "multipart"])
def test_the_origin_check_matches_either_etag_form_and_refuses_a_wrong_one(
    small_parts: Rig, form: str
) -> None:
    rig = small_parts
    rig.emulator.faults.etag_form = form
    rig.emulator.faults.etag_part_size = 5 * MIB
    rig.add("tagged1", SIZE)
    rig.add("tagged2", SIZE, "GX010002.MP4")
    rig.emulator.faults.wrong_etags.add("tagged2")
    rig.discover()
    # Paused after every part: the multipart form's digests are carried across pauses
    while (
        outcome := transfer_video("tagged1", "w1", rig.ports, should_pause=lambda: True)
    ).result is TransferResult.PAUSED:
        pass
    assert outcome.result is TransferResult.COMPLETED, outcome.error
    digest, origin = stored(rig, "tagged1")
    assert digest == rig.emulator.original_sha256("tagged1")
    if form == "md5":  # a plain MD5 cannot be carried across a pause
        assert origin.startswith("unavailable (paused at byte 5242880: an MD5 of the whole")
        # the same file read in one invocation matches
        rig.add("tagged3", SIZE, "GX010003.MP4")
        rig.discover()
        assert transfer_video("tagged3", "w1", rig.ports).result is TransferResult.COMPLETED
        assert stored(rig, "tagged3")[1].startswith("matched (ETag ")
    else:
        assert origin.startswith("matched (ETag ")
        assert origin.endswith("3 parts of 5 MiB)")
    # A file whose bytes do not give its ETag is refused; nothing of it is stored
    refused = transfer_video("tagged2", "w1", rig.ports)
    assert refused.result is TransferResult.FAILED
    assert "origin: the bytes served do not give the source's ETag" in (refused.error or "")
    record = rig.ports.tracker.get("tagged2")
    assert record is not None
    assert (record.error or "").startswith("OriginMismatchError")
    keys = [o["Key"] for o in rig.account.s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert not any(key.endswith("GX010002.MP4") for key in keys)
    assert rig.account.open_uploads() == []
    assert any("tagged2" in alert["Subject"] for alert in rig.account.alerts())


def test_an_emulated_etag_is_what_s3_gives_the_bytes(small_parts: Rig) -> None:
    rig = small_parts
    rig.emulator.faults.etag_part_size = 5 * MIB
    rig.add("etag1", SIZE)
    entry = rig.emulator.files["etag1"]
    body = content(entry.content_key, 0, SIZE)
    parts = [body[i : i + 5 * MIB] for i in range(0, SIZE, 5 * MIB)]
    inner = b"".join(hashlib.md5(p, usedforsecurity=False).digest() for p in parts)
    expected = f'"{hashlib.md5(inner, usedforsecurity=False).hexdigest()}-3"'
    assert rig.emulator.etag(entry) == expected
    rig.emulator.faults.etag_form = "md5"
    assert rig.emulator.etag(entry) == f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
