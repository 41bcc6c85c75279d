"""Fetches the page starts: each one a thread downloading ready objects into a folder,
with its progress read back by the page (entrypoints.restore's download: verified before
a file takes its name, never replacing a file, no partial file left)."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.catalog import CatalogRow
from domain.errors import DomainError
from domain.restore import Local, local_path
from entrypoints.restore import DOWNLOADED, Stopped, download, local_state

if TYPE_CHECKING:
    from adapters.aws.archive import S3Archive

WORKERS = 4


@dataclass
class FetchJob:
    folder: Path
    total_bytes: int
    files: int
    done_bytes: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    """Object key -> what became of it (`downloaded and verified`, `already here`, why not)."""
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, count: int) -> None:
        with self.lock:
            self.done_bytes += count

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "folder": str(self.folder),
                "files": self.files,
                "total_bytes": self.total_bytes,
                "done_bytes": self.done_bytes,
                "outcomes": dict(self.outcomes),
                "finished": self.finished,
            }


class FetchJobs:
    def __init__(self) -> None:
        self._jobs: dict[str, FetchJob] = {}
        self._threads: list[threading.Thread] = []
        self.stop = threading.Event()
        """Set when the page stops: each download ends at its next chunk, removing its
        partial file (entrypoints.restore.download)."""

    def stop_all(self, timeout: float = 30.0) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def get(self, job_id: str) -> FetchJob | None:
        return self._jobs.get(job_id)

    def start(self, archive: S3Archive, provider: str, rows: list[CatalogRow], folder: Path) -> str:
        job = FetchJob(folder, sum(r.size_bytes or 0 for r in rows), len(rows))
        job_id = secrets.token_hex(8)
        self._jobs[job_id] = job
        thread = threading.Thread(
            target=_run, args=(job, archive, provider, rows, self.stop), name=f"fetch-{job_id}",
            daemon=True,
        )  # fmt: skip
        self._threads.append(thread)
        thread.start()
        return job_id


def _run(
    job: FetchJob, archive: S3Archive, provider: str, rows: list[CatalogRow], stop: threading.Event
) -> None:
    def one(row: CatalogRow) -> None:
        path = job.folder / local_path(provider, row.key)
        try:
            verdict = local_state(row, path)
            if verdict is Local.SAME:
                outcome = "already here"
                job.advance(row.size_bytes or 0)
            elif verdict is Local.DIFFERS:
                outcome = f"{path} exists and differs from the archived one; left alone"
            elif stop.is_set():
                outcome = "not fetched: the page stopped"
            else:
                outcome = download(archive, row, path, job.advance, stop=stop)
        except Stopped:
            outcome = "not fetched: the page stopped"
        except (DomainError, OSError) as error:
            outcome = f"failed: {error}"
        with job.lock:
            job.outcomes[row.key] = outcome if outcome != DOWNLOADED else f"{outcome}: {path}"

    try:
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="browse-fetch") as pool:
            list(pool.map(one, rows))
    finally:
        with job.lock:
            job.finished = True
