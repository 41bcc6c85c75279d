"""`cloudsync demo` and `cloudsync sandbox`: the whole system on this machine."""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapters.aws.dynamodb_tracker import DynamoDbTrackerReader
from adapters.aws.secrets_store import SecretsManagerCredentialStore
from adapters.gopro.media import media_item_from_fields
from adapters.logs import configure_logging
from domain.credentials import SessionCredentials
from domain.keys import ARCHIVE_PREFIX
from domain.rules import SelectionPolicy
from entrypoints.exits import UserError
from entrypoints.handlers.runtime import reset_container
from sandbox.gopro.library import EmulatedMedia, generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.provision import BUCKET, SETTINGS
from sandbox.world import World, local_world

MIB = 1 << 20
DOWNLOADER = "video-downloader-dev"
LISTING_DRIFT = 3_245
"""How far off the demo's one reprocessed video is listed (the contract's example)."""


@dataclass
class DemoOptions:
    videos: int = 24
    seed: int = 1
    big: int = 2
    """Videos of 110 MiB, so multipart uploads show."""
    gopro_url: str | None = None
    access_token: str | None = None
    user_id: str | None = None
    report: Path | None = None


@dataclass
class Report:
    objects: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, str]] = field(default_factory=list)
    executions: list[dict[str, Any]] = field(default_factory=list)


def _records(world: World) -> list[dict[str, Any]]:
    records = DynamoDbTrackerReader(world.client("dynamodb"), world.table).scan().records
    return [
        {
            "media_id": r.media_id,
            "status": r.status.value,
            "object_key": r.object_key,
            "object_keys": list(r.object_keys),
            "chapters": len(r.chapters),
            "size": r.stored_size or 0,
            "listed_size": r.item.size_bytes,
            "retry_count": r.retry_count,
            "error": r.error,
        }
        for r in records
    ]


def _objects(world: World) -> list[dict[str, Any]]:
    s3, found = world.client("s3"), []
    archive = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=ARCHIVE_PREFIX)
    for page in archive:
        for entry in page.get("Contents", []):
            key = entry["Key"]
            body = s3.get_object(Bucket=BUCKET, Key=key)
            digest = hashlib.sha256()
            for chunk in body["Body"].iter_chunks(8 * MIB):
                digest.update(chunk)
            tags = s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
            found.append(
                {
                    "key": key,
                    "size": entry["Size"],
                    "sha256": digest.hexdigest(),
                    "media_id": body.get("Metadata", {}).get("media-id"),
                    "tags": {t["Key"]: t["Value"] for t in tags},
                    "storage_class": body.get("StorageClass", "STANDARD"),
                    "encryption": body.get("ServerSideEncryption"),
                }
            )
    return found


def _run(world: World, name: str, console: Console, total: int) -> dict[str, Any]:
    began = time.monotonic()
    before = sum(r["size"] for r in _records(world) if r["status"] == "COMPLETED")
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task(name, total=max(total, 1), info="starting")

        def tick() -> None:
            records = _records(world)
            counts = Counter(r["status"] for r in records)
            done = counts.get("COMPLETED", 0)
            size = sum(r["size"] for r in records if r["status"] == "COMPLETED")
            rate = (size - before) / max(time.monotonic() - began, 1e-3) / 1e6
            progress.update(
                task,
                completed=done + counts.get("FAILED", 0),
                info=f"{done} archived, {counts.get('FAILED', 0)} failed, "
                f"{size / 1e6:.0f} MB, this run {rate:.1f} MB/s",
            )

        result = world.run(name, tick)
        tick()
    calls = world.dispatcher.calls(DOWNLOADER)
    counts = Counter(r["status"] for r in _records(world))
    return {
        "name": name,
        "status": result["status"],
        "seconds": round(time.monotonic() - began, 1),
        "downloader_invocations": len(calls),
        "completed": counts.get("COMPLETED", 0),
        "failed": counts.get("FAILED", 0),
    }


def archivable(media: EmulatedMedia) -> bool:
    """Whether the sync will archive this item: the domain's own selection rule."""
    item = media_item_from_fields("gopro", media.listing_fields(media.api_file_size))
    return SelectionPolicy().rejects(item) is None


def demo_library(videos: int, seed: int, big: int) -> list[EmulatedMedia]:
    """The emulator's library for a demo: `big` of its plain videos made 110 MiB."""
    library = generate_library(seed, videos)
    plain = [m for m in library if archivable(m) and not m.chapters]
    for media in plain[:big]:
        media.size = 110 * MIB
    return library


def run_demo(options: DemoOptions, console: Console) -> int:
    if options.videos < 1 or options.big < 0 or options.big > options.videos:
        raise UserError("--videos must be at least 1 and --big between 0 and --videos")
    if options.gopro_url and not (options.access_token and options.user_id):
        raise UserError("--gopro-url needs --access-token and --user-id (a browser session)")
    with ExitStack() as stack:
        log_path = Path(tempfile.gettempdir()) / "cloudsync-demo.log"
        log_file = stack.enter_context(log_path.open("w", encoding="utf-8"))
        configure_logging("sandbox", stream=log_file)  # the functions log here, not on screen
        emulator = None
        if not options.gopro_url:
            library = demo_library(options.videos, options.seed, options.big)
            emulator = stack.enter_context(GoProEmulator(library))
            # Reprocessed media: the listing says 3,245 bytes more than GoPro serves.
            drifting = [m for m in library if archivable(m) and not m.chapters][-1:]
            for media in drifting:
                emulator.faults.file_size_override[media.id] = media.size + LISTING_DRIFT
        with console.status("starting the sandbox (emulated AWS, GoPro emulator)…"):
            world = stack.enter_context(local_world(emulator, options.gopro_url))
        reset_container()
        stack.callback(reset_container)
        token = options.access_token or (emulator.session_token if emulator else "")
        user = options.user_id or (emulator.user_id if emulator else "")
        store = SecretsManagerCredentialStore(
            world.client("secretsmanager"), world.environment["CREDENTIALS_SECRET"]
        )
        store.save("gopro", SessionCredentials(token, user))
        report = Report()
        expected = {m.id for m in (emulator.media.values() if emulator else []) if archivable(m)}
        console.print(f"[bold]GoPro library[/]: {len(expected) or '?'} videos to archive")
        report.executions.append(_run(world, "demo-first-run", console, len(expected)))
        first_calls = report.executions[0]["downloader_invocations"]
        report.executions.append(_run(world, "demo-second-run", console, len(expected)))
        report.executions[1]["downloader_invocations"] -= first_calls
        report.records, report.objects = _records(world), _objects(world)
        report.notifications = world.notifications()
        ok = _verify(report, emulator, expected, console)
        _summary(report, console)
        console.print(f"the functions' log lines: {log_path}")
        if options.report:
            options.report.write_text(json.dumps(report.__dict__, indent=2))
            console.print(f"report written to {options.report}")
        return 0 if ok else 1


