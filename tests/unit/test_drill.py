"""The monthly restore drill: due, requested, read back and judged, remembered."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from domain.drill import EVERY, DrillState, drill_step
from domain.model import SyncRecord
from domain.restore import RestorePrices, Tier
from domain.status import SyncStatus
from domain.verification import crc32_of
from tests.fakes import (
    EPOCH,
    ArchivedBytes,
    InMemoryDrillArchive,
    InMemoryDrillLog,
    RecordingNotifier,
    make_item,
)

PRICES = RestorePrices(
    per_gb={(c, t): 0.0025 for c in ("DEEP_ARCHIVE", "GLACIER") for t in Tier},
    per_1000_requests={(c, t): 0.025 for c in ("DEEP_ARCHIVE", "GLACIER") for t in Tier},
    standard_gb_month=0.023, transfer_out_gb=0.09, retrieval_gb={},
)  # fmt: skip


def archived(media_id: str, data: bytes) -> SyncRecord:
    return replace(
        SyncRecord.discovered(make_item(media_id), EPOCH), status=SyncStatus.COMPLETED,
        version=3, object_key=f"gopro-videos/2026/01/{media_id}.MP4", stored_size=len(data),
        checksum=crc32_of(data), transferred_at=EPOCH,
    )  # fmt: skip


class Night:
    def __init__(self, count: int = 20) -> None:
        self.data = {f"m{n:02d}": bytes([n]) * (100 + n) for n in range(count)}
        self.records = [archived(m, d) for m, d in self.data.items()]
        self.archive = InMemoryDrillArchive()
        for record in self.records:
            self.archive.objects[record.object_key or ""] = ArchivedBytes(
                self.data[record.media_id]
            )
        self.log, self.alerts, self.now = InMemoryDrillLog(), RecordingNotifier(), EPOCH

    def run(self) -> str:
        return drill_step(
            "gopro", self.records, archive=self.archive, drills=self.log,
            notifier=self.alerts, now=self.now, prices=PRICES, pick=random.Random(3),  # noqa: S311 - a test's choice
        )  # fmt: skip


def test_a_drill_restores_a_small_object_reads_it_back_and_records_it() -> None:
    night = Night()
    said = night.run()
    ((key, tier, days),) = night.archive.requested
    assert (tier, days) == (Tier.BULK, 1)
    assert said == f"restore drill: a Bulk restore of {key} requested"
    sizes = sorted(len(d) for d in night.data.values())
    assert night.archive.objects[key].data.__len__() in sizes[:2]  # the smallest tenth
    night.now += timedelta(hours=30)
    assert night.run().endswith("is in progress")
    night.archive.finish()
    night.now += timedelta(hours=18)
    said = night.run()
    last = night.log.load("gopro").last
    assert last is not None
    assert last.passed
    assert last.restore_hours == 48
    assert 0 < last.drill.cost_usd < 0.001
    assert said.startswith("restore drill passed, 2026-01-03: ")
    assert night.alerts.alerts == []
    # Not due again for a month; then a new one
    night.now += EVERY - timedelta(days=1)
    assert night.run() == said
    night.now += timedelta(days=1)
    assert night.run().startswith("restore drill: a Bulk restore")


def test_a_byte_different_fails_the_drill_with_an_alert() -> None:
    night = Night()
    night.run()
    ((key, _, _),) = night.archive.requested
    night.archive.objects[key].data = b"\xff" + night.archive.objects[key].data[1:]
    night.archive.finish()
    said = night.run()
    assert "FAILED: the bytes read back have CRC32" in said
    ((subject, message),) = night.alerts.alerts
    assert subject == "cloud-sync: the restore drill failed"
    assert key in message


def test_a_gone_object_fails_and_nothing_archived_yet_waits() -> None:
    night = Night()
    night.run()
    ((key, _, _),) = night.archive.requested
    del night.archive.objects[key]
    assert "FAILED: the object is gone from the bucket" in night.run()
    young = Night()
    for found in young.archive.objects.values():
        found.storage_class = "STANDARD"
    assert young.run() == "restore drill: no small archived object in an archive class yet"
    assert young.log.load("gopro") == DrillState()
