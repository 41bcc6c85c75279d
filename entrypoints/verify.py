"""`cloudsync verify`: the archive checked against the tracker (and, asked, GoPro) without
restoring anything (domain.audit says what is checked).

Cost-aware: one ListObjectsV2 page per 1,000 objects finds what is there and its size; a
HeadObject (with ChecksumMode) of each object a record names and the listing holds reads
the whole-object CRC32 S3 keeps, 16 at a time. Nothing is downloaded; Deep Archive objects
answer HeadObject as any other. The tracker is read with one Scan.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import boto3
from rich.console import Console
from rich.progress import Progress

from adapters.aws.records import record_from_item
from adapters.aws.s3_store import LIST_PAGE_KEYS, S3ObjectStore, S3Settings, s3_client
from adapters.gopro.settings import make_client
from adapters.gopro.source import GoProMediaSource
from domain.audit import (
    Discrepancy,
    against_source,
    archived_objects,
    check_object,
    check_stored,
    unclaimed,
    unreadable_record,
)
from domain.errors import UnreadableRecordError
from domain.keys import archive_prefix
from domain.model import MediaItem, SyncRecord
from domain.rules import SelectionPolicy
from entrypoints.operations import (
    Target,
    UserError,
    deployed_store,
    deserialise,
    gopro_settings,
)


@dataclass
class Requests:
    """The AWS requests a verification made, by kind (what it cost)."""

    scan: int = 0
    list_objects: int = 0
    head_object: int = 0

    @property
    def total(self) -> int:
        return self.scan + self.list_objects + self.head_object


@dataclass
class VerifyReport:
    records: int = 0
    objects_expected: int = 0
    objects_in_bucket: int = 0
    source_listed: int | None = None
    discrepancies: list[Discrepancy] = field(default_factory=list)
    requests: Requests = field(default_factory=Requests)

    @property
    def faults(self) -> list[Discrepancy]:
        return [d for d in self.discrepancies if d.is_fault]

    def summary(self) -> str:
        notes = len(self.discrepancies) - len(self.faults)
        source = f", {self.source_listed} listed by GoPro" if self.source_listed is not None else ""
        r = self.requests
        return (
            f"{len(self.faults)} discrepancies ({notes} notes) among {self.records} records, "
            f"{self.objects_expected} archived objects and {self.objects_in_bucket} in the "
            f"bucket{source}; {r.total} AWS requests ({r.scan} Scan, {r.list_objects} "
            f"ListObjectsV2, {r.head_object} HeadObject)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": not self.faults,
            "records": self.records,
            "objects_expected": self.objects_expected,
            "objects_in_bucket": self.objects_in_bucket,
            "source_listed": self.source_listed,
            "requests": {
                "scan": self.requests.scan,
                "list_objects": self.requests.list_objects,
                "head_object": self.requests.head_object,
            },
            "discrepancies": [d.as_dict() for d in self.discrepancies],
        }


def read_records(dynamodb: Any, table: str, report: VerifyReport) -> list[SyncRecord]:
    """Every record of the table; one that cannot be read is a discrepancy of its own."""
    records: list[SyncRecord] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        report.requests.scan += 1
        for item in page["Items"]:
            values = deserialise(item)
            try:
                records.append(record_from_item(values))
            except UnreadableRecordError as error:
                report.discrepancies.append(unreadable_record(error.media_id, error.reason))
    return records


def verify(
    *,
    s3: Any,
    dynamodb: Any,
    bucket: str,
    table: str,
    provider: str,
    listing: Callable[[], Iterable[MediaItem]] | None = None,
    policy: SelectionPolicy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """The whole check (see the module docstring); `listing` adds the source's side."""
    report = VerifyReport()
    records = [r for r in read_records(dynamodb, table, report) if r.provider == provider]
    report.records = len(records)
    store = S3ObjectStore(s3, S3Settings(bucket=bucket, kms_key_id="(reads only)"))
    in_bucket = store.sizes(archive_prefix(provider))
    report.requests.list_objects = max(1, math.ceil(len(in_bucket) / LIST_PAGE_KEYS))
    report.objects_in_bucket = len(in_bucket)
    expected = [obj for record in records for obj in archived_objects(record)]
    report.objects_expected = len(expected)
    present = [obj for obj in expected if obj.key in in_bucket]
    for obj in expected:
        if obj.key not in in_bucket:  # the listing says so: no HeadObject needed
            found = check_object(obj, None)
            if found is not None:
                report.discrepancies.append(found)

    report.discrepancies += check_stored(present, store, progress=progress)
    report.requests.head_object += len(present)
    report.discrepancies += unclaimed(provider, in_bucket, records)
    if listing is not None:
        items = list(listing())
        report.source_listed = len(items)
        by_id = {record.media_id: record for record in records}
        report.discrepancies += against_source(by_id, items, policy or SelectionPolicy())
    return report


def render(report: VerifyReport, as_json: bool) -> str:
    if as_json:
        return json.dumps(report.as_dict(), indent=2)
    return "\n".join([*(d.line() for d in report.discrepancies), report.summary()])


def run_verify(
    target: Target,
    *,
    bucket: str | None,
    provider: str,
    source: bool,
    gopro_url: str,
    as_json: bool,
    console: Console,
) -> int:
    """The command: one line a discrepancy and a summary (or JSON); non-zero on a fault."""
    if not bucket:
        raise UserError(
            "which bucket? pass --bucket or set ARCHIVE_BUCKET (`pulumi stack output bucket`)"
        )
    s3, dynamodb = s3_client(boto3.session.Session()), boto3.client("dynamodb")
    err = Console(stderr=True)
    with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("HeadObject", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def checked(listing: Callable[[], Iterable[MediaItem]] | None) -> VerifyReport:
            return verify(
                s3=s3, dynamodb=dynamodb, bucket=bucket or "", table=target.table_name,
                provider=provider, listing=listing, progress=progress,
            )  # fmt: skip

        if not source:
            report = checked(None)
        else:
            store, _ = deployed_store(target, provider)
            credentials = store.load(provider)
            settings = gopro_settings(gopro_url)
            with make_client(settings) as client:
                media = GoProMediaSource(client, settings, credentials)
                report = checked(media.list_media)
    print(render(report, as_json), file=sys.stdout)
    return 1 if report.faults else 0