def _verify(
    report: Report, emulator: GoProEmulator | None, expected: set[str], console: Console
) -> bool:
    problems = []
    by_key = {o["key"]: o for o in report.objects}
    for record in report.records:
        if record["status"] != "COMPLETED":
            problems.append(f"{record['media_id']} is {record['status']}: {record['error']}")
            continue
        keys = record["object_keys"]
        owned = [o for o in report.objects if o["media_id"] == record["media_id"]]
        if sorted(o["key"] for o in owned) != sorted(keys):
            problems.append(f"{record['media_id']}: objects {sorted(o['key'] for o in owned)} "
                            f"are not the record's {keys}")  # fmt: skip
        files = emulator.original_files(record["media_id"]) if emulator else []
        if emulator and len(files) != len(keys):
            problems.append(f"{record['media_id']}: {len(keys)} objects for {len(files)} files")
        for key, (content_id, size) in zip(keys, files, strict=False):
            stored = by_key.get(key)
            if stored is None:
                problems.append(f"{record['media_id']} has no object at {key}")
            elif emulator and stored["sha256"] != emulator.file_sha256(content_id, size):
                problems.append(f"{record['media_id']}: the bytes at {key} differ from GoPro's")
    missing = expected - {r["media_id"] for r in report.records}
    problems += [f"{media_id} was never archived" for media_id in sorted(missing)]
    if report.executions[1]["downloader_invocations"]:
        problems.append("the second run downloaded again")
    for problem in problems:
        console.print(f"[red]problem[/]: {problem}")
    if not problems:
        console.print("[green]verified[/]: every video archived once, byte for byte")
    return not problems


def _summary(report: Report, console: Console) -> None:
    table = Table(title="cloud-sync demo")
    for column in ("run", "status", "seconds", "downloads"):
        table.add_column(column)
    for execution in report.executions:
        table.add_row(
            execution["name"],
            execution["status"],
            str(execution["seconds"]),
            str(execution["downloader_invocations"]),
        )
    console.print(table)
    size = sum(o["size"] for o in report.objects)
    chaptered = [r for r in report.records if r["chapters"]]
    videos = len([r for r in report.records if r["status"] == "COMPLETED"])
    console.print(
        f"{len(report.objects)} objects for {videos} videos, {size / 1e6:.1f} MB in s3://{BUCKET}"
        + "".join(
            f"; {r['media_id']} in {r['chapters']} chapters: "
            + ", ".join(k.rsplit("/", 1)[1] for k in r["object_keys"])
            for r in chaptered
        )
    )
    drift = [r for r in report.records if r["listed_size"] not in (None, r["size"])]
    for r in drift:
        console.print(
            f"size drift: {r['media_id']} listed {r['listed_size']} bytes, served {r['size']}"
        )
    for note in report.notifications:
        console.print(f"alert: {note['subject']}")


def run_sandbox(
    videos: int, seed: int, env_file: Path | None, console: Console, restore_seconds: float
) -> int:
    log_path = Path(tempfile.gettempdir()) / "cloudsync-sandbox.log"
    with (
        log_path.open("w", encoding="utf-8") as log_file,
        GoProEmulator(generate_library(seed, videos)) as emulator,
        local_world(emulator, restore_seconds=restore_seconds) as world,
    ):
        configure_logging("sandbox", stream=log_file)  # the functions log here, not on screen
        reset_container()
        SecretsManagerCredentialStore(
            world.client("secretsmanager"), world.environment["CREDENTIALS_SECRET"]
        ).save("gopro", SessionCredentials(emulator.session_token, emulator.user_id))
        # AWS's own variables and the stack: `cloudsync` finds the resources by itself.
        exports = {k: v for k, v in world.environment.items() if k.startswith("AWS_")}
        exports["CLOUDSYNC_STACK"] = SETTINGS.environment
        lines = [f"export {name}={value}" for name, value in sorted(exports.items())]
        console.print("\n".join(lines))
        if env_file:
            # Whole or not at all: a reader polling for the file never sees half of it.
            partial = env_file.with_name(f".{env_file.name}.partial")
            partial.write_text("\n".join(lines) + "\n")
            partial.replace(env_file)
            console.print(f"written to {env_file}")
        console.print(f"the functions' log lines: {log_path}")
        console.print(
            f"GoPro emulator at {emulator.base_url}: its session token is stored already; "
            f"to sign in instead: cloudsync credentials login --email {emulator.username} "
            f"(password: {emulator.password})"
        )
        console.print("sandbox running; Ctrl-C stops it")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: still stopping
        console.print("stopping the sandbox")
        reset_container()
    return 0
