"""The first month of a large library, on AWS's time: a sandbox library of 1,000, 10,000
(and, asked for, 100,000) videos through the real state machine, a first night and a
quiet night after it, every invocation on its modeled clock (sandbox.latency).

The files are tiny (the bytes are not the point; a stated size and bandwidth turn them into
time afterwards). Per night and function: invocations, the most modeled seconds any
invocation used against the function's timeout, invocations stopped at the timeout, AWS
and GoPro requests, and what the night costs per 1,000 videos at list price
(entrypoints/prices.json: Lambda GB-seconds and requests, S3 and DynamoDB requests, Step
Functions transitions).
Then the days until a first import of that many videos of `--video-gib` each is archived,
five downloads at a time at the model's GoPro bandwidth per connection.

Run: `python -m bench.first_month [--videos 1000,10000] [--archived 100000] [--video-gib 2]`.
The last line is `key=value` pairs. This machine runs about ten videos a second through
moto's Step Functions (a first night of 10,000 takes about 17 minutes, of 100,000 about
three hours); `--archived N` runs the quiet night alone over an archive of N seeded as a
first night leaves it, where the work that grows with the library is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from adapters.aws.records import record_to_item
from adapters.aws.s3_multipart import crc32_base64
from adapters.aws.s3_store import OWNER_METADATA
from adapters.aws.secrets_store import SecretsManagerCredentialStore
from adapters.gopro.media import media_item_from_fields
from domain.credentials import SessionCredentials
from domain.keys import candidate_keys
from domain.model import Checksum, SyncRecord
from domain.status import SyncStatus
from entrypoints.cost import load_prices
from entrypoints.handlers.runtime import reset_container
from sandbox.gopro.content import content
from sandbox.gopro.library import EmulatedMedia, original_files, plain_library
from sandbox.gopro.server import GoProEmulator
from sandbox.lambda_dispatch import KILLED_ERROR, Invocation
from sandbox.latency import TYPICAL
from sandbox.provision import BUCKET
from sandbox.world import World, local_world

PRICES = load_prices()
START = datetime(2019, 1, 1, tzinfo=UTC)
FILE_BYTES = 2048
CONCURRENCY = 5
S3_PUT_CLASS = {
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "ListObjectsV2",
    "CopyObject",
}


@dataclass
class Night:
    name: str
    status: str
    invocations: list[Invocation]
    calls: list[Any]
    memory_mb: dict[str, int]
    wall_seconds: float

    def per_function(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for invocation in self.invocations:
            step = invocation.event.get("step") if isinstance(invocation.event, dict) else None
            name = f"{invocation.function_name} {step}" if step else invocation.function_name
            row = found.setdefault(
                name,
                {"invocations": 0, "most_s": 0.0, "sum_s": 0.0, "killed": 0, "timeout_s": 0.0},
            )
            row["invocations"] += 1
            row["most_s"] = max(row["most_s"], invocation.modeled_seconds or 0.0)
            row["sum_s"] += invocation.modeled_seconds or 0.0
            row["killed"] += invocation.error == KILLED_ERROR
            row["timeout_s"] = invocation.timeout
            row["requests"] = row.get("requests", 0) + invocation.calls
        return found

    def outcome(self) -> str:
        """What the lister's last listing and last summary answered."""
        answers = [
            i.result
            for i in self.invocations
            if "lister" in i.function_name and isinstance(i.result, dict)
        ]
        listing = next((a for a in reversed(answers) if "to_sync" in a), {})
        summary = next((a for a in reversed(answers) if "catalog_rows" in a), {})
        return (
            f"listed {listing.get('listed')}, new {listing.get('new_records')}, to sync "
            f"{listing.get('to_sync')}; summary: {summary.get('videos')} videos, "
            f"{summary.get('failures')} failed, catalog {summary.get('catalog_rows')} rows, "
            f"{summary.get('verified')} described, {summary.get('deferred')} deferred, "
            f"{summary.get('discrepancies')} discrepancies"
        )

    def cost(self) -> dict[str, float]:
        """List-price dollars of the night, by service."""
        gb_seconds = sum(
            (i.modeled_seconds or 0.0) * self.memory_mb.get(i.function_name, 128) / 1024
            for i in self.invocations
        )
        prices = PRICES
        lam = gb_seconds * prices["lambda"]["gb_second"]
        lam += len(self.invocations) * prices["lambda"]["requests_per_million"] / 1e6
        s3 = Counter(c.operation for c in self.calls if c.service == "s3")
        put = sum(n for op, n in s3.items() if op in S3_PUT_CLASS)
        get = sum(s3.values()) - put
        s3_dollars = (
            put * prices["s3"]["put_per_1000"] / 1000 + get * prices["s3"]["get_per_1000"] / 1000
        )
        writes = reads = 0.0
        for call in self.calls:
            if call.service != "dynamodb":
                continue
            if call.operation == "TransactWriteItems":
                writes += 2 * len(call.parameters.get("TransactItems", []))
            elif call.operation in ("PutItem", "UpdateItem", "DeleteItem"):
                writes += 1
            elif call.operation == "BatchGetItem":
                reads += sum(
                    len(t.get("Keys", [])) for t in call.parameters["RequestItems"].values()
                )
            elif call.operation in ("Scan", "Query"):
                reads += 128  # a 1 MB page read eventually consistent (a bound)
            else:
                reads += 1
        dynamodb = (
            writes * prices["dynamodb"]["write_request_units_per_million"] / 1e6
            + reads * prices["dynamodb"]["read_request_units_per_million"] / 1e6
        )
        downloads = sum(1 for i in self.invocations if "downloader" in i.function_name)
        videos = len(
            {i.event.get("media_id") for i in self.invocations if "downloader" in i.function_name}
        )
        listers = len(self.invocations) - downloads
        transitions = 2 * downloads + 3 * videos + 2 * listers + 8
        states = transitions * prices["step_functions"]["transitions_per_1000"] / 1000
        return {"lambda": lam, "s3": s3_dollars, "dynamodb": dynamodb, "step_functions": states}


