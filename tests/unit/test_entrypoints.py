"""Handlers, settings and the container, with fakes in place of every outside system."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers

from domain.audit import in_tonights_slice
from domain.catalog import parse
from domain.credentials import SessionCredentials
from domain.errors import TransientSourceError
from domain.model import RunReport, SyncRecord
from domain.units import MIB
from entrypoints.container import Container
from entrypoints.handlers import authenticator, downloader, lister
from entrypoints.handlers import summary as run_summary
from entrypoints.handlers.runtime import BadEventError, container, reset_container
from entrypoints.operations import Progress, progress_line
from entrypoints.providers import ProviderAdapters, ProviderRegistry, UnknownProviderError
from entrypoints.settings import Settings, SettingsError
from tests.fakes import (
    EPOCH,
    FakePreviewSource,
    FakeProviderAuth,
    FakeVideo,
    InMemoryCredentialStore,
    InMemoryDrillArchive,
    InMemoryDrillLog,
    InMemoryObjectStore,
    InMemoryPreviewStore,
    World,
    content_for,
    make_item,
)

ENV = {
    "TRACKER_TABLE": "t",
    "ARCHIVE_BUCKET": "b",
    "ARCHIVE_KMS_KEY": "k",
    "ALERT_TOPIC_ARN": "arn:aws:sns:eu-central-1:1:a",
}


@dataclass
class Context:
    function_name: str = "cloud-sync-test"
    aws_request_id: str = "req-1"
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    world.source.add(FakeVideo(make_item("v1", size=300), content_for("v1", 300)))
    container = Container(settings=Settings.from_env(ENV))
    container.tracker.override(providers.Object(world.tracker))
    container.store.override(providers.Object(world.store))
    container.metrics.override(providers.Object(world.metrics))
    container.notifier.override(providers.Object(world.notifier))
    container.clock.override(providers.Object(world.clock))
    container.manifest.override(providers.Object(world.manifest))
    container.catalog.override(providers.Object(world.catalog))
    container.verdicts.override(providers.Object(world.verdicts))
    container.drills.override(providers.Object(InMemoryDrillLog()))
    container.drill_archive.override(providers.Object(InMemoryDrillArchive()))
    container.credential_store.override(
        providers.Object(InMemoryCredentialStore(SessionCredentials("sess-token", "u1")))
    )
    registry = ProviderRegistry(
        {"gopro": ProviderAdapters(auth=FakeProviderAuth, source=lambda _: world.source)}
    )
    container.registry.override(providers.Object(registry))
    reset_container(container)
    yield world
    reset_container()


def test_the_three_handlers_run_a_sync(world: World) -> None:
    auth = authenticator.handler({"provider": "gopro"}, Context())
    assert auth == {
        "provider": "gopro",
        "mode": "session",
        "refreshed": False,
        "expires_at": None,
        "secret_version": None,
    }
    listing = lister.handler({"provider": "gopro", "correlation_id": "run-1"}, Context())
    assert listing["status"] == "done"
    assert (listing["to_sync"], listing["new_records"], listing["cursor"]) == (1, 1, None)
    assert world.manifest.lists[listing["key"]] == ["v1"]
    event = {"provider": "gopro", "media_id": "v1", "worker": "exec/v1", "attempt": 0}
    result = downloader.handler(event, Context())
    assert result["status"] == "completed"
    assert result["key"] == "gopro-videos/2026/01/GX010123.MP4"
    assert world.store.objects[result["key"]].data == content_for("v1", 300)
    assert "sess-token" not in repr([auth, listing, result])
    summary = run_summary.handler(
        {"provider": "gopro", "correlation_id": "run-1",
         "bucket": listing["bucket"], "key": listing["key"]},
        Context(),
    )  # fmt: skip
    assert summary == {
        "status": "done", "cursor": None, "videos": 1, "failures": 0, "failed": [],
        "catalog_rows": 1,
        "verified": 0, "deferred": 0,  # v1, stored tonight, was read back when stored
        "discrepancies": 0,
        "unreadable_records": 0, "report": "none",
        "origin": {"matched": 1, "mismatched": 0, "etags": "unchanged"},
        # v1 is not in the drill's archive yet (nothing is in an archive class tonight)
        "drill": "restore drill: no small archived object in an archive class yet",
    }  # fmt: skip
    catalog = parse(world.catalog.catalogs["gopro"])
    assert [(row.media_id, row.key) for row in catalog] == [
        ("v1", world.tracker.records["v1"].object_key)
    ]


def test_a_download_reads_the_stored_credentials_once_for_its_video_and_its_thumbnail(
    world: World,
) -> None:
    # Given a video whose listing offers a thumbnail, and a provider that serves them
    world.source.videos.clear()
    item = replace(make_item("t1", size=300), preview="tok")
    world.source.add(FakeVideo(item, content_for("t1", 300)))
    store = InMemoryCredentialStore(SessionCredentials("sess-token", "u1"))
    previews, kept = FakePreviewSource(), InMemoryPreviewStore()
    running = container()
    running.credential_store.override(providers.Object(store))
    running.thumbnails.override(providers.Object(kept))
    registry = ProviderRegistry({"gopro": ProviderAdapters(
        auth=FakeProviderAuth, source=lambda _: world.source, previews=lambda _: previews,
    )})  # fmt: skip
    running.registry.override(providers.Object(registry))
    lister.handler({"provider": "gopro", "correlation_id": "run-t"}, Context())
    loads = store.loads
    # When it is downloaded, its thumbnail is kept on the same credentials: one read
    event = {"provider": "gopro", "media_id": "t1", "worker": "exec/t1", "attempt": 0}
    result = downloader.handler(event, Context())
    assert (result["status"], result["thumbnail"]) == ("completed", "kept")
    assert list(kept.kept) == ["thumbnails/gopro/t1.jpg"]
    assert store.loads - loads == 1


def test_one_unreadable_record_is_skipped_counted_and_named_and_the_rest_goes_on(
    world: World,
) -> None:
    # Given v2's record is in the tracker and cannot be read (an impossible date)
    for name in ("v2", "v3"):
        world.source.add(FakeVideo(make_item(name, size=10), content_for(name, 10)))
    world.tracker.records["v2"] = SyncRecord.discovered(make_item("v2", size=10), EPOCH)
    world.tracker.broken["v2"] = "'uploaded_at' is not an ISO 8601 time"
    # When the nightly lists and summarizes
    listing = lister.handler({"provider": "gopro", "correlation_id": "run-u"}, Context())
    # Then the others are listed and chosen, and the broken one counted
    assert listing["status"] == "done"
    assert sorted(world.manifest.lists[listing["key"]]) == ["v1", "v3"]
    assert listing["skipped"] == {"unreadable_record": 1}
    assert world.metrics.skipped == [("gopro", "unreadable_record", 1)]
    for name in ("v1", "v3"):
        event = {"provider": "gopro", "media_id": name, "worker": f"x/{name}", "attempt": 0}
        assert downloader.handler(event, Context())["status"] == "completed"
    summary = run_summary.handler(
        {"provider": "gopro", "correlation_id": "run-u",
         "bucket": listing["bucket"], "key": listing["key"]},
        Context(),
    )  # fmt: skip
    # And the summary names it in the report the alert sends
    assert (summary["videos"], summary["failures"], summary["catalog_rows"]) == (2, 0, 2)
    assert (summary["discrepancies"], summary["unreadable_records"]) == (1, 1)
    assert summary["report"] == (
        "unreadable: v2: the record cannot be read: 'uploaded_at' is not an ISO 8601 time"
    )


def test_a_summary_short_of_time_counts_on_from_its_cursor_then_catalogs_alone(
    world: World,
) -> None:
    # Given a run list of 250 videos, 249 archived and one never downloaded
    names = [f"v{n}" for n in range(2, 251)]
    for name in names:
        world.source.add(FakeVideo(make_item(name, size=10), content_for(name, 10)))
    listing = lister.handler({"provider": "gopro", "correlation_id": "run-s"}, Context())
    for name in ["v1", *names]:
        if name == "v7":
            continue
        download = {"provider": "gopro", "media_id": name, "worker": f"x/{name}", "attempt": 0}
        downloader.handler(download, Context())
    # When it is summarized two days later (nothing stored tonight), with time for one
    # batch of records a call (under the margin)
    world.clock.advance(timedelta(days=2))
    event: dict[str, object] = {
        "provider": "gopro", "correlation_id": "run-s",
        "bucket": listing["bucket"], "key": listing["key"], "cursor": None,
    }  # fmt: skip
    answers = []
    while True:
        answer = run_summary.handler(event, Context(remaining_ms=1_000))
        answers.append(answer)
        if answer["status"] == "done":
            break
        event = {**event, "cursor": answer["cursor"]}
    # Then it counts 100 records a call, catalogs in a call of its own, and counts each once
    assert [(a["status"], (a["cursor"] or {}).get("phase")) for a in answers] == [
        ("continue", "count"), ("continue", "count"), ("continue", "catalog"), ("done", None)
    ]  # fmt: skip
    assert [a["cursor"]["position"] for a in answers[:2]] == [100, 200]
    done = answers[-1]
    assert (done["videos"], done["failures"], done["catalog_rows"]) == (250, 1, 249)
    # And the check, already past its deadline, describes nothing and defers its slice
    assert done["verified"] == 0
    night = world.clock.now().toordinal()
    sliced = [n for n in range(1, 251) if n != 7 and in_tonights_slice(f"v{n}", night)]
    assert done["deferred"] == len(sliced) > 0


def test_a_listing_short_of_time_goes_on_from_its_cursor_in_the_next_call(world: World) -> None:
    for n in range(2, 8):
        world.source.add(FakeVideo(make_item(f"v{n}", size=10), content_for(f"v{n}", 10)))
    world.source.page_size = 3  # 7 videos: three pages
    event: dict[str, object] = {"provider": "gopro", "correlation_id": "run-2", "cursor": None}
    answers = []
    while True:
        answer = lister.handler(event, Context(remaining_ms=1_000))  # under the 90 s margin
        answers.append(answer)
        if answer["status"] == "done":
            break
        event = {**event, "cursor": answer["cursor"]}
    assert [a["status"] for a in answers] == ["continue", "continue", "done"]
    assert [a["listed"] for a in answers] == [3, 6, 7]
    assert answers[-1]["to_sync"] == 7
    assert world.manifest.lists[answers[-1]["key"]] == [f"v{n}" for n in range(1, 8)]
    assert all(len(repr(a)) < 500 for a in answers)  # the ids are in the run list, not here
    # A retried invocation writes its part again; the list still holds each id once.
    again = lister.handler({**event}, Context())
    assert world.manifest.lists[again["key"]] == [f"v{n}" for n in range(1, 8)]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"cursor": "page 2"}, "'cursor' must be an object or null"),
        ({"cursor": {"resume": 3}}, "'resume' must be non-empty text"),
        ({"cursor": {"parts": -1}}, "'parts' must be a whole number"),
        ({"cursor": {"skipped": {"x": "many"}}}, "'cursor.skipped' must map reasons to counts"),
        ({"step": "summarize"}, "'step' must be 'list' \\(the summary is the run-summary"),
    ],
)
def test_a_broken_lister_event_is_named(
    world: World, event: dict[str, object], message: str
) -> None:
    with pytest.raises(BadEventError, match=message):
        lister.handler({"provider": "gopro", "correlation_id": "run-3", **event}, Context())


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"bucket": "b"}, "'key' must be non-empty text"),
        ({"bucket": "b", "key": "k", "started": "last night"}, "'started' must be an ISO 8601"),
        (
            {"bucket": "b", "key": "k", "started": "2026-12-04T02:00:00"},
            "'started' must carry its time zone",
        ),
    ],
)
def test_a_broken_summary_event_is_named(
    world: World, event: dict[str, object], message: str
) -> None:
    with pytest.raises(BadEventError, match=message):
        run_summary.handler({"provider": "gopro", "correlation_id": "run-3", **event}, Context())


def test_a_failure_says_whether_and_when_to_retry(world: World) -> None:
    lister.handler({"provider": "gopro", "correlation_id": "run-1"}, Context())
    video = world.source.videos["v1"]
    video.error, video.error_times = TransientSourceError("CDN 503"), 10
    results = [
        downloader.handler(
            {"provider": "gopro", "media_id": "v1", "worker": "w", "attempt": attempt},
            Context(),
        )
        for attempt in range(4)
    ]
    assert [r["retry"] for r in results] == [True, True, True, False]
    assert [r["retry_after_seconds"] for r in results] == [30, 60, 120, 0]
    assert {r["status"] for r in results} == {"failed"}


def test_time_running_short_makes_the_downloader_ask_to_continue(world: World) -> None:
    world.store = InMemoryObjectStore(part_size=100)
    reset_container_store(world)
    lister.handler({"provider": "gopro", "correlation_id": "run-1"}, Context())
    event = {"provider": "gopro", "media_id": "v1", "worker": "w"}
    first = downloader.handler(event, Context(remaining_ms=1_000))  # under the 90 s margin
    assert first["status"] == "continue"
    second = downloader.handler(event, Context())
    assert second["status"] == "completed"


def reset_container_store(world: World) -> None:
    container().store.override(providers.Object(world.store))


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "'provider' must be non-empty text"),
        ({"provider": 3}, "'provider' must be non-empty text"),
        ({"provider": "gopro", "worker": "w"}, "'media_id'"),
        ({"provider": "gopro", "media_id": "v1", "worker": "w", "attempt": -1}, "'attempt'"),
        ({"provider": "gopro", "media_id": "v1"}, "'worker'"),
    ],
)
def test_bad_events_name_the_field(world: World, event: dict[str, object], message: str) -> None:
    with pytest.raises(BadEventError, match=message):
        downloader.handler(event, Context())


def test_a_non_object_event_is_refused(world: World) -> None:
    with pytest.raises(BadEventError, match="JSON object"):
        lister.handler(["gopro"], Context())


def test_an_unknown_provider_is_named(world: World) -> None:
    with pytest.raises(UnknownProviderError, match=r"unknown provider 'dropbox'.*gopro"):
        authenticator.handler({"provider": "dropbox"}, Context())


@pytest.mark.parametrize("missing", sorted(ENV))
def test_a_missing_setting_is_named(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("METRICS", "statsd", "METRICS must be emf or api"),
        ("LEASE_SECONDS", "soon", "LEASE_SECONDS must be a number"),
        ("PART_SIZE_MIB", "1", "PART_SIZE_MIB must be at least 5"),
        ("GOPRO_ALLOW_LOOPBACK", "maybe", "GOPRO_ALLOW_LOOPBACK must be true or false"),
        ("DEADLINE_MARGIN_SECONDS", "-1", "must not be negative"),
        ("CREDENTIALS_SECRET", "gopro/credentials", "must contain {provider}"),
    ],
)
def test_a_malformed_setting_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**ENV, name: value})


def test_settings_defaults_follow_the_spec() -> None:
    settings = Settings.from_env(ENV)
    assert settings.gopro_api_url == "https://api.gopro.com"
    assert not settings.gopro_allow_loopback
    assert (settings.part_size_mib, settings.single_put_limit_mib) == (50, 100)
    assert settings.retry_base_seconds == 30


class SlowEnvironment(dict[str, str]):
    """An environment that takes a moment to read, as a cold start's first reads do."""

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        time.sleep(0.002)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        time.sleep(0.002)
        return super().__getitem__(key)


