"""`cloudsync demo` as a user runs it: a subprocess, checked through its JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from entrypoints.demo import demo_library
from sandbox.gopro.content import sha256_of

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_archives_everything_once_byte_for_byte(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    finished = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "demo", "--videos", "12", "--big", "1",
         "--report", str(report_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr
    report = json.loads(report_path.read_text())
    library = {m.id: m for m in demo_library(videos=12, seed=1, big=1)}
    ready = {
        m.id for m in library.values()
        if m.ready_to_view == "ready" and m.type not in ("Photo", "TimeLapse")
    }  # fmt: skip
    records = {r["media_id"]: r for r in report["records"]}
    assert set(records) == ready
    assert {r["status"] for r in records.values()} == {"COMPLETED"}
    objects = {o["media_id"]: o for o in report["objects"]}
    assert set(objects) == ready  # one object per video: exactly once
    for media_id, stored in objects.items():
        assert stored["key"] == records[media_id]["object_key"]
        assert stored["size"] == library[media_id].size
        assert stored["sha256"] == sha256_of(media_id, library[media_id].size)
        assert stored["tags"] == {"Source": "GoPro", "AutoSync": "True"}
        assert stored["storage_class"] == "STANDARD"
        assert stored["encryption"] == "aws:kms"
    assert max(o["size"] for o in objects.values()) == 110 * (1 << 20)  # a multipart one
    first, second = report["executions"]
    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert first["downloader_invocations"] == len(ready)
    assert second["downloader_invocations"] == 0
    assert report["notifications"] == []
