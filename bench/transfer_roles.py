"""The measured sides of bench.transfer, each run in a process of its own:
`python -m bench.transfer_roles source|ceiling|ours|ours-no-origin CONFIG_JSON`. This
module imports only what its side needs, so the peak RSS of `ours` is the production
path's (no benchmark, emulator or certificate code loaded). Each prints one JSON line:
wall and CPU seconds of the work, after the imports.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import zlib
from collections.abc import Callable
from typing import Any

import boto3
import httpx

from adapters.aws.s3_multipart import crc32_base64
from adapters.aws.s3_store import s3_client
from adapters.gopro.settings import make_client
from bench.common import REGION
from domain.transfer import TransferResult, transfer_video
from entrypoints.container import Container, origin_policy, transfer_ports
from entrypoints.settings import Settings

MIB = 1 << 20
PART = 50 * MIB
BUCKET = "bench-archive"
TABLE = "bench-tracker"
KMS_KEY = f"arn:aws:kms:{REGION}:123456789012:key/bench"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:bench"


def _timed(work: Callable[[], object]) -> dict[str, float]:
    """Wall and CPU time of `work()` in this process (every thread), and the peak RSS
    before it began (what the imports and clients hold)."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    began, cpu = time.perf_counter(), time.process_time()
    work()
    return {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": time.process_time() - cpu,
        "rss_before_mb": rss_before,
    }


def read_source(url: str, size: int) -> dict[str, float]:
    def work() -> None:
        received = 0
        with httpx.Client(timeout=60) as client, client.stream("GET", url) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                received += len(chunk)
        assert received == size, (received, size)

    return _timed(work)


def fill_sink(size: int) -> dict[str, float]:
    """The same parts as ours, from memory, one after another: what the sink accepts."""
    s3 = s3_client(boto3.session.Session(region_name=REGION))
    part = os.urandom(PART)
    crc = crc32_base64(zlib.crc32(part))

    def work() -> None:
        upload = s3.create_multipart_upload(
            Bucket=BUCKET, Key="ceiling.bin", ChecksumAlgorithm="CRC32"
        )["UploadId"]
        parts: list[Any] = []
        for number, offset in enumerate(range(0, size, PART), start=1):
            body = part if offset + PART <= size else part[: size - offset]
            checksum = crc if body is part else crc32_base64(zlib.crc32(body))
            answer = s3.upload_part(
                Bucket=BUCKET, Key="ceiling.bin", UploadId=upload, PartNumber=number,
                Body=body, ChecksumCRC32=checksum,
            )  # fmt: skip
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key="ceiling.bin", UploadId=upload, MultipartUpload={"Parts": parts}
        )

    return _timed(work)


def _with_cdn_etag(client: httpx.Client, path: str, etag: str) -> httpx.Client:
    """`client`, with the ETag GoPro's CDN sends added to the answers for `path`: the
    benchmark's source (`rclone serve http`) sends none, and without one the origin check
    has nothing to compare."""

    def add_etag(response: httpx.Response) -> None:
        if response.url.path == path:
            response.headers["ETag"] = f'"{etag}"'

    client.event_hooks["response"] = [*client.event_hooks["response"], add_etag]
    return client


def transfer_ours(config: dict[str, Any], origin_check: bool) -> dict[str, Any]:
    """The downloader's own composition: Settings, the container, transfer_video, with the
    origin check on (the default) or off."""
    settings = Settings(
        table_name=TABLE,
        bucket_name=BUCKET,
        kms_key_id=KMS_KEY,
        alert_topic_arn=TOPIC,
        gopro_api_url=config["api"],
        gopro_allow_loopback=True,
        origin_check=origin_check,
    )
    container = Container(settings=settings)
    client = make_client(container.gopro_settings())
    path = httpx.URL(config["url"]).path
    container.gopro_client.override(_with_cdn_etag(client, path, config["etag"]))
    ports = transfer_ports(container, "gopro")
    outcome: list[Any] = []
    figures: dict[str, Any] = _timed(
        lambda: outcome.append(
            transfer_video(config["media_id"], "bench", ports, origin=origin_policy(settings))
        )
    )
    client.close()
    assert outcome[0].result is TransferResult.COMPLETED, outcome[0]
    record = ports.tracker.get(config["media_id"])
    origin = record.origin if record is not None else None
    assert (origin or "").startswith("matched") == origin_check, origin
    figures["key"] = outcome[0].object_key
    figures["origin"] = origin
    return figures


def main() -> None:
    role, config = sys.argv[1], json.loads(sys.argv[2])
    if role == "source":
        figures: dict[str, Any] = read_source(config["url"], config["size"])
    elif role == "ceiling":
        figures = fill_sink(config["size"])
    elif role in ("ours", "ours-no-origin"):
        figures = transfer_ours(config, origin_check=role == "ours")
    else:
        raise SystemExit(f"unknown role {role!r}: source, ceiling, ours or ours-no-origin")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
