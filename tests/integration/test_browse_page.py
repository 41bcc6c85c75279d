"""`cloudsync browse` in a real browser (headless Chromium) against the sandbox: the
thumbnails of a synced library, a filter, a quote equal to `restore --dry-run`'s, a
restore requested and fetched byte for byte, and the page's screenshot for the docs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from entrypoints.cli import main
from sandbox.age import age
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.world import World
from tests.integration.synced import synced_world

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "assets" / "browse.png"
RESTORE_SECONDS = 3.0


def chromium() -> str:
    """Debian's chromium (`make browser` installs it); never skipped when missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "no chromium on the PATH: `make browser` (apt-get install chromium) installs it"
    return found


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[World, GoProEmulator]]:
    """One synced sandbox for the module's tests (in file order: the page's tour, which
    ages the archive, then the dashboard, then the refusals)."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        GoProEmulator(generate_library(seed=11, videos=12)) as gopro,
        synced_world(gopro, monkeypatch, None, restore_seconds=RESTORE_SECONDS) as synced,
    ):
        yield synced, gopro


@pytest.fixture(scope="module")
def served(world: tuple[World, GoProEmulator]) -> Iterator[str]:
    """The real command in a process of its own; its first line says where it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "browse", "--stack", "dev", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first, process.stderr.read() if process.stderr else ""
        yield json.loads(first)["url"]
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def filter_by_keyboard(page: Page, total: int) -> None:
    """A filter, typed and submitted with the keyboard, narrows the grid."""
    page.locator("input[name=name]").focus()
    page.keyboard.type("GX01*")
    page.keyboard.press("Enter")
    page.wait_for_url("**name=GX01*")
    narrowed = page.locator(".card .name").all_inner_texts()
    assert 0 < len(narrowed) < total
    assert all(name.upper().startswith("GX01") for name in narrowed)
    assert page.locator("#count").inner_text() == str(len(narrowed))


def test_the_page_shows_filters_quotes_restores_and_fetches(
    world: tuple[World, GoProEmulator],
    served: str,
    page: Page,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    synced, gopro = world
    bucket = synced.environment["ARCHIVE_BUCKET"]
    # The main page: which stack and bucket, and every item's thumbnail, drawn
    page.goto(served)
    expect(page.locator("#where")).to_contain_text(f"s3://{bucket}")
    expect(page.locator("#where")).to_contain_text("stack dev")
    cards = page.locator(".card")
    total = cards.count()
    assert total > 10
    images = page.locator(".card img")
    assert images.count() == total, "every archived item shows its thumbnail"
    drawn = (
        "[...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    ends = time.monotonic() + 15
    while not page.evaluate(drawn):  # (wait_for_function would eval in the page: the CSP forbids)
        assert time.monotonic() < ends, "the thumbnails were not drawn"
        time.sleep(0.1)
    expect(page.locator("body[data-states=filled]")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "browse.png"), full_page=False)
    assert (tmp_path / "browse.png").read_bytes().startswith(b"\x89PNG")
    if os.environ.get("CLOUDSYNC_DOCS_SCREENSHOT"):
        shutil.copy(tmp_path / "browse.png", SCREENSHOT)
    assert SCREENSHOT.is_file(), "the docs show the page (CLOUDSYNC_DOCS_SCREENSHOT=1 takes it)"

    filter_by_keyboard(page, total)

    # Age the archive into Deep Archive, then quote two items: the CLI's dry run agrees
    assert age(synced.client("s3"), bucket, "DEEP_ARCHIVE") > 0
    page.reload()
    picked = [c.get_attribute("data-media-id") or "" for c in page.locator(".card").all()[:2]]
    for media_id in picked:
        page.locator(f".card[data-media-id='{media_id}'] input[type=checkbox]").check()
    page.locator("#quote").click()
    shown = page.locator("#amount").inner_text()
    capsys.readouterr()
    arguments = ["restore", "--stack", "dev", "--dry-run", "--json"]
    for media_id in picked:
        arguments += ["--media-id", media_id]
    assert main(arguments) == 0
    dry = json.loads(capsys.readouterr().out)["quote"]
    expected = dry["usd"]["restore"] + dry["usd"]["restored_copy"]
    assert shown == f"${expected:.4f}"
    assert page.locator("#confirm").inner_text().endswith(shown)

    # Confirm: the restore starts; once S3 is done, fetch the ready ones into a folder
    page.locator("#confirm").click()
    expect(page.locator("#requested")).to_contain_text("Restore requested")
    expect(page.locator("#counts")).to_contain_text("pending")
    time.sleep(RESTORE_SECONDS + 0.5)
    page.get_by_text("Look again").click()
    expect(page.locator("#counts")).to_contain_text("ready")
    page.locator("input[name=folder]").fill(str(tmp_path / "restored"))
    page.locator("#fetch-button").click()
    expect(page.locator("#finished")).to_have_text("finished", timeout=30_000)
    fetched = sorted((tmp_path / "restored").rglob("*.*"))
    assert fetched
    originals = {
        gopro.file_sha256(content, size)
        for media_id in picked
        for content, size in gopro.original_files(media_id)
    }
    assert {hashlib.sha256(f.read_bytes()).hexdigest() for f in fetched} == originals


def test_the_dashboard_shows_runs_growth_cost_and_a_firing_alarm(
    world: tuple[World, GoProEmulator], served: str, page: Page
) -> None:
    synced, _ = world
    page.goto(served + "dashboard")
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    expect(page.locator("#runs")).to_contain_text("SUCCEEDED")
    expect(page.locator("#attention")).to_contain_text("no alarm is firing")
    expect(page.locator("#growth tbody tr")).not_to_have_count(0)
    expect(page.locator("#cost")).to_contain_text("a month at list prices")
    expect(page.locator("#drill")).to_contain_text("restore drill")
    # An alarm of the stack's goes off: the dashboard says so, with CloudWatch's reason
    cloudwatch = synced.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="gopro-sync-failed-executions-dev", MetricName="ExecutionsFailed",
        Namespace="AWS/States", Statistic="Sum", Period=300, EvaluationPeriods=1,
        Threshold=0, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.set_alarm_state(
        AlarmName="gopro-sync-failed-executions-dev", StateValue="ALARM",
        StateReason="Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0)",
    )  # fmt: skip
    page.reload()
    expect(page.locator(".alarm")).to_contain_text("gopro-sync-failed-executions-dev is firing")
    expect(page.locator(".alarm")).to_contain_text("Threshold Crossed")


def test_a_port_in_use_is_one_line_naming_the_fix(served: str) -> None:
    port = httpx.URL(served).port
    taken = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "browse", "--stack", "dev", "--port", str(port)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ), check=False,
    )  # fmt: skip
    assert taken.returncode == 1, taken
    lines = taken.stderr.strip().splitlines()
    assert lines[-1].startswith(f"cloudsync: error: cannot serve on 127.0.0.1:{port}: ")
    assert "--port 0" in lines[-1]
    assert "Traceback" not in taken.stderr


def test_a_post_from_another_page_or_host_is_refused(served: str) -> None:
    """A page on any site can make the browser POST to 127.0.0.1: without this server's
    token it is refused, and so is a request naming another host (DNS rebinding)."""
    answer = httpx.post(served + "restore/quote", data={"all": "1"})
    assert answer.status_code == 403
    rebound = httpx.get(served, headers={"Host": "evil.example:80"})
    assert rebound.status_code == 403
    assert httpx.get(served).headers["Content-Security-Policy"].startswith("default-src 'none'")
