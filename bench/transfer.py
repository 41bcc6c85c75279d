"""Throughput and peak memory of one transfer: a video streamed from the GoPro emulator
through GoProMediaSource and transfer_video into S3 (moto's server in its own process, so
this process's peak RSS is the transfer's own), as a multipart upload of 50 MiB parts.

Reference, measured in the same run: the same video downloaded and discarded (no upload).
Run: `python -m bench.transfer [--mib 1024]`. The last line is `key=value` pairs.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Literal

import boto3
import httpx

from adapters.aws.dynamodb_tracker import DynamoDbSyncTracker, TrackerSettings
from adapters.aws.s3_store import S3ObjectStore, S3Settings
from adapters.gopro.settings import GoProSettings, make_client
from adapters.gopro.source import GoProMediaSource
from domain.credentials import SessionCredentials
from domain.rules import SelectionPolicy
from domain.services import discover
from domain.transfer import TransferPorts, TransferResult, transfer_video
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.server import GoProEmulator

REGION: Literal["eu-central-1"] = "eu-central-1"
MEDIA_ID = "benchTransfer1"


class Quiet:
    """Metrics and alerts that go nowhere: the benchmark measures the transfer."""

    def video_synced(self, provider: str, size_bytes: int) -> None: ...

    def sync_failed(self, provider: str, error_type: str) -> None: ...

    def items_skipped(self, provider: str, reason: str, count: int) -> None: ...

    def alert(self, subject: str, message: str) -> None: ...


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - moto's own server, fixed arguments
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url, timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto's server did not start")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parse = argparse.ArgumentParser(description=__doc__)
    parse.add_argument("--mib", type=int, default=1024, help="video size in MiB")
    size = parse.parse_args().mib << 20
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "benchmark")
    moto, endpoint = start_moto()
    when = datetime(2024, 1, 1, tzinfo=UTC)
    try:
        with GoProEmulator(
            [EmulatedMedia(MEDIA_ID, "B.MP4", "MP4", "Video", when, when, size)]
        ) as gopro:
            session = boto3.session.Session(region_name=REGION)
            s3 = session.client("s3", endpoint_url=endpoint)
            kms = session.client("kms", endpoint_url=endpoint)
            dynamodb = session.client("dynamodb", endpoint_url=endpoint)
            key = kms.create_key()["KeyMetadata"]["Arn"]
            s3.create_bucket(
                Bucket="bench-archive", CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            dynamodb.create_table(
                TableName="bench-tracker",
                KeySchema=[{"AttributeName": "media_id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "media_id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            settings = GoProSettings(base_url=gopro.base_url, allow_loopback=True)
            with make_client(settings) as client:
                credentials = SessionCredentials(gopro.session_token, gopro.user_id)
                source = GoProMediaSource(client, settings, credentials)
                quiet = Quiet()
                ports = TransferPorts(
                    source,
                    DynamoDbSyncTracker(dynamodb, TrackerSettings("bench-tracker")),
                    S3ObjectStore(s3, S3Settings("bench-archive", key)),
                    quiet,
                    quiet,
                    Clock(),
                )
                discover("gopro", source, ports.tracker, ports.clock, SelectionPolicy())
                item = next(iter(source.list_media()))

                began = time.perf_counter()
                received = sum(len(chunk) for chunk in source.open_chapters(item)[0].chunks())
                download_seconds = time.perf_counter() - began
                assert received == size
                rss_before = peak_rss_mib()

                began = time.perf_counter()
                outcome = transfer_video(MEDIA_ID, "bench", ports)
                transfer_seconds = time.perf_counter() - began
            assert outcome.result is TransferResult.COMPLETED, outcome
            head = s3.head_object(
                Bucket="bench-archive", Key=outcome.object_key or "", ChecksumMode="ENABLED"
            )
            assert head["ContentLength"] == size
    finally:
        moto.terminate()
        moto.wait(timeout=30)
    download = size / download_seconds / 1e6
    transfer = size / transfer_seconds / 1e6
    rss = peak_rss_mib()
    print(f"video                         {size >> 20} MiB, 50 MiB parts")
    print(f"download only (reference)     {download:8.1f} MB/s")
    print(
        f"transfer into S3 (moto)       {transfer:8.1f} MB/s  {transfer / download:.2f}x reference"
    )
    print(f"peak RSS before the transfer  {rss_before:8.1f} MiB")
    print(f"peak RSS after the transfer   {rss:8.1f} MiB")
    print(
        f"size_mib={size >> 20} download_mb_s={download:.1f} transfer_mb_s={transfer:.1f} "
        f"ratio={transfer / download:.3f} peak_rss_mib={rss:.0f} "
        f"rss_growth_mib={rss - rss_before:.0f} checksum={head.get('ChecksumCRC32', '-')} "
        f"meets_50_mbit_s={'yes' if transfer * 8 >= 50 else 'no'}"
    )


if __name__ == "__main__":
    main()
