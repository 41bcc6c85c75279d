"""The emulator itself: deterministic library and bytes, HTTP fidelity, the command line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.gopro.settings import MEDIA_ACCEPT
from bench.emulator_throughput import bare_socket, plain_client
from sandbox.gopro.content import PERIOD, content, sha256_of
from sandbox.gopro.library import EmulatedMedia, generate_library
from sandbox.gopro.server import GoProEmulator

ROOT = Path(__file__).resolve().parents[2]


def test_the_same_seed_gives_the_same_library() -> None:
    first, again = generate_library(3, 40), generate_library(3, 40)
    assert [m.listing_fields(m.api_file_size) for m in first] == [
        m.listing_fields(m.api_file_size) for m in again
    ]
    other = generate_library(4, 40)
    assert {m.id for m in first}.isdisjoint({m.id for m in other})
    assert sum(1 for m in first if m.type not in {"Photo", "TimeLapse"}) == 41
    assert (
        sum(1 for m in first if m.ready_to_view == "ready" and m.type not in ("Photo", "TimeLapse"))
        == 40
    )


def test_content_is_deterministic_and_any_window_matches_the_whole() -> None:
    size = PERIOD + 12_345
    whole = content("abc", 0, size)
    assert len(whole) == size
    assert whole == content("abc", 0, size)
    assert content("abd", 0, 100) != whole[:100]
    for start, stop in [(0, 1), (PERIOD - 3, PERIOD + 3), (777, 300_000), (size - 5, size)]:
        assert content("abc", start, stop) == whole[start:stop]
    assert sha256_of("abc", size) == hashlib.sha256(whole).hexdigest()


def test_file_urls_answer_head_and_ranges(emulator: GoProEmulator) -> None:
    media = next(iter(emulator.media.values()))
    head = httpx.head(emulator.signed_url(media.id, "HEAD"))
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(media.size)
    url = emulator.signed_url(media.id)
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 10-19/{media.size}"
    assert part.content == content(media.id, 10, 20)
    beyond = httpx.get(url, headers={"Range": f"bytes={media.size}-"})
    assert beyond.status_code == 416
    assert httpx.head(url).status_code == 403  # a GET signature does not sign a HEAD
    assert httpx.get(url.replace("sig=", "sig=0")).status_code == 403


def test_the_download_answer_has_the_contracts_shape(emulator: GoProEmulator) -> None:
    chaptered = next(m for m in emulator.media.values() if m.chapters)
    answer = httpx.get(
        f"{emulator.base_url}/media/{chaptered.id}/download",
        headers={"Accept": MEDIA_ACCEPT, "Cookie": f"gp_access_token={emulator.session_token}"},
    ).json()
    labels = [v["label"] for v in answer["_embedded"]["variations"]]
    assert labels == ["source", "source", "source", "concat", "high_res_proxy_mp4"]
    assert answer["_embedded"]["files"][0]["camera_position"] == "default"
    assert answer["_embedded"]["sidecar_files"][0]["label"] == "gpmf"


def test_the_emulator_runs_by_hand() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "sandbox.gopro", "--port", "0", "--videos", "12"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            token_line = process.stdout.readline()
            base_url = banner.split(" at ", 1)[1].split()[0]
            token = token_line.split("gp_access_token=", 1)[1].strip()
            answer = httpx.get(
                f"{base_url}/media/search",
                headers={"Accept": MEDIA_ACCEPT, "Authorization": f"Bearer {token}"},
            )
            assert answer.json()["_pages"]["total_items"] == 12 + 4
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize("argument", ["--sizes=9:1", "--videos=-1", "--error-rate=2"])
def test_bad_arguments_get_one_clear_line(argument: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "sandbox.gopro", argument],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert finished.returncode == 2
    assert "error" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_throughput_benchmark_runs_small() -> None:
    size = 8 << 20
    assert bare_socket(size) > 0

    when = datetime(2024, 1, 1, tzinfo=UTC)
    with GoProEmulator(
        [EmulatedMedia("benchVideo001", "b.MP4", "MP4", "Video", when, when, size)]
    ) as emulator:
        assert plain_client(emulator.signed_url("benchVideo001"), size) > 0


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/vnd.gopro.jk.media+json; version=2.0.0", 200),
        ("application/vnd.gopro.jk.media.search+json; version=2.0.0", 200),
        ("application/json", 406),
    ],
)
def test_both_accept_values_real_clients_send_are_taken(
    emulator: GoProEmulator, accept: str, status: int
) -> None:
    answer = httpx.get(
        f"{emulator.base_url}/media/search",
        headers={"Accept": accept, "Authorization": f"Bearer {emulator.session_token}"},
    )
    assert answer.status_code == status


def test_the_library_holds_the_contracts_newer_shapes() -> None:
    library = generate_library(seed=1, videos=24)
    ids = [m.id for m in library]
    assert any(len(i) == 24 and all(c in "0123456789abcdef" for c in i) for i in ids)
    assert any(len(i) == 13 for i in ids)
    multi = next(m for m in library if m.type == "MultiClipEdit")
    fields = multi.listing_fields(multi.api_file_size)
    assert (fields["file_extension"], fields["file_size"], fields["filename"]) == ("json", None, "")
    assert any(m.type == "Edit" and m.api_file_size is None for m in library)
    photo = next(m for m in library if m.type == "Photo")
    assert photo.listing_fields(photo.api_file_size)["source_duration"] is None


def test_a_multi_clip_edit_downloads_only_through_baked_source(emulator: GoProEmulator) -> None:
    multi = next(m for m in emulator.media.values() if m.type == "MultiClipEdit")
    answer = httpx.get(
        f"{emulator.base_url}/media/{multi.id}/download",
        headers={"Accept": MEDIA_ACCEPT, "Authorization": f"Bearer {emulator.session_token}"},
    ).json()
    labels = [v["label"] for v in answer["_embedded"]["variations"]]
    assert "baked_source" in labels
    assert "source" not in labels
