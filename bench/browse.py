"""The browse page at scale: a catalog of `--items` items (100,000 by default), read and
served as `cloudsync browse` serves it, against the floor any tool reading the same
catalog meets: Python's own `csv.reader` over the same text, measured in the same run.

Measured:
- **load**: the catalog's text parsed into rows, grouped into items, newest first (what
  the command does once at start, before it serves);
- **first screen**: `GET /` over loopback HTTP from the running server (the grid's first
  60 items by month, the filter's choices, and the totals over every item), median of
  `--repeat`; and the same with a filter that scans every item (`?name=GX01*`);
- **reference**: `csv.reader` over the catalog text, doing nothing with the rows.

Run: `python -m bench.browse [--items 100000] [--repeat 5]`. The last line is `key=value`.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
import httpx
from moto import mock_aws
from werkzeug.serving import make_server

from adapters.aws.archive import S3Archive
from adapters.aws.thumbnails import S3ThumbnailReader
from domain.catalog import CatalogRow, parse, render
from domain.selection import Selection
from entrypoints.browse.app import Browse, create_app
from entrypoints.browse.library import Library, items_of
from entrypoints.cost import load_prices, restore_prices

START = datetime(2016, 1, 1, tzinfo=UTC)
CAMERAS = ("HERO12 Black", "HERO11 Black", "HERO9 Black", "HERO8 Black")


def catalog_text(items: int) -> str:
    rows = []
    for n in range(items):
        taken = START + timedelta(minutes=47 * n)
        rows.append(
            CatalogRow(
                media_id=f"m{n:09d}", chapter=None,
                key=f"gopro-videos/{taken:%Y/%m}/GX{n % 100:02d}{n % 10000:04d}.MP4",
                size_bytes=50_000_000 + n, checksum_algorithm="CRC32", checksum="AAAAAA==",
                filename=f"GX{n % 100:02d}{n % 10000:04d}.MP4", captured_at=taken,
                uploaded_at=taken + timedelta(hours=3), camera_model=CAMERAS[n % 4],
                duration_seconds=30.0 + n % 600, media_type="Video", archived_at=taken,
                resolution="3840x2160", chapters=1,
                thumbnail_key=f"thumbnails/gopro/m{n:09d}.jpg",
            )
        )  # fmt: skip
    return render(rows)


def timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    text = catalog_text(args.items)
    print(f"catalog: {args.items} items, {len(text) / 2**20:.1f} MiB of CSV")

    reference = min(timed(lambda: sum(1 for _ in csv.reader(io.StringIO(text))))
                    for _ in range(3))  # fmt: skip
    library: list[Library] = []
    load = timed(lambda: library.append(Library(items_of(parse(text)))))
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-central-1")
        browse = Browse(
            stack="bench", region="eu-central-1", bucket="bench", provider="gopro",
            library=library[0], archive=S3Archive(s3, "bench"),
            thumbnails=S3ThumbnailReader(s3, "bench"),
            prices=restore_prices(load_prices()), runs=[], selection=Selection(),
        )  # fmt: skip
        server = make_server("127.0.0.1", 0, create_app(browse), threaded=True)
        port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:

                def screen(path: str) -> float:
                    started = time.perf_counter()
                    answer = client.get(path)
                    answer.raise_for_status()
                    return time.perf_counter() - started

                first = statistics.median(screen("/") for _ in range(args.repeat))
                filtered = statistics.median(screen("/?name=GX01*") for _ in range(args.repeat))
        finally:
            server.shutdown()
    print(f"reference, csv.reader over the catalog: {reference:.2f} s")
    print(f"load (parse, group, sort): {load:.2f} s = {load / reference:.1f}x the reference")
    print(f"first screen, GET /: {first * 1000:.0f} ms (median of {args.repeat})")
    print(f"a filter over every item, GET /?name=GX01*: {filtered * 1000:.0f} ms")
    print(
        f"items={args.items} reference_s={reference:.3f} load_s={load:.3f} "
        f"first_screen_ms={first * 1000:.0f} filtered_ms={filtered * 1000:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