def _memory(world: World) -> dict[str, int]:
    client = world.client("lambda")
    return {f["FunctionName"]: int(f["MemorySize"]) for f in client.list_functions()["Functions"]}


def _night(world: World, name: str) -> Night:
    invocations_before = len(world.dispatcher.invocations)
    calls_before = len(world.dispatcher.aws.calls)
    began = time.monotonic()
    result = world.run(name, timeout=6 * 3600)
    return Night(
        name,
        str(result["status"]),
        list(world.dispatcher.invocations[invocations_before:]),
        list(world.dispatcher.aws.calls[calls_before:]),
        _memory(world),
        time.monotonic() - began,
    )


def seed_archive(world: World, media: list[EmulatedMedia]) -> None:
    """Each video's record and object as a first night leaves them (COMPLETED, the object
    at its key with its size, CRC32 and owner), written straight to the emulated AWS."""
    s3, dynamodb = world.client("s3"), world.client("dynamodb")
    serializer = TypeSerializer()
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = []
    for emulated in media:
        item = media_item_from_fields("gopro", emulated.listing_fields(emulated.api_file_size))
        ((content_id, size),) = original_files(emulated)
        body = content(content_id, 0, size)
        key = candidate_keys(item)[0]
        crc = crc32_base64(zlib.crc32(body))
        s3.put_object(
            Bucket=BUCKET,
            Key=key,
            Body=body,
            Metadata={OWNER_METADATA: item.media_id},
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=world.environment["ARCHIVE_KMS_KEY"],
            ChecksumCRC32=crc,
        )
        record = replace(
            SyncRecord.discovered(item, now),
            status=SyncStatus.COMPLETED,
            version=4,
            object_key=key,
            stored_size=size,
            checksum=Checksum("CRC32", crc),
            transferred_at=now,
        )
        attributes = {k: serializer.serialize(v) for k, v in record_to_item(record).items()}
        batch.append({"PutRequest": {"Item": attributes}})
        if len(batch) == 25:
            dynamodb.batch_write_item(RequestItems={world.table: batch})
            batch = []
    if batch:
        dynamodb.batch_write_item(RequestItems={world.table: batch})


def run_size(videos: int, archived: bool = False) -> list[Night]:
    """A first night and a quiet night; `archived`: the quiet night only, over an archive
    seeded as a first night leaves it."""
    reset_container()
    media = plain_library(videos, start=START, size=FILE_BYTES, prefix="m")
    with (
        open(os.devnull, "w") as quiet,
        contextlib.redirect_stdout(quiet),  # the functions' metric lines (EMF)
        GoProEmulator(media) as emulator,
        local_world(emulator) as world,
    ):
        os.environ["METRICS"] = "emf"  # as deployed: metrics are log lines, not API calls
        store = SecretsManagerCredentialStore(
            world.client("secretsmanager"), world.environment["CREDENTIALS_SECRET"]
        )
        store.save("gopro", SessionCredentials(emulator.session_token, "bench-user"))
        if archived:
            seed_archive(world, media)
            nights = [_night(world, "quiet-night")]
        else:
            nights = [_night(world, "first-night"), _night(world, "quiet-night")]
    reset_container()
    return nights


