"""`cloudsync restore` against the local world after a real sync, its objects aged into
Deep Archive (sandbox.age) and its restores taking time (sandbox.moto_restore): price,
request, status, fetch; the bytes fetched are the emulator's; a second fetch downloads
nothing; a differing local file is left alone."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from moto.moto_api import state_manager

from domain.catalog import CatalogRow, parse
from domain.units import GB
from entrypoints.cli import main
from sandbox.age import age
from sandbox.age import main as age_main
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.moto_restore import MODEL, finish_restores
from sandbox.world import World
from tests.integration.synced import synced_world


@pytest.fixture(scope="module")
def gopro() -> Iterator[GoProEmulator]:
    with GoProEmulator(generate_library(seed=11, videos=6)) as emulator:
        yield emulator


@pytest.fixture
def archived(
    gopro: GoProEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    """A synced archive; restores from an archive class stay pending until finished."""
    try:
        with synced_world(gopro, monkeypatch, capsys, restore_seconds=3600) as world:
            yield world
    finally:
        state_manager.unset_transition(MODEL)


def catalog_rows(world: World) -> list[CatalogRow]:
    body = world.client("s3").get_object(
        Bucket=world.environment["ARCHIVE_BUCKET"], Key="catalog/gopro.csv"
    )["Body"]
    return parse(body.read().decode("utf-8"))


def restore(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["restore", *args, "--stack", "dev"])
    out = capsys.readouterr()
    return code, out.out.strip().splitlines() + out.err.strip().splitlines()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_local_file_that_differs_is_left_alone(
    capsys: pytest.CaptureFixture[str], folder: Path, key: str
) -> None:
    changed = folder / key.removeprefix("gopro-videos/")
    changed.write_bytes(b"someone else's edit")
    code, lines = restore(capsys, "fetch", "--to", str(folder))
    assert code == 1
    assert any("exists and differs from the archived video; left alone" in li for li in lines)
    assert changed.read_bytes() == b"someone else's edit"


def links_fetch_the_same_bytes(
    capsys: pytest.CaptureFixture[str], folder: Path, media_id: str, objects: int
) -> None:
    """Links instead of downloads, from the bucket's catalog alone."""
    code, lines = restore(capsys, "fetch", "--urls", "2", "--catalog", "--media-id", media_id)
    assert code == 0, lines
    links = [line.split("\t") for line in lines if "\t" in line]
    assert len(links) == objects
    assert lines[-1].startswith(f"{objects} links, valid until ")
    for key, url in links:
        assert "X-Amz-Expires=7200" in url
        got = httpx.get(url)
        assert got.status_code == 200, got.text
        assert hashlib.sha256(got.content).hexdigest() == sha256(
            folder / key.removeprefix("gopro-videos/")
        )


def test_restore_prices_requests_and_fetches_the_emulators_bytes(
    archived: World, gopro: GoProEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bucket = archived.environment["ARCHIVE_BUCKET"]
    rows = catalog_rows(archived)
    assert rows, "the run wrote a catalog"
    assert {row.camera_model for row in rows} == {"HERO12 Black"}  # as the listing says
    assert age(archived.client("s3"), bucket, "DEEP_ARCHIVE") == len(rows)
    total = sum(r.size_bytes or 0 for r in rows)

    # Dry run: every object, priced as Bulk from Deep Archive, nothing requested
    code, lines = restore(capsys, "--dry-run", "--days", "3")
    assert code == 0, lines
    assert sum("would be restored (bulk)" in line for line in lines) == len(rows)
    gb = total / GB
    expected = gb * 0.0025 + len(rows) * 0.025 / 1000 + gb * 0.023 * 3 / 30 + gb * 0.09
    summary = next(line for line in lines if line.startswith("estimated cost"))
    assert f"= ${expected:.4f}" in summary
    assert any(f"{len(rows)} to restore" in line and "within 48 hours" in line for line in lines)
    code, lines = restore(capsys, "status")
    assert lines[-1] == f"{len(rows)} not requested of {len(rows)}"

    # One video by media id (all its chapters), then everything: each object asked once
    first = rows[0].media_id
    its = [r for r in rows if r.media_id == first]
    code, lines = restore(capsys, "--media-id", first, "--tier", "standard")
    assert code == 0, lines
    assert sum("restore started" in line for line in lines) == len(its)
    assert any("within 12 hours (standard tier)" in line for line in lines)
    code, lines = restore(capsys, "--all")
    assert code == 0, lines
    assert sum("restore started" in line for line in lines) == len(rows) - len(its)
    assert not any("already in progress" in line for line in lines)  # looked first

    # Pending: fetch downloads nothing and says so
    code, lines = restore(capsys, "status")
    assert lines[-1] == f"{len(rows)} pending of {len(rows)}"
    code, lines = restore(capsys, "fetch", "--to", str(tmp_path))
    assert code == 3, lines  # not finished yet
    assert f"{len(rows)} not readable yet ({len(rows)} pending); run fetch again later" in lines
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]

    # Hours later: ready, with an expiry; fetch lays them out by capture month, verified
    finish_restores()
    code, lines = restore(capsys, "status")
    assert lines[-1] == f"{len(rows)} ready of {len(rows)}"
    assert all("ready until " in line for line in lines[:-1])
    code, lines = restore(capsys, "fetch", "--to", str(tmp_path))
    assert code == 0, lines
    assert sum("downloaded and verified" in line for line in lines) == len(rows)
    for row in rows:
        local = tmp_path / row.key.removeprefix("gopro-videos/")
        content_id, size = gopro.original_files(row.media_id)[(row.chapter or 1) - 1]
        assert sha256(local) == gopro.file_sha256(content_id, size), row.key
    assert not list(tmp_path.rglob(".cloudsync-*"))

    # Again: nothing downloaded
    code, lines = restore(capsys, "fetch", "--to", str(tmp_path))
    assert code == 0, lines
    assert lines[-1] == f"0 downloaded (0 B), {len(rows)} already here, 0 failed, into {tmp_path}"

    a_local_file_that_differs_is_left_alone(capsys, tmp_path, rows[-1].key)
    links_fetch_the_same_bytes(capsys, tmp_path, first, len(its))


