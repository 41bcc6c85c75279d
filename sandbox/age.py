"""Age the sandbox's archive as its lifecycle would: every object under `gopro-videos/`
moves to DEEP_ARCHIVE (or the class asked for), keeping its bytes, checksum and metadata.
moto runs no lifecycle, so without this the sandbox never holds an object to restore.

    python -m sandbox.age [--storage-class DEEP_ARCHIVE]

It talks to the sandbox `cloudsync sandbox` started (its exports in the environment) and
refuses any other endpoint: on a real bucket the lifecycle does this, and a copy would bill.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import boto3

from domain.keys import ARCHIVE_PREFIX
from sandbox.provision import BUCKET

LOOPBACK = ("127.0.0.1", "localhost", "::1")
CLASSES = ("STANDARD", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
"""Warmest first: a lifecycle only moves an object down this list, as `age` does."""


class NotTheSandboxError(Exception):
    pass


def sandbox_endpoint() -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlsplit(endpoint).hostname not in LOOPBACK:
        raise NotTheSandboxError(
            f"AWS_ENDPOINT_URL is {endpoint or 'unset'}, not the sandbox on loopback: run "
            "`cloudsync sandbox --env-file .sandbox.env` and `. ./.sandbox.env` first"
        )
    return endpoint


def age(s3: Any, bucket: str, storage_class: str, prefix: str = ARCHIVE_PREFIX) -> int:
    """Copy each archived object in a warmer class onto itself in `storage_class`; the
    number moved (an object already as cold or colder stays, as under a lifecycle)."""
    moved = 0
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for entry in page.get("Contents", []):
            if CLASSES.index(entry.get("StorageClass", "STANDARD")) >= CLASSES.index(storage_class):
                continue
            s3.copy_object(
                Bucket=bucket,
                Key=entry["Key"],
                CopySource={"Bucket": bucket, "Key": entry["Key"]},
                StorageClass=storage_class,
                MetadataDirective="COPY",
                ChecksumAlgorithm="CRC32",
            )
            moved += 1
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.age", description=__doc__)
    parser.add_argument(
        "--bucket",
        default=os.environ.get("ARCHIVE_BUCKET") or BUCKET,
        help=f"the sandbox's archive bucket (default: ARCHIVE_BUCKET, else {BUCKET})",
    )
    parser.add_argument("--storage-class", choices=CLASSES, default="DEEP_ARCHIVE")
    args = parser.parse_args(argv)
    try:
        endpoint = sandbox_endpoint()
    except NotTheSandboxError as error:
        print(f"sandbox.age: error: {error}", file=sys.stderr)
        return 1
    moved = age(boto3.client("s3", endpoint_url=endpoint), args.bucket, args.storage_class)
    print(f"{moved} objects moved to {args.storage_class}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
