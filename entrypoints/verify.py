"""`cloudsync verify`: the archive checked against the tracker (and, asked, GoPro) without
restoring anything: domain.audit's `audit_archive`, over the Operator container's ports.

Cost-aware: one ListObjectsV2 page per 1,000 objects finds what is there and its size; a
HeadObject (with ChecksumMode) of each object a record names and the listing holds reads
the whole-object CRC32 S3 keeps, 16 at a time. Nothing is downloaded; Deep Archive objects
answer HeadObject as any other. The tracker is read with one Scan.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress

from domain.audit import Audit, audit_archive
from domain.keys import archive_prefix
from domain.letgo import let_go_report
from domain.model import MediaItem
from entrypoints.container import stack_policy
from entrypoints.exits import Exit
from entrypoints.letgo import write_report
from entrypoints.operations import check_provider

if TYPE_CHECKING:
    from entrypoints.cli import Output
    from entrypoints.container import Operator


def summary(report: Audit) -> str:
    notes = len(report.discrepancies) - len(report.faults)
    source = f", {report.source_listed} listed by GoPro" if report.source_listed is not None else ""
    r = report.requests
    return (
        f"{len(report.faults)} discrepancies ({notes} notes) among {report.records} records, "
        f"{report.objects_expected} archived objects and {report.objects_in_bucket} in the "
        f"bucket{source}; {r.total} AWS requests ({r.scan} Scan, {r.list_objects} "
        f"ListObjectsV2, {r.head_object} HeadObject)"
    )


def as_dict(report: Audit) -> dict[str, Any]:
    return {
        "passed": not report.faults,
        "records": report.records,
        "objects_expected": report.objects_expected,
        "objects_in_bucket": report.objects_in_bucket,
        "source_listed": report.source_listed,
        "requests": {
            "scan": report.requests.scan,
            "list_objects": report.requests.list_objects,
            "head_object": report.requests.head_object,
        },
        "discrepancies": [d.as_dict() for d in report.discrepancies],
    }


def render(report: Audit, as_json: bool) -> str:
    if as_json:
        return json.dumps(as_dict(report), indent=2)
    return "\n".join([*(d.line() for d in report.discrepancies), summary(report)])


def run_verify(
    op: Operator, *, provider: str, source: bool, out: Output, report_to: Path | None = None
) -> int:
    """The command: one line a discrepancy and a summary (or JSON); 1 on a fault. With
    `report_to`, the source is read too and the dated let-go report is written there."""
    check_provider(provider)
    source = source or report_to is not None
    target = op.resolved()
    selection = target.stack.settings.selection
    policy = stack_policy(selection)
    items: list[MediaItem] = []
    scan = op.tracker().scan()
    archive = op.archive_reader()
    # The report needs the storage classes too: one listing serves the audit and it.
    listed = archive.listing(archive_prefix(provider)) if report_to is not None else None
    in_bucket = {key: o.size_bytes for key, o in listed.items()} if listed is not None else None
    err = Console(stderr=True)
    with Progress(console=err, transient=True, disable=not err.is_terminal or out.quiet) as bar:
        task = bar.add_task("HeadObject", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if not source:
            report = audit_archive(provider, scan, archive, progress=progress)
        else:
            registry = op.registry()
            media = registry[provider].source(op.credential_store().load(provider))
            items = [item for page in media.pages() for item in page.items]
            report = audit_archive(
                provider, scan, archive, listing=lambda: items, policy=policy,
                progress=progress, in_bucket=in_bucket,
            )  # fmt: skip
    print(render(report, out.json))
    if report_to is not None and listed is not None:
        letgo = let_go_report(
            items,
            {r.media_id: r for r in scan.records if r.provider == provider},
            report.faults,
            {key: o.storage_class for key, o in listed.items()},
            policy,
            deep_archive_after=timedelta(days=target.stack.settings.deep_archive_after_days),
            now=datetime.now(UTC),
        )
        context = {"stack": target.stack.name, "bucket": target.bucket,
                   "selection": selection.describe()}  # fmt: skip
        written = write_report(letgo, report_to, context)
        print(letgo.verdict, file=sys.stderr if out.json else sys.stdout)
        out.console.print(f"report: {written[1]} (and {written[0].name})")
        return Exit.DONE if letgo.safe and not report.faults else Exit.FAILED
    return Exit.FAILED if report.faults else Exit.DONE
