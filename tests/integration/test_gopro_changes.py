"""GoPro changed something: each kind of change the contract lets us notice, made by an
emulator knob and noticed by the adapter; then, through the real workflow, one alert of
its own per change, remembered so that the next night says nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from adapters.gopro.settings import GoProSettings
from adapters.gopro.source import GoProMediaSource
from domain.credentials import SessionCredentials
from domain.drift import ChangeKind
from domain.errors import DomainError
from domain.model import MediaItem
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.server import GoProEmulator
from tests.integration.aws import BUCKET
from tests.integration.workflow import Workflow, ready_videos, workflow

__all__ = ["workflow"]
WHEN = datetime(2024, 6, 1, tzinfo=UTC)


def item_of(
    emulator: GoProEmulator, media_id: str, size: int = 50_000, **extra: object
) -> MediaItem:
    media = EmulatedMedia(media_id, f"{media_id}.MP4", "MP4", "Video", WHEN, WHEN, size)
    for name, value in extra.items():
        setattr(media, name, value)
    emulator.add(media)
    return MediaItem("gopro", media_id, media.filename, size, WHEN, WHEN, 1.0, "Video", "ready")


def kinds(source: GoProMediaSource) -> set[ChangeKind]:
    return {change.kind for change in source.changes()}


def listed(source: GoProMediaSource) -> set[ChangeKind]:
    for _ in source.pages():
        pass
    return kinds(source)


def test_the_emulators_usual_library_is_no_change(source: GoProMediaSource) -> None:
    """No false alarm: what the contract describes is not a change."""
    assert listed(source) == set()


SETUPS: dict[ChangeKind, Callable[[GoProEmulator], object]] = {
    ChangeKind.UNKNOWN_TYPE: lambda e: item_of(e, "hologram1", type="Hologram"),
    ChangeKind.UNKNOWN_READINESS: lambda e: item_of(e, "melting1", ready_to_view="melting"),
    ChangeKind.FIELD_TYPE: lambda e: e.faults.raw_listing_items.append(
        {
            "id": "oddsize1",
            "created_at": "2024-06-01T00:00:00Z",
            "type": "Video",
            "ready_to_view": "ready",
            "file_size": "12345",
        }
    ),
    ChangeKind.FIELD_MISSING: lambda e: e.faults.raw_listing_items.append(
        {"id": "notype1", "created_at": "2024-06-01T00:00:00Z", "ready_to_view": "ready"}
    ),
    ChangeKind.NEW_FIELD: lambda e: e.faults.extra_listing_fields.update(sparkle=True),
}


@pytest.mark.parametrize("kind", list(SETUPS))
def test_a_listing_unlike_the_contract_is_noticed(
    kind: ChangeKind, emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    SETUPS[kind](emulator)
    assert listed(source) == {kind}
    (change,) = source.changes()
    assert change.harmless is (kind is ChangeKind.NEW_FIELD)


@pytest.mark.parametrize(
    ("kind", "knob"),
    [
        (ChangeKind.NO_SOURCE, lambda e, m: e.faults.raw_download_answers.update(
            {m: {"_embedded": {"variations": [{"label": "high_res_proxy_mp4", "url": "x",
                                                "head": "y"}]}}})),
        (ChangeKind.EMPTY_FILE, lambda e, m: e.faults.head_size_override.update({m: 0})),
        (ChangeKind.NO_LENGTH, lambda e, m: e.faults.head_without_length.add(m)),
        (ChangeKind.ETAG_FORM, lambda e, m: setattr(e.faults, "weak_etags", True)),
    ],
)  # fmt: skip
def test_a_download_unlike_the_contract_is_noticed(
    kind: ChangeKind,
    knob: Callable[[GoProEmulator, str], None],
    emulator: GoProEmulator,
    source: GoProMediaSource,
) -> None:
    item = item_of(emulator, "changed1")
    knob(emulator, "changed1")
    try:
        for download in source.open_chapters(item):
            assert download.expected_size
    except DomainError as error:
        assert kind is not ChangeKind.ETAG_FORM, error  # a weak ETag stops nothing
    assert kinds(source) == {kind}
    assert "sig=" not in json.dumps([vars(c) | {"kind": c.kind.value} for c in source.changes()])


def test_a_token_of_another_shape_is_noticed_without_saying_what_it_is(
    client: httpx.Client, settings: GoProSettings, emulator: GoProEmulator
) -> None:
    jwe = GoProMediaSource(client, settings, SessionCredentials(emulator.session_token, "u"))
    assert kinds(jwe) == set()
    opaque = GoProMediaSource(client, settings, SessionCredentials("emu-opaque-0123456789", "u"))
    (change,) = opaque.changes()
    assert change.kind is ChangeKind.TOKEN_SHAPE
    assert change.came == "a opaque token"
    assert "emu-opaque" not in change.line()
    jwt = GoProMediaSource(client, settings, SessionCredentials("aaa.bbb.ccc", "u"))
    assert jwt.changes()[0].came == "a JWT token"


def changed_alerts(workflow: Workflow) -> list[dict[str, str]]:
    return [a for a in workflow.account.alerts() if a["Subject"].startswith("GoPro changed")]


def test_a_change_alerts_once_on_its_own_and_never_again(workflow: Workflow) -> None:
    # Given GoPro answering with a new type and a weak ETag, and a field nobody asked for
    emulator = workflow.emulator
    item_of(emulator, "hologram1", type="Hologram")
    emulator.faults.weak_etags = True
    emulator.faults.extra_listing_fields["sparkle"] = True
    # When a night runs, the videos are archived as ever, and each change is in one alert
    assert workflow.run()["status"] == "SUCCEEDED"
    alerts = changed_alerts(workflow)
    assert len(alerts) == 2
    messages = "\n".join(a["Message"] for a in alerts)
    found = "unknown_type: type: expected a type the contract lists, got 'Hologram'"
    assert messages.count(found) == 1
    assert messages.count("etag_form: ETag") == 1
    assert "sparkle" not in messages  # harmless: logged, not alerted
    assert emulator.session_token not in messages
    assert all("failed" not in a["Subject"].lower() for a in alerts)  # distinct from failures
    remembered = workflow.account.s3.list_objects_v2(
        Bucket=BUCKET, Prefix="catalog/changes/gopro/"
    ).get("Contents", [])
    assert len(remembered) == 2
    # And the next night, the same changes alert nobody
    assert workflow.run()["status"] == "SUCCEEDED"
    assert changed_alerts(workflow) == []


def test_a_listing_far_shorter_than_the_archive_is_a_change(workflow: Workflow) -> None:
    ready = ready_videos(workflow)
    assert len(ready) >= 10
    assert workflow.run()["status"] == "SUCCEEDED"
    assert changed_alerts(workflow) == []
    workflow.emulator.faults.unlisted |= set(workflow.emulator.media) - set(sorted(ready)[:2])
    assert workflow.run()["status"] == "SUCCEEDED"
    (alert,) = changed_alerts(workflow)
    assert "listing_shrank" in alert["Message"]
    assert f"{len(ready)} archived" in alert["Message"]


def test_a_listing_page_of_another_shape_fails_the_listing_and_is_noticed(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    emulator.faults.listing_errors.append({"code": "E42", "message": "renamed"})
    with pytest.raises(DomainError, match=r"_embedded\.errors"):
        listed(source)
    (change,) = source.changes()
    assert change.kind is ChangeKind.LISTING_SHAPE
    assert "_embedded.errors" in change.came
