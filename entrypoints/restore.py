"""`cloudsync restore`: videos back out of the archive (domain.restore has the rules).

    cloudsync restore [request] [selection] [--tier bulk|standard] [--days N] [--dry-run]
    cloudsync restore status    [selection]
    cloudsync restore fetch     [selection] --to DIR | --urls [--link-hours H]

The selection comes from the tracker (one Scan), or with `--catalog` from the catalog the
workflow writes (`catalog/{provider}.csv` in the bucket, or a local copy): no DynamoDB
needed. Every command first looks at each selected object with a HeadObject (16 at a
time): S3 itself says whether it is archived, being restored, or ready, so what a restore
asked for on one machine is seen from any other.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from adapters.aws.archive import Requested, S3Archive, check_link_seconds
from adapters.aws.catalog_store import S3CatalogStore, catalog_key
from adapters.aws.dynamodb_tracker import DynamoDbSyncTracker, TrackerSettings
from domain.catalog import CatalogRow, parse, rows
from domain.model import Checksum
from domain.restore import (
    ARCHIVE_CLASSES,
    Local,
    ObjectState,
    Quote,
    RestoreError,
    RestorePrices,
    Selection,
    State,
    Tier,
    check_days,
    local_path,
    local_verdict,
    quote,
    recorded_checksum,
    select,
)
from domain.verification import Crc32
from entrypoints.cost import load_prices
from entrypoints.operations import Target, UserError, human_size

HEAD_WORKERS = 16
FETCH_WORKERS = 4
"""Downloads at once (rclone's default `--transfers`): one stream alternates between the
network and the disk."""
DOWNLOADED = "downloaded and verified"
CATALOG_IN_BUCKET = "bucket"
"""`--catalog` with no path: the catalog the workflow keeps in the archive bucket."""
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Request:
    """What the command was asked, with its defaults filled in."""

    provider: str
    bucket: str
    catalog: str | None
    selection: Selection
    tier: Tier = Tier.BULK
    days: int = 7
    dry_run: bool = False
    everything: bool = False
    """`--all`: a request without a selection restores the whole archive."""


def archive_client() -> Any:
    """S3 with SigV4 everywhere: pre-signed links to SSE-KMS objects need it."""
    pool = max(HEAD_WORKERS, FETCH_WORKERS) + 2  # a connection for each worker
    return boto3.client("s3", config=Config(signature_version="s3v4", max_pool_connections=pool))


def restore_prices(prices: dict[str, Any]) -> RestorePrices:
    try:
        table = prices["s3_restore"]
        per_gb = {(c, t): table[c][t.value]["gb"] for c in ARCHIVE_CLASSES for t in Tier}
        per_1000 = {(c, t): table[c][t.value]["per_1000"] for c in ARCHIVE_CLASSES for t in Tier}
        return RestorePrices(
            per_gb=per_gb,
            per_1000_requests=per_1000,
            standard_gb_month=prices["s3"]["standard_gb_month"],
            transfer_out_gb=prices["data_transfer"]["out_to_internet_gb"],
            retrieval_gb={"GLACIER_IR": prices["s3"]["glacier_ir_retrieval_gb"]},
        )
    except KeyError as missing:
        raise UserError(f"the price file has no restore price {missing}") from None


def load_rows(
    request: Request, target: Target, s3: Any, dynamodb: Callable[[], Any]
) -> list[CatalogRow]:
    """Every archived object of the provider, from the catalog or the tracker."""
    if request.catalog is None:
        tracker = DynamoDbSyncTracker(dynamodb(), TrackerSettings(table=target.table_name))
        return rows(tracker.completed(request.provider))
    if request.catalog == CATALOG_IN_BUCKET:
        text = S3CatalogStore(s3, request.bucket, "(reads only)").read(request.provider)
        if text is None:
            raise UserError(
                f"s3://{request.bucket}/{catalog_key(request.provider)} does not exist yet: "
                "the workflow writes it after each run (or leave out --catalog to use the "
                "tracker)"
            )
        return parse(text)
    try:
        return parse(Path(request.catalog).read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read the catalog {request.catalog}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{request.catalog} is not a UTF-8 catalog") from None


def survey(archive: S3Archive, chosen: Sequence[CatalogRow], console: Console) -> list[ObjectState]:
    """Each object's state, in the rows' order (a HeadObject each, in parallel)."""
    with (
        _bar(console, "HeadObject", len(chosen)) as bar,
        ThreadPoolExecutor(HEAD_WORKERS, thread_name_prefix="restore") as pool,
    ):
        task = bar.tasks[0].id
        states = []
        for row, found in zip(
            chosen, pool.map(archive.state, [r.key for r in chosen]), strict=True
        ):
            states.append(found or ObjectState(row.key, "-", State.MISSING))
            bar.advance(task)
    return states


def _bar(console: Console, what: str, total: int, *, in_bytes: bool = False) -> Progress:
    columns: list[Any] = [TextColumn(what), BarColumn()]
    columns += [DownloadColumn(), TransferSpeedColumn()] if in_bytes else []
    err = Console(stderr=True)
    bar = Progress(*columns, console=err, transient=True, disable=not err.is_terminal)
    bar.add_task(what, total=total)
    return bar


def _line(row: CatalogRow, state: ObjectState, note: str | None = None) -> str:
    size = human_size(row.size_bytes or 0)
    return f"{row.key}  {size}  {note or state.line()}"


def _quote_text(found: Quote, request: Request) -> list[str]:
    hours = (
        f"ready within {found.hours} hours ({request.tier.value} tier)"
        if found.hours
        else "no restore needed"
    )
    return [
        f"{found.objects} objects, {human_size(found.size_bytes)}; {found.to_restore} to "
        f"restore ({human_size(found.restore_bytes)}), {hours}",
        f"estimated cost: restore ${found.restore_usd:.4f} + the restored copy for "
        f"{request.days} days ${found.copy_usd:.4f} + downloading it ${found.download_usd:.4f}"
        f" = ${found.total_usd:.4f} (list prices, entrypoints/prices.json)",
    ]


def _chosen(request: Request, target: Target, s3: Any) -> list[CatalogRow]:
    return select(
        load_rows(request, target, s3, lambda: boto3.client("dynamodb")), request.selection
    )


def run_request(request: Request, target: Target, console: Console) -> int:
    """Start a restore of every selected object that needs one (or, dry, price it)."""
    check_days(request.days)
    if not request.dry_run and not request.everything and request.selection == Selection():
        raise UserError(
            "restore what? select with --since/--until, --media-id or --name, or pass --all "
            "for the whole archive (--dry-run shows what it would cost)"
        )
    s3 = archive_client()
    chosen = _chosen(request, target, s3)
    archive = S3Archive(s3, request.bucket)
    states = survey(archive, chosen, console)
    found = quote(chosen, states, request.tier, request.days, restore_prices(load_prices()))
    wanted = [
        row.key for row, s in zip(chosen, states, strict=True) if s.state is State.NOT_REQUESTED
    ]
    outcomes: dict[str, str] = {}
    if request.dry_run:
        outcomes = dict.fromkeys(wanted, f"would be restored ({request.tier.value})")
    else:
        with (
            _bar(console, "RestoreObject", len(wanted)) as bar,
            ThreadPoolExecutor(HEAD_WORKERS, thread_name_prefix="restore") as pool,
        ):

            def ask(key: str) -> Requested:
                return archive.request(key, request.tier, request.days)

            for key, answer in zip(wanted, pool.map(ask, wanted), strict=True):
                outcomes[key] = answer.value
                bar.advance(bar.tasks[0].id)
    for row, state in zip(chosen, states, strict=True):
        print(_line(row, state, outcomes.get(row.key)))
    print("\n".join(_quote_text(found, request)))
    started = sum(note == Requested.STARTED.value for note in outcomes.values())
    if request.dry_run:
        print("dry run: nothing was requested")
    elif started:
        print(
            f"{started} restores started; `cloudsync restore status` shows them, "
            "`cloudsync restore fetch --to DIR` downloads the ready ones"
        )
    return 1 if any(s.state is State.MISSING for s in states) else 0


def run_status(request: Request, target: Target, console: Console) -> int:
    s3 = archive_client()
    chosen = _chosen(request, target, s3)
    states = survey(S3Archive(s3, request.bucket), chosen, console)
    print("\n".join(_line(row, state) for row, state in zip(chosen, states, strict=True)))
    counts = {kind: sum(s.state is kind for s in states) for kind in State}
    print(", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n) + f" of {len(states)}")
    return 1 if counts[State.MISSING] else 0


def file_checksum(path: Path) -> Checksum:
    """The file's CRC32, as S3 prints it."""
    crc = Crc32()
    with path.open("rb") as local:
        while chunk := local.read(READ_CHUNK):
            crc.update(chunk)
    return crc.checksum()


def local_state(row: CatalogRow, path: Path) -> Local:
    """A file already at `path` against the row; its bytes are read only when the size is
    the record's."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return Local.ABSENT
    if not path.is_file() or (row.size_bytes is not None and size != row.size_bytes):
        return Local.DIFFERS
    return local_verdict(row, size, file_checksum(path) if recorded_checksum(row) else None)


def download(
    archive: S3Archive, row: CatalogRow, path: Path, advance: Callable[[int], None]
) -> str:
    """The object into `path`, verified against the row before it takes the name; a file
    that appears at `path` meanwhile is never replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cloudsync-", suffix=".part")
    try:
        crc, size = Crc32(), 0
        with os.fdopen(handle, "wb") as out:
            for chunk in archive.download(row.key):
                out.write(chunk)
                crc.update(chunk)
                size += len(chunk)
                advance(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if local_verdict(row, size, crc.checksum()) is not Local.SAME:
            raise RestoreError(
                f"{row.key}: the downloaded bytes ({size} bytes, CRC32 {crc.checksum().value}) "
                f"are not the archived ones ({row.size_bytes} bytes, CRC32 {row.checksum}); "
                "nothing was written"
            )
        try:
            os.link(temporary, path)  # fails, rather than replaces, when the name is taken
        except FileExistsError:
            return f"a file appeared at {path} meanwhile; left alone"
        return DOWNLOADED
    finally:
        Path(temporary).unlink(missing_ok=True)


def run_fetch(
    request: Request, target: Target, console: Console, to: Path | None, link_hours: float | None
) -> int:
    """Download the readable ones into `to` (or print links to them) and list the rest."""
    if (to is None) == (link_hours is None):  # one of the two
        raise UserError("fetch needs either --to DIR (download) or --urls (links)")
    seconds = check_link_seconds(round(link_hours * 3600)) if link_hours is not None else 0
    s3 = archive_client()
    chosen = _chosen(request, target, s3)
    archive = S3Archive(s3, request.bucket)
    states = survey(archive, chosen, console)
    ready = [(r, s) for r, s in zip(chosen, states, strict=True) if s.can_read]
    waiting = [(r, s) for r, s in zip(chosen, states, strict=True) if not s.can_read]
    faults = sum(s.state is State.MISSING for _, s in waiting)
    if to is None:
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        for row, _ in ready:
            print(f"{row.key}\t{archive.link(row.key, seconds)}")
        if ready:
            print(f"{len(ready)} links, valid until {until:%Y-%m-%d %H:%M} UTC (or until the "
                  "credentials that signed them expire, if sooner)")  # fmt: skip
    else:
        faults += _fetch_into(archive, request, ready, to.expanduser(), console)
    for row, state in waiting:
        print(_line(row, state, _waiting_note(state)))
    pending = sum(s.state is State.PENDING for _, s in waiting)
    if waiting:
        print(f"{len(waiting)} not readable yet ({pending} pending); run fetch again later")
    return 1 if faults else 0


def _waiting_note(state: ObjectState) -> str:
    if state.state is State.NOT_REQUESTED:
        return "archived, not requested: `cloudsync restore` first"
    return state.line()


def _fetch_into(
    archive: S3Archive,
    request: Request,
    ready: Iterable[tuple[CatalogRow, ObjectState]],
    folder: Path,
    console: Console,
) -> int:
    """The downloads, a line each; the number that failed or met a differing file."""
    plan = []
    faults = fetched = same = 0
    for row, _ in ready:
        path = folder / local_path(request.provider, row.key)
        verdict = local_state(row, path)
        if verdict is Local.SAME:
            same += 1
            print(f"{row.key}  already here as {path}")
        elif verdict is Local.DIFFERS:
            faults += 1
            print(f"{row.key}  {path} exists and differs from the archived video; left alone")
        else:
            plan.append((row, path))
    total = sum(row.size_bytes or 0 for row, _ in plan)
    done = 0
    with (
        _bar(console, "downloading", total, in_bytes=True) as bar,
        ThreadPoolExecutor(FETCH_WORKERS, thread_name_prefix="fetch") as pool,
    ):
        task = bar.tasks[0].id

        def fetch(planned: tuple[CatalogRow, Path]) -> str:
            row, path = planned
            try:
                return download(archive, row, path, lambda n: bar.advance(task, n))
            except RestoreError as error:
                return f"failed: {error}"

        for (row, path), outcome in zip(plan, pool.map(fetch, plan), strict=True):
            if outcome == DOWNLOADED:
                fetched += 1
                done += row.size_bytes or 0
                print(f"{row.key}  {outcome}: {path}")
            else:
                faults += 1
                print(f"{row.key}  {outcome}", file=sys.stderr)
    print(f"{fetched} downloaded ({human_size(done)}), {same} already here, into {folder}")
    return faults