def days_to_archive(first: Night, videos: int, video_gib: float) -> float:
    """Modeled days for the first import: the lister's and summary's invocations one after
    another, the downloads five at a time, each video's bytes at the GoPro bandwidth."""
    table = first.per_function()
    serial = sum(float(r.get("sum_s", 0.0)) for n, r in table.items() if "downloader" not in n)
    downloads = sum(float(r.get("sum_s", 0.0)) for n, r in table.items() if "downloader" in n)
    transfer = videos * TYPICAL.bytes("gopro", int(video_gib * 2**30))
    return (serial + (downloads + transfer) / CONCURRENCY) / 86400


def sizes(text: str) -> list[int]:
    """Comma-separated library sizes, each a whole number >= 1 ("" for none)."""
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not all(part.isdigit() and int(part) >= 1 for part in found):
        raise argparse.ArgumentTypeError(
            f"expected whole numbers >= 1 separated by commas, e.g. 1000,10000; got {text!r}"
        )
    return [int(part) for part in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--videos", type=sizes, default="1000,10000", help="library sizes, comma-separated"
    )
    parser.add_argument(
        "--video-gib", type=float, default=2.0, help="average video size for the days figure"
    )
    parser.add_argument(
        "--archived",
        type=sizes,
        default="",
        help="archive sizes, comma-separated, for a quiet night alone over an archive seeded "
        "as a first night leaves it (a first night of 100,000 is 100,000 downloads: hours here)",
    )
    args = parser.parse_args(argv)
    mbps = 8 / TYPICAL.bandwidth["gopro"].seconds
    print(
        f"first month on AWS's time: GoPro {mbps:.0f} Mbit/s a connection, "
        f"{CONCURRENCY} downloads at once, videos of {args.video_gib:g} GiB for the days figure"
    )
    summary: dict[str, Any] = {}
    runs = [(v, False) for v in args.videos] + [(v, True) for v in args.archived]
    for videos, archived in runs:
        nights = run_size(videos, archived)
        for night in nights:
            dollars = night.cost()
            per_thousand = sum(dollars.values()) * 1000 / videos
            print(
                f"\n{videos:,} videos, {night.name}: {night.status} in {night.wall_seconds:.0f} s "
                f"here; ${sum(dollars.values()):.4f} the night, ${per_thousand:.4f} per 1,000 "
                f"videos ({', '.join(f'{k} ${v:.4f}' for k, v in dollars.items())})"
            )
            print(
                f"  {'function':<28}{'invocations':>12}{'most s':>9}{'timeout':>9}"
                f"{'killed':>8}{'requests':>11}"
            )
            worst = 0.0
            for name, row in sorted(night.per_function().items()):
                share = row.get("most_s", 0.0) / max(row.get("timeout_s", 1.0), 1.0)
                worst = max(worst, share)
                print(
                    f"  {name:<28}{row.get('invocations', 0):>12,}{row.get('most_s', 0.0):>9.1f}"
                    f"{row.get('timeout_s', 0.0):>9.0f}{row.get('killed', 0):>8}"
                    f"{row.get('requests', 0):>11,}"
                )
            print("  " + night.outcome())
            key = f"{'a' if archived else 'v'}{videos}_{night.name.split('-')[0]}"
            summary[f"{key}_status"] = night.status
            summary[f"{key}_worst_share"] = round(worst, 3)
            summary[f"{key}_usd_per_1000"] = round(per_thousand, 4)
            summary[f"{key}_killed"] = sum(
                r.get("killed", 0) for r in night.per_function().values()
            )
        if not archived:
            days = days_to_archive(nights[0], videos, args.video_gib)
            print(f"  first import of {videos:,} videos of {args.video_gib:g} GiB: {days:.1f} days")
            summary[f"v{videos}_days"] = round(days, 1)
    print()
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    failed = any(v != "SUCCEEDED" for k, v in summary.items() if k.endswith("_status")) or any(
        v for k, v in summary.items() if k.endswith("_killed")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