def test_restore_mistakes_are_one_line(
    archived: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, lines = restore(capsys)
    assert (code, lines) == (2, [
        "cloudsync: error: restore what? select with --since/--until, --media-id or --name, "
        "or pass --all for the whole archive (--dry-run shows what it would cost)"
    ])  # fmt: skip
    code, lines = restore(capsys, "--name", "*.nothing")
    assert (code, lines) == (1, ["cloudsync: error: nothing archived matches filename '*.nothing'"])
    code, lines = restore(capsys, "--since", "2030-01-01", "--until", "2031-01-01")
    assert lines == ["cloudsync: error: nothing archived matches captured 2030-01-01 to 2031-01-01"]
    code, lines = restore(capsys, "--since", "2030-01-02", "--until", "2030-01-01")
    assert (code, lines) == (
        2,
        ["cloudsync: error: --since 2030-01-02 is after --until 2030-01-01"],
    )
    code, lines = restore(capsys, "--days", "0")
    assert (code, lines) == (2, [
        "cloudsync: error: Invalid value for '--days': 0 is not in the range 1<=x<=30000. "
        "(see `cloudsync restore request --help`)"
    ])  # fmt: skip
    code, lines = restore(capsys, "fetch")
    assert lines == ["cloudsync: error: fetch needs either --to DIR (download) or --urls (links)"]
    code, lines = restore(capsys, "status", "--catalog", str(tmp_path / "none.csv"))
    assert code == 1
    assert lines == [f"cloudsync: error: cannot read the catalog {tmp_path / 'none.csv'}: "
                     "No such file or directory"]  # fmt: skip
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    code, lines = restore(capsys, "status", "--catalog", str(tmp_path / "bad.csv"))
    assert len(lines) == 1
    assert lines[0].startswith("cloudsync: error: not a catalog: the header is ['a', 'b']")
    for hours in ("200", "nan", "inf", "1e308", "0", "two"):
        code, lines = restore(capsys, "fetch", "--urls", hours)
        assert code == 2, hours
        assert len(lines) == 1, lines
        assert lines[0].startswith("cloudsync: error: Invalid value for '--urls': "), lines


def test_an_object_outside_an_archive_class_needs_no_restore(
    archived: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert age_main(["--storage-class", "GLACIER_IR"]) == 0  # as the README runs it
    assert (
        capsys.readouterr().out.strip()
        == f"{len(catalog_rows(archived))} objects moved to GLACIER_IR"
    )
    code, lines = restore(capsys, "--all")
    assert code == 0, lines
    assert all("readable now (GLACIER_IR, no restore needed)" in line for line in lines[:-2])
    assert "0 to restore" in lines[-2]
    assert main(["restore", "fetch", "--to", str(tmp_path), "--stack", "dev"]) == 0
    out = capsys.readouterr()
    assert "downloaded and verified" in out.out.splitlines()[0]
    assert out.err == ""  # no progress bar, nor its blank line, where stderr is no terminal


def test_sandbox_age_refuses_anything_but_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://s3.eu-central-1.amazonaws.com")
    assert age_main([]) == 1
    assert capsys.readouterr().err.startswith(
        "sandbox.age: error: AWS_ENDPOINT_URL is https://s3.eu-central-1.amazonaws.com, not "
        "the sandbox on loopback"
    )
