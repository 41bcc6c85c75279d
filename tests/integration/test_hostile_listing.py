"""Items no store could take, through the real GoPro adapter and the DynamoDB tracker on
moto: each is skipped and counted, or stored bounded; the rest of the library goes on."""

from __future__ import annotations

from adapters.gopro.source import GoProMediaSource
from domain.rules import SelectionPolicy, SkipReason
from domain.services import discover
from sandbox.gopro.server import GoProEmulator
from tests.fakes import FixedClock, InMemorySyncTracker, RecordingMetrics
from tests.integration.aws import Account


def hostile(media_id: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": media_id, "filename": f"{media_id}.MP4", "file_extension": "MP4", "type": "Video",
        "captured_at": "2024-05-01T10:00:00Z", "created_at": "2024-05-02T10:00:00Z",
        "file_size": 1_000, "source_duration": "1000", "ready_to_view": "ready",
    }  # fmt: skip
    return base | fields


def test_items_a_store_cannot_take_do_not_stop_the_sync(
    emulator: GoProEmulator, source: GoProMediaSource, account: Account
) -> None:
    before = discover("gopro", source, InMemorySyncTracker(), FixedClock(), SelectionPolicy())
    # Given a listing with a 40-digit size, a 1e300 duration, a lone surrogate in a name
    # and a name of 300 KB, beside the ordinary library
    emulator.faults.raw_listing_items = [
        hostile("huge00size001", file_size=10**39),
        hostile("huge00dur0001", source_duration="1e300"),
        hostile("surrogate0001", filename="clip\ud800.MP4"),
        hostile("longname00001", filename="x" * 300_000 + ".MP4"),
    ]
    tracker = account.tracker()
    # When discovery runs on the real tracker
    metrics = RecordingMetrics()
    outcome = discover("gopro", source, tracker, FixedClock(), SelectionPolicy(), metrics=metrics)
    # Then the unreadable two are skipped and counted with their reasons, and a metric
    assert source.report.malformed == 2
    assert outcome.skipped[SkipReason.UNREADABLE] == 2
    assert ("gopro", "unreadable", 2) in metrics.skipped
    assert any("file_size" in r for r in source.report.reasons)
    assert any("source_duration" in r for r in source.report.reasons)
    # And the storable two are recorded, bounded, and the library is chosen as before
    assert {"surrogate0001", "longname00001"} <= set(outcome.media_ids)
    surrogate, longname = tracker.get("surrogate0001"), tracker.get("longname00001")
    assert surrogate is not None
    assert surrogate.item.filename == "clip\ufffd.MP4"
    assert longname is not None
    assert len(longname.item.filename) == 1_024
    assert longname.item.filename.endswith(".MP4")
    assert set(outcome.media_ids) == set(before.media_ids) | {"surrogate0001", "longname00001"}