def test_invocations_that_start_together_on_a_cold_process_share_one_container(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a cold process (the sandbox runs every invocation in one) and four invocations
    # that start at the same moment
    reset_container()
    monkeypatch.setattr(os, "environ", SlowEnvironment(ENV))
    barrier = threading.Barrier(4)
    built: list[tuple[Container, ProviderRegistry]] = []

    def start() -> None:
        barrier.wait()
        shared = container()
        built.append((shared, shared.registry()))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then they share one container and one provider registry (one GoPro client)
    try:
        assert len(built) == 4
        assert len({id(shared) for shared, _ in built}) == 1
        assert len({id(registry) for _, registry in built}) == 1
    finally:
        reset_container()


def test_following_a_run_shows_bytes_rate_and_time_left() -> None:
    started = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    listing = RunReport("n", "arn", "RUNNING", started)
    assert progress_line(listing, Progress(), 0.0) == "authenticating and listing"
    running = RunReport(
        "n", "arn", "RUNNING", started, total=40, handled=10, running=5, total_bytes=4_000 * MIB
    )
    seen = Progress(since=(100.0, 10, 1_000 * MIB), archived_bytes=1_000 * MIB)
    assert progress_line(running, seen, 100.0) == (
        "10 of 40 videos handled, 5 in progress, 1.0 GB of 4.2 GB archived"
    )
    later = RunReport(
        "n", "arn", "RUNNING", started, total=40, handled=20, running=5, total_bytes=4_000 * MIB
    )
    seen.archived_bytes = 2_000 * MIB  # 1,000 MiB in 100 s
    assert progress_line(later, seen, 200.0) == (
        "20 of 40 videos handled, 5 in progress, 2.1 GB of 4.2 GB archived, 10.5 MB/s, "
        "about 3m20s left"
    )
    # Without the listed bytes, the videos give the rate
    unsized = RunReport("n", "arn", "RUNNING", started, total=40, handled=20, running=5)
    videos = Progress(since=(100.0, 10, 0))
    assert progress_line(unsized, videos, 200.0) == (
        "20 of 40 videos handled, 5 in progress, 6.0 videos/min, about 3m20s left"
    )
