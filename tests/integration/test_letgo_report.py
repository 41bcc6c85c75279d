"""`cloudsync verify --source --report PATH`: the dated report of whether everything GoPro
holds is archived and verified, with and without gaps, never holding a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from entrypoints.cli import main
from sandbox.age import age
from sandbox.gopro.library import EmulatedMedia, generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.world import World
from tests.integration.synced import synced_world


@pytest.fixture
def synced(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[World, GoProEmulator]]:
    with (
        GoProEmulator(generate_library(seed=31, videos=6)) as gopro,
        synced_world(gopro, monkeypatch, capsys) as world,
    ):
        yield world, gopro


def written(tmp_path: Path) -> tuple[dict[str, object], str]:
    day = datetime.now(UTC).date().isoformat()
    document = json.loads((tmp_path / f"report-{day}.json").read_text())
    return document, (tmp_path / f"report-{day}.html").read_text()


def test_everything_archived_gives_the_all_clear_first(
    synced: tuple[World, GoProEmulator], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    world, gopro = synced
    age(world.client("s3"), world.environment["ARCHIVE_BUCKET"], "DEEP_ARCHIVE")
    assert main(["verify", "--stack", "dev", "--report", str(tmp_path / "report.html")]) == 0
    out = capsys.readouterr().out
    document, page = written(tmp_path)
    verdict = str(document["verdict"])
    assert verdict.startswith("everything GoPro holds is archived and verified: ")
    assert verdict in out
    assert page.index(verdict) < page.index("<table")  # the first thing the page says
    items = document["items"]
    assert isinstance(items, list)
    assert {i["standing"] for i in items} == {"archived and verified"}
    assert {i["storage"] for i in items} == {"DEEP_ARCHIVE"}
    assert {i["origin"] for i in items} == {"matched"}
    chaptered = [i for i in items if i["objects"] > 1]
    assert chaptered  # every chapter counted
    for text in (json.dumps(document), page):  # never a secret or a signed URL
        assert gopro.session_token not in text
        assert "sig=" not in text
        assert "expires=" not in text


def test_gaps_are_counted_first_and_each_says_why(
    synced: tuple[World, GoProEmulator], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    world, gopro = synced
    s3, bucket = world.client("s3"), world.environment["ARCHIVE_BUCKET"]
    when = datetime(2024, 3, 1, tzinfo=UTC)
    gopro.add(EmulatedMedia("newvideo00001", "GX019876.MP4", "MP4", "Video", when, when, 10_000))
    gone = sorted(gopro.media)[0]
    while gopro.media[gone].type != "Video" or gopro.media[gone].ready_to_view != "ready":
        gone = sorted(gopro.media)[sorted(gopro.media).index(gone) + 1]
    gopro.faults.unlisted.add(gone)  # GoPro no longer lists it
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="gopro-videos/")["Contents"]
    damaged_key = next(o["Key"] for o in listed if gone not in o["Key"])
    s3.delete_object(Bucket=bucket, Key=damaged_key)
    assert main(["verify", "--stack", "dev", "--report", str(tmp_path / "report")]) == 1
    document, page = written(tmp_path)
    assert str(document["verdict"]).startswith("2 of the ")  # the new one and the damaged one
    items = document["items"]
    assert isinstance(items, list)
    by_id = {i["media_id"]: i for i in items}
    assert by_id["newvideo00001"]["standing"] == "not archived"
    assert "never recorded" in by_id["newvideo00001"]["why"]
    assert by_id[gone]["standing"] == "only in the archive"
    damaged = [i for i in by_id.values() if i["standing"].startswith("archived, but")]
    assert len(damaged) == 1
    assert "missing" in damaged[0]["why"]
    moves = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    assert any(moves in i["storage"] for i in by_id.values() if i["objects"])
    assert "Only in the archive (1)" in page
    # A report is never replaced: the same day's second one is refused, in one line
    capsys.readouterr()
    assert main(["verify", "--stack", "dev", "--report", str(tmp_path / "report")]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("cloudsync: error: ")
    assert "exists already; pass another --report" in last
