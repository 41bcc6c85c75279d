"""The browse page's fetches: stopped with the page, they leave no partial file."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from domain.catalog import CatalogRow
from domain.verification import crc32_of
from entrypoints.browse.jobs import FetchJobs

CHUNK = b"x" * 65_536
CHUNKS = 400


class SlowArchive:
    """Serves each object a chunk at a time, slowly."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def download(self, key: str) -> Iterator[bytes]:
        self.started.set()
        for _ in range(CHUNKS):
            time.sleep(0.005)
            yield CHUNK


def row(n: int) -> CatalogRow:
    data = CHUNK * CHUNKS
    checksum = crc32_of(data)
    when = datetime(2024, 5, 1, tzinfo=UTC)
    return CatalogRow(
        media_id=f"m{n}", chapter=None, key=f"gopro-videos/2024/05/GX01000{n}.MP4",
        size_bytes=len(data), checksum_algorithm=checksum.algorithm, checksum=checksum.value,
        filename=f"GX01000{n}.MP4", captured_at=when, uploaded_at=when, camera_model=None,
        duration_seconds=None, media_type="Video", archived_at=when,
    )  # fmt: skip


def test_a_page_stopped_mid_fetch_leaves_no_partial_file(tmp_path: Path) -> None:
    archive = SlowArchive()
    jobs = FetchJobs()
    job_id = jobs.start(cast(Any, archive), "gopro", [row(n) for n in range(6)], tmp_path)
    assert archive.started.wait(10)
    jobs.stop_all()
    job = jobs.get(job_id)
    assert job is not None
    state = job.as_dict()
    assert state["finished"] is True
    assert not list(tmp_path.rglob("*.part"))
    assert not list(tmp_path.rglob(".cloudsync-*"))
    outcomes = set(state["outcomes"].values())
    assert outcomes == {"not fetched: the page stopped"}
