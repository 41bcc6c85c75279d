"""The `cloudsync` command.

    cloudsync demo [--videos N] [--seed S] [--big N] [--report PATH]
                   [--gopro-url URL --access-token T --user-id U]
    cloudsync sandbox [--videos N] [--seed S] [--env-file PATH]
    cloudsync start [--provider gopro] [--stack prod|dev] [--state-machine ARN] [--follow]
    cloudsync status [--stack prod|dev] [--table NAME] [--state-machine ARN]
    cloudsync credentials set [--provider gopro] [--stack prod|dev] [--mode oauth|session]
                              [--client-id ID] [--user-id ID] [--from-stdin]
    cloudsync verify [--provider gopro] [--bucket B] [--source] [--json] [--stack prod|dev]
    cloudsync credentials login [--provider gopro] [--stack prod|dev] [--email E]
                                [--gopro-url URL] [--from-stdin]
    cloudsync restore [request|status|fetch] [--since DAY] [--until DAY] [--media-id ID]
                      [--name GLOB] [--catalog [PATH]] [--tier bulk|standard] [--days N]
                      [--dry-run] [--all] [--to DIR | --urls [HOURS]] [--bucket B]
                      [--stack prod|dev]

A user's mistake prints one line and exits non-zero, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)
from rich.console import Console

from domain.errors import DomainError
from domain.restore import Selection, Tier
from entrypoints.cost import LIFECYCLES, CostInputError, Usage, estimate, load_prices, table
from entrypoints.operations import (
    Target,
    UserError,
    check_provider,
    login,
    read_credentials,
    read_sign_in,
    set_credentials,
    start,
    status,
)
from entrypoints.providers import UnknownProviderError
from entrypoints.restore import (
    CATALOG_IN_BUCKET,
    Request,
    run_fetch,
    run_request,
    run_status,
)
from entrypoints.verify import run_verify
from infra.config import StackConfigError, StackSettings


def _verify_parser(commands: Any, stack_options: Callable[[argparse.ArgumentParser], None]) -> None:
    check = commands.add_parser(
        "verify", help="check the archive against the tracker (and GoPro), restoring nothing"
    )
    check.add_argument("--provider", default="gopro")
    check.add_argument(
        "--bucket", default=os.environ.get("ARCHIVE_BUCKET"), help="the archive bucket"
    )
    check.add_argument("--source", action="store_true", help="compare with the GoPro listing too")
    check.add_argument(
        "--gopro-url",
        default=os.environ.get("GOPRO_API_URL"),
        help="the GoPro API (default: the stack's goproApiUrl)",
    )
    check.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    stack_options(check)


def _sandbox_parser(commands: Any) -> None:
    sandbox = commands.add_parser("sandbox", help="keep the local world running")
    sandbox.add_argument("--videos", type=int, default=24)
    sandbox.add_argument("--seed", type=int, default=1)
    sandbox.add_argument("--env-file", type=Path, help="also write the exports here")
    sandbox.add_argument(
        "--restore-seconds", type=float, default=30.0,
        help="how long a restore from Deep Archive takes here (S3: up to 12 or 48 hours)",
    )  # fmt: skip


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day as YYYY-MM-DD") from None


def _restore_parser(
    commands: Any, stack_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    restore = commands.add_parser(
        "restore",
        help="get videos back: request restores, see their status, fetch the ready ones",
        description="Select archived videos, then `restore` (request, the default), "
        "`restore status` or `restore fetch`. Criteria combine with AND.",
    )
    restore.add_argument(
        "action", nargs="?", choices=RESTORE_ACTIONS, default="request",
        help="request restores (the default), show their status, or fetch the ready ones; "
        "put it first: --catalog and --urls take an optional value",
    )  # fmt: skip
    restore.add_argument("--provider", default="gopro")
    restore.add_argument(
        "--bucket", default=os.environ.get("ARCHIVE_BUCKET"), help="the archive bucket"
    )
    restore.add_argument(
        "--catalog", nargs="?", const=CATALOG_IN_BUCKET, metavar="PATH",
        help="select from the catalog (the bucket's, or a local copy) instead of the tracker",
    )  # fmt: skip
    restore.add_argument(
        "--since", type=_day, metavar="YYYY-MM-DD", help="captured on or after this day (UTC)"
    )
    restore.add_argument(
        "--until", type=_day, metavar="YYYY-MM-DD", help="captured on or before this day (UTC)"
    )
    restore.add_argument(
        "--media-id", action="append", default=[], metavar="ID", help="this video (repeatable)"
    )
    restore.add_argument(
        "--name", metavar="GLOB", help="filename glob, e.g. 'GX01*.MP4' (any case)"
    )
    restore.add_argument(
        "--tier", choices=[t.value for t in Tier], default=Tier.BULK.value,
        help="bulk: within 48 hours, cheapest (default); standard: within 12 hours",
    )  # fmt: skip
    restore.add_argument(
        "--days", type=int, default=7, help="how long the restored copy stays readable"
    )
    restore.add_argument("--dry-run", action="store_true", help="price it; request nothing")
    restore.add_argument(
        "--all", action="store_true", dest="everything",
        help="restore the whole archive (a request needs a selection otherwise)",
    )  # fmt: skip
    restore.add_argument("--to", type=Path, metavar="DIR", help="fetch: download into this folder")
    restore.add_argument(
        "--urls", nargs="?", type=float, const=24.0, metavar="HOURS",
        help="fetch: print pre-signed links instead, valid HOURS (default 24, at most 168)",
    )  # fmt: skip
    stack_options(restore)


def _restore(args: argparse.Namespace, console: Console) -> int:
    check_provider(args.provider)
    if not args.bucket:
        raise UserError(
            "which bucket? pass --bucket or set ARCHIVE_BUCKET (`pulumi stack output bucket`)"
        )
    request = Request(
        provider=args.provider, bucket=args.bucket, catalog=args.catalog,
        selection=Selection(args.since, args.until, frozenset(args.media_id), args.name),
        tier=Tier(args.tier), days=args.days, dry_run=args.dry_run, everything=args.everything,
    )  # fmt: skip
    if args.action == "status":
        return run_status(request, _target(args), console)
    if args.action == "fetch":
        return run_fetch(request, _target(args), console, args.to, args.urls)
    return run_request(request, _target(args), console)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudsync", description="Archive a GoPro Cloud library into S3."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole system on this machine, twice")
    demo.add_argument("--videos", type=int, default=24, help="ready videos in the library")
    demo.add_argument("--seed", type=int, default=1, help="the same seed, the same library")
    demo.add_argument("--big", type=int, default=2, help="videos of 110 MiB (multipart)")
    demo.add_argument("--gopro-url", help="another GoPro API instead of the built-in emulator")
    demo.add_argument("--access-token", help="browser session token for --gopro-url")
    demo.add_argument("--user-id", help="gp_user_id for --gopro-url")
    demo.add_argument("--report", type=Path, help="write a JSON report here")

    _sandbox_parser(commands)

    def stack_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--stack", default=os.environ.get("CLOUDSYNC_STACK", "prod"))
        command.add_argument("--state-machine", default=os.environ.get("CLOUDSYNC_STATE_MACHINE"))
        command.add_argument("--table", default=os.environ.get("TRACKER_TABLE"))

    begin = commands.add_parser(
        "start",
        help="start a sync of the deployed stack",
        description="Start a sync now. While a run of the library is in progress, start "
        "nothing: name that run (one run of a library at a time).",
    )
    begin.add_argument("--provider", default="gopro")
    begin.add_argument(
        "--follow",
        action="store_true",
        help="wait, showing progress, for the new run or the one in progress; "
        "exit 1 unless it succeeds",
    )
    stack_options(begin)

    state = commands.add_parser("status", help="the sync tracker at a glance")
    stack_options(state)

    credentials = commands.add_parser("credentials", help="manage the GoPro credentials")
    actions = credentials.add_subparsers(dest="action", required=True)
    store = actions.add_parser("set", help="store credentials (secrets are prompted for)")
    store.add_argument("--provider", default="gopro")
    store.add_argument("--mode", choices=("oauth", "session"), default="session")
    store.add_argument("--client-id")
    store.add_argument("--user-id")
    store.add_argument(
        "--from-stdin", action="store_true", help="read the values as JSON from standard input"
    )
    stack_options(store)
    login = actions.add_parser(
        "login",
        help="sign in with the GoPro e-mail and password once; refreshable tokens are "
        "stored, the password never",
    )
    login.add_argument("--provider", default="gopro")
    login.add_argument("--email", help="the GoPro account's e-mail (else asked for)")
    login.add_argument(
        "--gopro-url",
        default=os.environ.get("GOPRO_API_URL"),
        help="the GoPro API (default: the stack's goproApiUrl)",
    )
    login.add_argument(
        "--from-stdin",
        action="store_true",
        help='read {"email": …, "password": …} as JSON from standard input',
    )
    stack_options(login)

    _verify_parser(commands, stack_options)
    _restore_parser(commands, stack_options)

    cost = commands.add_parser("cost", help="estimate what a month costs, for a library")
    cost.add_argument("--archive-gb", type=float, required=True, help="the library today")
    cost.add_argument("--videos", type=int, required=True, help="videos in it")
    cost.add_argument("--monthly-gb", type=float, default=0.0, help="new footage a month")
    cost.add_argument(
        "--monthly-videos", type=int, help="new videos a month (default: at the average size)"
    )
    cost.add_argument("--lifecycle", choices=sorted(LIFECYCLES), default="default")
    cost.add_argument("--memory-mb", type=int, default=512, help="the downloader's memory")
    cost.add_argument(
        "--cpu-seconds-per-gib", type=float, default=3.8,
        help="CPU seconds one GiB of transfer costs (python -m bench.transfer)",
    )  # fmt: skip
    cost.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    return parser


def _cost(args: argparse.Namespace) -> int:
    try:
        usage = Usage(
            args.archive_gb, args.videos, args.monthly_gb, args.monthly_videos,
            args.lifecycle, args.memory_mb, args.cpu_seconds_per_gib,
        )  # fmt: skip
    except CostInputError as error:
        raise UserError(str(error)) from None
    try:
        result = estimate(usage, load_prices())
    except CostInputError as error:
        raise UserError(str(error)) from None
    except KeyError as missing:
        raise UserError(f"the price file has no price {missing}") from None
    print(json.dumps(result.as_dict(), indent=2) if args.json else table(result))
    return 0


def _target(args: argparse.Namespace) -> Target:
    return Target(StackSettings(environment=args.stack), args.state_machine, args.table)


RESTORE_ACTIONS = ("request", "status", "fetch")
OWN_PACKAGES = ("domain", "adapters", "entrypoints", "infra", "sandbox")
SANDBOX_EXTRA = "sandbox"
"""The extra that brings emulated AWS (moto); only `demo` and `sandbox` need it."""


def _sandbox_commands() -> Any:
    """entrypoints.demo, which needs the sandbox extra: without it, say how to get it."""
    try:
        return importlib.import_module("entrypoints.demo")
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] in OWN_PACKAGES:
            raise  # our own code is missing: a broken install, not a missing extra
        raise UserError(
            f"`cloudsync demo` and `cloudsync sandbox` need the {SANDBOX_EXTRA!r} extra "
            f"({error.name} is not installed): pip install 'cloud-sync[{SANDBOX_EXTRA}]'"
        ) from None


def _dispatch(args: argparse.Namespace, console: Console) -> int:  # noqa: PLR0911 - a command each
    if args.command == "demo":
        demo = _sandbox_commands()
        options = demo.DemoOptions(
            args.videos, args.seed, args.big, args.gopro_url, args.access_token, args.user_id,
            args.report,
        )  # fmt: skip
        return int(demo.run_demo(options, console))
    if args.command == "sandbox":
        return int(
            _sandbox_commands().run_sandbox(
                args.videos, args.seed, args.env_file, console, args.restore_seconds
            )
        )
    if args.command == "cost":
        return _cost(args)
    if args.command == "start":
        return start(_target(args), args.provider, args.follow, console)
    if args.command == "status":
        return status(_target(args), console)
    if args.command == "verify":
        check_provider(args.provider)
        return run_verify(
            _target(args), bucket=args.bucket, provider=args.provider, source=args.source,
            gopro_url=args.gopro_url or _target(args).stack.gopro_api_url, as_json=args.json,
            console=console,
        )  # fmt: skip
    if args.command == "restore":
        return _restore(args, console)
    if args.action == "login":
        email, password = read_sign_in(args.email, args.from_stdin)
        url = args.gopro_url or _target(args).stack.gopro_api_url
        return login(
            _target(args), args.provider, email=email, password=password, gopro_url=url,
            console=console,
        )  # fmt: skip
    credentials = read_credentials(args.mode, args.client_id, args.user_id, args.from_stdin)
    return set_credentials(_target(args), args.provider, credentials, console)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    try:
        return _dispatch(args, console)
    except (UserError, UnknownProviderError, StackConfigError, DomainError) as error:
        message = str(error)
    except NoCredentialsError:
        message = "no AWS credentials found; configure a profile or set AWS_PROFILE"
    except EndpointConnectionError as error:
        message = f"cannot reach AWS at {error.kwargs.get('endpoint_url', '?')}"
    except ClientError as error:
        details = error.response.get("Error", {})
        if details.get("Code") in ("ResourceNotFoundException", "StateMachineDoesNotExist"):
            message = f"not found: {details.get('Message')} (is the stack deployed? see --stack)"
        else:
            message = f"AWS refused: {details.get('Code')}: {details.get('Message')}"
    except BotoCoreError as error:
        message = f"AWS call failed: {error}"
    except KeyboardInterrupt:
        message = "interrupted"
    print(f"cloudsync: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
