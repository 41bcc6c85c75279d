"""`cloudsync restore`: videos back out of the archive (domain.restore has the rules).

    cloudsync restore [request] [selection] [--tier bulk|standard] [--days N] [--dry-run]
    cloudsync restore status    [selection]
    cloudsync restore fetch     [selection] --to DIR | --urls [HOURS]

The selection comes from the tracker (one Scan), or with `--catalog` from the catalog the
workflow writes (`catalog/{provider}.csv` in the bucket, or a local copy): no DynamoDB
needed. Every command first looks at each selected object with a HeadObject (16 at a
time): S3 itself says whether it is archived, being restored, or ready, so what a restore
asked for on one machine is seen from any other.
"""

from __future__ import annotations

import contextvars
import errno
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from adapters.aws.archive import Requested, check_link_seconds
from adapters.aws.catalog_store import catalog_key
from domain.catalog import CatalogRow, parse, rows
from domain.model import Checksum
from domain.restore import (
    Local,
    ObjectState,
    Quote,
    RestoreError,
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
from domain.status import SyncStatus
from domain.verification import Crc32
from entrypoints.cost import load_prices, restore_prices
from entrypoints.exits import Exit, UsageError, UserError
from entrypoints.operations import check_provider, human_size

if TYPE_CHECKING:
    from adapters.aws.archive import S3Archive
    from entrypoints.cli import Output
    from entrypoints.container import Operator

HEAD_WORKERS = 16
FETCH_WORKERS = 4
"""Downloads at once (rclone's default `--transfers`): one stream alternates between the
network and the disk."""
DOWNLOADED = "downloaded and verified"
CATALOG_IN_BUCKET = "bucket"
"""`--catalog bucket`: the catalog the workflow keeps in the archive bucket."""
READ_CHUNK = 1024 * 1024
STOPS_EVERYTHING = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
"""Write errors the next file would meet too: the fetch stops, with its summary."""


@dataclass(frozen=True)
class Request:
    """What the command was asked, with its defaults filled in."""

    provider: str
    catalog: str | None
    selection: Selection
    tier: Tier = Tier.BULK
    days: int = 7
    dry_run: bool = False
    everything: bool = False
    """`--all`: a request without a selection restores the whole archive."""


def load_rows(request: Request, op: Operator) -> list[CatalogRow]:
    """Every archived object of the provider, from the catalog or the tracker."""
    check_provider(request.provider)
    if request.catalog is None:
        scan = op.tracker().scan(request.provider)
        return rows(r for r in scan.records if r.status is SyncStatus.COMPLETED)
    if request.catalog == CATALOG_IN_BUCKET:
        text = op.catalog().read(request.provider)
        if text is None:
            raise UserError(
                f"s3://{op.resolved().bucket}/{catalog_key(request.provider)} does not exist "
                "yet: the workflow writes it after each run (or leave out --catalog to use "
                "the tracker)"
            )
        return parse(text)
    try:
        return parse(Path(request.catalog).expanduser().read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read the catalog {request.catalog}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{request.catalog} is not a UTF-8 catalog") from None


def survey(archive: S3Archive, chosen: Sequence[CatalogRow], out: Output) -> list[ObjectState]:
    """Each object's state, in the rows' order (a HeadObject each, in parallel), once the
    bucket is known to exist (else every object would read as missing)."""
    archive.check()
    with _bar(out, "HeadObject", len(chosen)) as bar:
        task = bar.tasks[0].id
        return object_states(archive, chosen, lambda: bar.advance(task))


def object_states(
    archive: S3Archive, rows: Sequence[CatalogRow], advance: Callable[[], None] = lambda: None
) -> list[ObjectState]:
    """Each row's object state, in order: a HeadObject each, HEAD_WORKERS at a time; an
    object S3 does not hold is MISSING. `advance` is called as each one is known."""
    states = []
    with ThreadPoolExecutor(HEAD_WORKERS, thread_name_prefix="restore") as pool:
        for row, found in zip(
            rows, pool.map(in_context(archive.state), [r.key for r in rows]), strict=True
        ):
            states.append(found or ObjectState(row.key, "-", State.MISSING))
            advance()
    return states


def in_context[T, R](work: Callable[[T], R]) -> Callable[[T], R]:
    """`work`, run in a copy of the caller's context in whatever thread takes it: the
    correlation of its log lines (and the sandbox's ledger of AWS calls) follow it."""
    context = contextvars.copy_context()

    def run(value: T) -> R:
        return context.copy().run(work, value)

    return run


def _bar(out: Output, what: str, total: int, *, in_bytes: bool = False) -> Progress:
    columns: list[Any] = [TextColumn(what), BarColumn()]
    columns += [DownloadColumn(), TransferSpeedColumn()] if in_bytes else []
    err = Console(stderr=True)
    shown = err.is_terminal and not out.quiet
    bar = Progress(*columns, console=err, transient=True, disable=not shown)
    bar.add_task(what, total=total)
    return bar


def _line(row: CatalogRow, state: ObjectState, note: str | None = None) -> str:
    size = human_size(row.size_bytes or 0)
    return f"{row.key}  {size}  {note or state.line()}"


def _item(row: CatalogRow, state: ObjectState, note: str | None = None) -> dict[str, Any]:
    return {
        "key": row.key,
        "media_id": row.media_id,
        "chapter": row.chapter,
        "size_bytes": row.size_bytes,
        "storage_class": state.storage_class,
        "state": state.state.value,
        "ready_until": state.expires_at.isoformat() if state.expires_at else None,
        "note": note,
    }


def _quote_document(found: Quote, request: Request) -> dict[str, Any]:
    return {
        "objects": found.objects,
        "size_bytes": found.size_bytes,
        "to_restore": found.to_restore,
        "restore_bytes": found.restore_bytes,
        "tier": request.tier.value,
        "days": request.days,
        "ready_within_hours": found.hours,
        "usd": {
            "restore": round(found.restore_usd, 6),
            "restored_copy": round(found.copy_usd, 6),
            "download": round(found.download_usd, 6),
            "total": round(found.total_usd, 6),
        },
    }


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


def _chosen(request: Request, op: Operator) -> list[CatalogRow]:
    return select(load_rows(request, op), request.selection)


def _counts(states: Sequence[ObjectState]) -> dict[str, int]:
    return {kind.value: sum(s.state is kind for s in states) for kind in State}


def run_request(request: Request, op: Operator, out: Output) -> int:
    """Start a restore of every selected object that needs one (or, dry, price it)."""
    check_days(request.days)
    if not request.dry_run and not request.everything and request.selection == Selection():
        raise UsageError(
            "restore what? select with --since/--until, --media-id or --name, or pass --all "
            "for the whole archive (--dry-run shows what it would cost)"
        )
    chosen = _chosen(request, op)
    archive = op.archive()
    states = survey(archive, chosen, out)
    found = quote(chosen, states, request.tier, request.days, restore_prices(load_prices()))
    wanted = [
        row.key for row, s in zip(chosen, states, strict=True) if s.state is State.NOT_REQUESTED
    ]
    outcomes: dict[str, str] = {}
    if request.dry_run:
        outcomes = dict.fromkeys(wanted, f"would be restored ({request.tier.value})")
    else:
        with (
            _bar(out, "RestoreObject", len(wanted)) as bar,
            ThreadPoolExecutor(HEAD_WORKERS, thread_name_prefix="restore") as pool,
        ):

            def ask(key: str) -> Requested:
                return archive.request(key, request.tier, request.days)

            for key, answer in zip(wanted, pool.map(in_context(ask), wanted), strict=True):
                outcomes[key] = answer.value
                bar.advance(bar.tasks[0].id)
    started = sum(note == Requested.STARTED.value for note in outcomes.values())
    missing = any(s.state is State.MISSING for s in states)
    if out.json:
        out.emit({
            "action": "request", "dry_run": request.dry_run, "started": started,
            "objects": [_item(r, s, outcomes.get(r.key))
                        for r, s in zip(chosen, states, strict=True)],
            "quote": _quote_document(found, request), "counts": _counts(states),
        })  # fmt: skip
        return Exit.FAILED if missing else Exit.DONE
    for row, state in zip(chosen, states, strict=True):
        print(_line(row, state, outcomes.get(row.key)))
    print("\n".join(_quote_text(found, request)))
    if request.dry_run:
        out.console.print("dry run: nothing was requested")
    elif started:
        out.console.print(
            f"{started} restores started; `cloudsync restore status` shows them, "
            "`cloudsync restore fetch --to DIR` downloads the ready ones"
        )
    return Exit.FAILED if missing else Exit.DONE


def run_status(request: Request, op: Operator, out: Output) -> int:
    """Each selected object's state; 3 while some are still being restored."""
    chosen = _chosen(request, op)
    states = survey(op.archive(), chosen, out)
    counts = {kind: sum(s.state is kind for s in states) for kind in State}
    if out.json:
        out.emit({
            "action": "status",
            "objects": [_item(r, s) for r, s in zip(chosen, states, strict=True)],
            "counts": _counts(states),
        })  # fmt: skip
    else:
        print("\n".join(_line(row, state) for row, state in zip(chosen, states, strict=True)))
        print(
            ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n) + f" of {len(states)}"
        )
    if counts[State.MISSING]:
        return Exit.FAILED
    return Exit.NOT_FINISHED if counts[State.PENDING] else Exit.DONE


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
    except NotADirectoryError:  # a folder on the way is a file: the download says so
        return Local.ABSENT
    if not path.is_file() or (row.size_bytes is not None and size != row.size_bytes):
        return Local.DIFFERS
    return local_verdict(row, size, file_checksum(path) if recorded_checksum(row) else None)


class Stopped(Exception):
    """The fetch was told to stop (Ctrl-C, or a write error every file would meet)."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def download(
    archive: S3Archive,
    row: CatalogRow,
    path: Path,
    advance: Callable[[int], None],
    *,
    stop: threading.Event | None = None,
    mode: int = 0o644,
) -> str:
    """The object into `path`, verified against the row before it takes the name; a file
    that appears at `path` meanwhile is never replaced. A partial file never stays: not
    on a failure, not when `stop` is set (checked between chunks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cloudsync-", suffix=".part")
    try:
        crc, size = Crc32(), 0
        with os.fdopen(handle, "wb") as out:
            for chunk in archive.download(row.key):
                if stop is not None and stop.is_set():
                    raise Stopped
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
        os.chmod(temporary, mode)  # the user's umask, as any file they create
        try:
            os.link(temporary, path)  # fails, rather than replaces, when the name is taken
        except FileExistsError:
            return f"a file appeared at {path} meanwhile; left alone"
        return DOWNLOADED
    finally:
        Path(temporary).unlink(missing_ok=True)


def run_fetch(
    request: Request, op: Operator, out: Output, to: Path | None, link_hours: float | None
) -> int:
    """Download the readable ones into `to` (or print links to them) and list the rest:
    1 when one failed, 3 when nothing failed but some are not readable yet."""
    seconds = check_link_seconds(round(link_hours * 3600)) if link_hours is not None else 0
    chosen = _chosen(request, op)
    archive = op.archive()
    states = survey(archive, chosen, out)
    ready = [(r, s) for r, s in zip(chosen, states, strict=True) if s.can_read]
    waiting = [(r, s) for r, s in zip(chosen, states, strict=True) if not s.can_read]
    faults = sum(s.state is State.MISSING for _, s in waiting)
    document: dict[str, Any] = {"action": "fetch"}
    if to is None:
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        links = [(row, archive.link(row.key, seconds)) for row, _ in ready]
        document["links"] = [{"key": r.key, "url": url} for r, url in links]
        document["valid_until"] = until.isoformat()
        for row, url in [] if out.json else links:
            print(f"{row.key}\t{url}")
        if ready and not out.json:
            out.console.print(
                f"{len(ready)} links, valid until {until:%Y-%m-%d %H:%M} UTC (or until the "
                "credentials that signed them expire, if sooner)"
            )
    else:
        fetched = _fetch_into(archive, request, ready, to.expanduser(), out)
        faults += fetched.faults
        document["fetched"] = fetched.as_dict()
    pending = sum(s.state is State.PENDING for _, s in waiting)
    document["waiting"] = [_item(r, s, _waiting_note(s)) for r, s in waiting]
    if out.json:
        out.emit(document)
    else:
        for row, state in waiting:
            print(_line(row, state, _waiting_note(state)))
        if waiting:
            out.console.print(
                f"{len(waiting)} not readable yet ({pending} pending); run fetch again later"
            )
    if faults:
        return Exit.FAILED
    return Exit.NOT_FINISHED if waiting else Exit.DONE


def _waiting_note(state: ObjectState) -> str:
    if state.state is State.NOT_REQUESTED:
        return "archived, not requested: `cloudsync restore` first"
    return state.line()


@dataclass
class Fetched:
    folder: Path
    downloaded: int = 0
    downloaded_bytes: int = 0
    already_here: int = 0
    faults: int = 0
    not_fetched: int = 0
    stopped: str | None = None
    files: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "downloaded": self.downloaded,
            "downloaded_bytes": self.downloaded_bytes,
            "already_here": self.already_here,
            "failed": self.faults,
            "not_fetched": self.not_fetched,
            "stopped": self.stopped,
            "files": self.files,
        }


def _fetch_into(
    archive: S3Archive,
    request: Request,
    ready: Iterable[tuple[CatalogRow, ObjectState]],
    folder: Path,
    out: Output,
) -> Fetched:
    """The downloads, a line each; stops at once (removing partial files) on Ctrl-C or a
    write error the next file would meet too (a full disk), with the summary."""
    result = Fetched(folder)
    say = (lambda _text: None) if out.json else print
    plan = []
    for row, _ in ready:
        path = folder / local_path(request.provider, row.key)
        verdict = local_state(row, path)
        if verdict is Local.SAME:
            result.already_here += 1
            result.files.append({"key": row.key, "path": str(path), "outcome": "already here"})
            say(f"{row.key}  already here as {path}")
        elif verdict is Local.DIFFERS:
            result.faults += 1
            note = "exists and differs from the archived video; left alone"
            result.files.append({"key": row.key, "path": str(path), "outcome": note})
            say(f"{row.key}  {path} {note}")
        else:
            plan.append((row, path))
    stop = threading.Event()
    mode = 0o666 & ~_umask()
    total = sum(row.size_bytes or 0 for row, _ in plan)
    with _bar(out, "downloading", total, in_bytes=True) as bar:
        task = bar.tasks[0].id

        def fetch(planned: tuple[CatalogRow, Path]) -> str:
            row, path = planned
            if stop.is_set():
                raise Stopped
            try:
                return download(
                    archive, row, path, lambda n: bar.advance(task, n), stop=stop, mode=mode
                )
            except RestoreError as error:
                return f"failed: {error}"
            except OSError as error:
                if error.errno in STOPS_EVERYTHING:
                    stop.set()
                    result.stopped = f"cannot write {path}: {error.strerror}"
                return f"failed: cannot write {path}: {error.strerror}"

        pool = ThreadPoolExecutor(FETCH_WORKERS, thread_name_prefix="fetch")
        futures: dict[Future[str], tuple[CatalogRow, Path]] = {
            pool.submit(in_context(fetch), planned): planned for planned in plan
        }
        try:
            pending = set(futures)
            while pending:  # short waits: Ctrl-C reaches this thread at once
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    _record(future, futures[future], result, say)
        except KeyboardInterrupt:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)  # each stops at its next chunk
            raise
        pool.shutdown(wait=True)
    if result.stopped:
        print(f"stopped: {result.stopped}", file=sys.stderr)
    if not out.json:
        out.console.print(
            f"{result.downloaded} downloaded ({human_size(result.downloaded_bytes)}), "
            f"{result.already_here} already here, {result.faults} failed"
            + (f", {result.not_fetched} not fetched" if result.not_fetched else "")
            + f", into {folder}"
        )
    return result


def _record(
    future: Future[str], planned: tuple[CatalogRow, Path], result: Fetched,
    say: Callable[[str], None],
) -> None:  # fmt: skip
    row, path = planned
    try:
        outcome = future.result()
    except Stopped:
        result.not_fetched += 1
        result.files.append({"key": row.key, "path": str(path), "outcome": "not fetched"})
        return
    result.files.append({"key": row.key, "path": str(path), "outcome": outcome})
    if outcome == DOWNLOADED:
        result.downloaded += 1
        result.downloaded_bytes += row.size_bytes or 0
        say(f"{row.key}  {outcome}: {path}")
    else:
        result.faults += 1
        print(f"{row.key}  {outcome}", file=sys.stderr)
