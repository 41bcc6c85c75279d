"""Discovery at library scale: list and filter 1,000, 10,000 (and, asked for, 100,000)
videos from the GoPro emulator against a tracker on DynamoDB (moto's server in its own
process) holding a realistic mix: 60 % of the library COMPLETED, 10 % FAILED, the rest
never seen. Each size runs in a process of its own, so its peak RSS is the lister's.

Figures per size: wall time, GoPro requests and DynamoDB calls per 100 videos, peak RSS,
and the peak before discovery began (the emulator, in the same process, holds the library).
Reference, in the same run and on the same data: a naive lister that asks the tracker
with one GetItem per video.

Run: `python -m bench.discovery [--videos 1000,10000]`. The last line is `key=value`
pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

from adapters.aws.dynamodb_tracker import DynamoDbSyncTracker, TrackerSettings
from adapters.aws.records import record_to_item
from adapters.gopro.settings import GoProSettings, make_client
from adapters.gopro.source import GoProMediaSource
from bench.common import REGION, Clock, peak_rss_mib, start_moto
from domain.credentials import SessionCredentials
from domain.model import Checksum, SyncRecord
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.status import SyncStatus
from sandbox.gopro.library import plain_library
from sandbox.gopro.server import GoProEmulator

TABLE = "bench-discovery"
PAGE_SIZE = 100
START = datetime(2020, 1, 1, tzinfo=UTC)


def seed_tracker(client: Any, source: GoProMediaSource) -> dict[str, int]:
    """Records for 70 % of the library: 60 % COMPLETED, 10 % FAILED."""
    serializer = TypeSerializer()
    counts = {"completed": 0, "failed": 0, "absent": 0}
    batch: list[dict[str, Any]] = []
    for index, item in enumerate(source.list_media()):
        share = index % 10
        if share >= 7:
            counts["absent"] += 1
            continue
        record = SyncRecord.discovered(item, START)
        if share < 6:
            record = replace(
                record, status=SyncStatus.COMPLETED, object_key=f"gopro-videos/x/{item.media_id}",
                stored_size=item.size_bytes, checksum=Checksum("CRC32", "AAAAAA=="),
                transferred_at=START,
            )  # fmt: skip
            counts["completed"] += 1
        else:
            record = replace(record, status=SyncStatus.FAILED, error="TransientSourceError: 503")
            counts["failed"] += 1
        encoded = {k: serializer.serialize(v) for k, v in record_to_item(record).items()}
        batch.append({"PutRequest": {"Item": encoded}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={TABLE: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={TABLE: batch})
    return counts


def count(calls: dict[str, int], name: str) -> None:
    calls[name] += 1


def measure(videos: int, moto_url: str) -> dict[str, Any]:
    """One size, in this process: seed, then discovery, then the naive reference."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "benchmark")
    session = boto3.session.Session(region_name=REGION)
    dynamodb = session.client("dynamodb", endpoint_url=moto_url)
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "media_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "media_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    calls = {"dynamodb": 0, "gopro": 0}

    def count_dynamodb(**_: Any) -> None:
        count(calls, "dynamodb")

    with GoProEmulator(plain_library(videos, start=START, size=1_000_000)) as emulator:
        settings = GoProSettings(
            base_url=emulator.base_url, allow_loopback=True, page_size=PAGE_SIZE,
            max_pages=videos // PAGE_SIZE + 10,
        )  # fmt: skip
        with make_client(settings) as client:
            client.event_hooks["request"] = [
                lambda _: calls.__setitem__("gopro", calls["gopro"] + 1)
            ]
            credentials = SessionCredentials(emulator.session_token, emulator.user_id)
            source = GoProMediaSource(client, settings, credentials)
            mix = seed_tracker(dynamodb, source)
            rss_seeded = peak_rss_mib()
            tracker = DynamoDbSyncTracker(dynamodb, TrackerSettings(TABLE))
            dynamodb.meta.events.register("before-call.dynamodb.*", count_dynamodb)

            calls.update(dynamodb=0, gopro=0)
            began = time.perf_counter()
            outcome = discover("gopro", source, tracker, Clock(), SelectionPolicy())
            ours = time.perf_counter() - began
            ours_calls = dict(calls)
            rss = peak_rss_mib()

            # The naive lister: the same listing, then one GetItem per video.
            calls.update(dynamodb=0, gopro=0)
            began = time.perf_counter()
            naive_chosen = 0
            for item in source.list_media():
                record = tracker.get(item.media_id)
                if record is None or record.status is not SyncStatus.COMPLETED:
                    naive_chosen += 1
            naive = time.perf_counter() - began
            naive_calls = dict(calls)
    assert len(outcome.media_ids) == mix["failed"] + mix["absent"], outcome.media_ids[:3]
    return {
        "videos": videos,
        "chosen": len(outcome.media_ids),
        "naive_chosen": naive_chosen,
        "seconds": ours,
        "naive_seconds": naive,
        "gopro_per_100": 100 * ours_calls["gopro"] / videos,
        "dynamodb_per_100": 100 * ours_calls["dynamodb"] / videos,
        "naive_dynamodb_per_100": 100 * naive_calls["dynamodb"] / videos,
        "peak_rss_mib": rss,
        "rss_before_discovery_mib": rss_seeded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--videos", default="1000,10000", help="library sizes, comma-separated")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--moto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.moto)))
        return
    sizes = [int(size) for size in args.videos.split(",")]
    figures = []
    for size in sizes:
        process, url = start_moto()
        try:
            answer = subprocess.run(  # noqa: S603 - this module, fixed arguments
                [sys.executable, "-m", "bench.discovery", "--child", str(size), "--moto", url],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            process.kill()
        figures.append(json.loads(answer.stdout.strip().splitlines()[-1]))
    print(f"{'videos':>8} {'seconds':>8} {'naive s':>8} {'GoPro/100':>10} {'DynamoDB/100':>13} "
          f"{'naive DDB/100':>14} {'peak RSS MiB':>13} {'before MiB':>11}")  # fmt: skip
    for f in figures:
        print(
            f"{f['videos']:>8} {f['seconds']:>8.2f} {f['naive_seconds']:>8.2f} "
            f"{f['gopro_per_100']:>10.2f} {f['dynamodb_per_100']:>13.2f} "
            f"{f['naive_dynamodb_per_100']:>14.2f} {f['peak_rss_mib']:>13.1f} "
            f"{f['rss_before_discovery_mib']:>11.1f}"
        )
    pairs = []
    for f in figures:
        n = f["videos"]
        pairs += [
            f"seconds_{n}={f['seconds']:.3f}",
            f"speedup_vs_naive_{n}={f['naive_seconds'] / f['seconds']:.2f}",
            f"gopro_per_100_{n}={f['gopro_per_100']:.2f}",
            f"dynamodb_per_100_{n}={f['dynamodb_per_100']:.2f}",
            f"peak_rss_mib_{n}={f['peak_rss_mib']:.1f}",
            f"rss_growth_mib_{n}={f['peak_rss_mib'] - f['rss_before_discovery_mib']:.1f}",
        ]
    print(" ".join(pairs))


if __name__ == "__main__":
    main()
