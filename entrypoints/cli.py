"""The `cloudsync` command (click): `cloudsync --help` lists the commands, and each
command's `--help` its options with their defaults, environment variables and an example.

A setting comes from its flag, else its environment variable, else the stack (the
project's `Pulumi.<stack>.yaml` and what the deployed stack says about itself), else its
default. A user's mistake prints one line and exits non-zero, without a traceback; the exit
codes are entrypoints.exits'. This module imports only click: each command loads what it
needs when it runs, so `--help` answers at once.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from entrypoints.cost import LIFECYCLES
from entrypoints.exits import Exit, UsageError, UserError

if TYPE_CHECKING:
    from rich.console import Console

    from entrypoints.container import Operator
    from entrypoints.restore import Request

HELP_OPTIONS = ["-h", "--help"]
CONTEXT: dict[str, Any] = {"help_option_names": HELP_OPTIONS, "max_content_width": 100}
DEFAULT_STACK = "prod"
EXIT_CODES = """\b
Exit codes: 0 done, 1 failed, 2 usage, 3 not finished yet (restores or a run still in
progress), 130 interrupted, 141 output closed."""


class ClosedPipeError(Exception):
    """Standard output was closed; not an OSError, so that click leaves it to `main`."""


class Commands(click.Group):
    """Commands listed in the order they are defined, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ClosedPipeError from None


class DefaultTo(Commands):
    """A group whose first subcommand is taken when none is named
    (`cloudsync restore --since …` is `cloudsync restore request --since …`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        helping = set(ctx.help_option_names)
        if args and args[0] not in self.commands and args[0] not in helping:
            args = [next(iter(self.commands)), *args]
        return super().parse_args(ctx, args)


class Output:
    """How a command speaks: `-q` keeps only results and errors, `-v` logs, `--json`
    prints one JSON document on standard output and nothing else there."""

    def __init__(self, quiet: bool, verbose: int, as_json: bool) -> None:
        self.quiet, self.verbose, self.json = quiet, verbose, as_json
        if verbose:
            import logging  # noqa: PLC0415

            logging.basicConfig(
                stream=sys.stderr,
                level=logging.DEBUG if verbose > 1 else logging.INFO,
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
            if verbose < 3:
                for noisy in ("botocore", "urllib3", "httpcore", "s3transfer"):
                    logging.getLogger(noisy).setLevel(
                        logging.DEBUG if verbose > 1 else logging.WARNING
                    )

    @functools.cached_property
    def console(self) -> Console:
        """Human output: on standard output, or standard error when --json holds it; text
        is printed as it is (a `[tag]` in an error message is not markup)."""
        from rich.console import Console  # noqa: PLC0415

        return Console(
            stderr=self.json, quiet=self.quiet, markup=False, highlight=False, soft_wrap=True
        )

    @functools.cached_property
    def styled(self) -> Console:
        """Human output with rich's markup, for text of our own only (the demo's)."""
        from rich.console import Console  # noqa: PLC0415

        return Console(quiet=self.quiet)

    def emit(self, document: Any) -> None:
        import json  # noqa: PLC0415

        click.echo(json.dumps(document, indent=2, default=str))


def output_options(*, as_json: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """-q, -v (and --json) on a command; the command gets `out`, an Output."""

    def wrap(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, quiet: bool, verbose: int, json: bool = False, **kwargs: Any) -> Any:
            return command(*args, out=Output(quiet, verbose, json), **kwargs)

        options = [
            click.option("-q", "--quiet", is_flag=True, help="Print only results and errors."),
            click.option(
                "-v", "--verbose", count=True, help="Log what is done (-vv: every AWS call)."
            ),
        ]
        if as_json:
            options.append(
                click.option("--json", is_flag=True, help="Print one JSON document, for scripts.")
            )
        for option in reversed(options):
            run = option(run)
        return run

    return wrap


def stack_options(
    *, bucket: bool = False, table: bool = False, machine: bool = False, gopro: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--stack and --region, and the resources a command reads; the command gets `op`,
    the Operator container of that stack."""

    def wrap(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(
            *args: Any,
            stack: str,
            region: str | None,
            bucket: str | None = None,
            table: str | None = None,
            state_machine: str | None = None,
            gopro_url: str | None = None,
            **kwargs: Any,
        ) -> Any:
            from entrypoints.container import Operator  # noqa: PLC0415
            from entrypoints.stack import Target, read_stack  # noqa: PLC0415

            target = Target(
                read_stack(stack),
                bucket_given=bucket,
                table_given=table,
                state_machine_given=state_machine,
                gopro_url_given=gopro_url,
                region_given=region,
            )
            return command(*args, op=Operator(target=target), **kwargs)

        options = [
            click.option(
                "--stack", envvar="CLOUDSYNC_STACK", default=DEFAULT_STACK, show_default=True,
                show_envvar=True, metavar="NAME",
                help="The Pulumi stack (Pulumi.NAME.yaml in the project folder).",
            ),
            click.option(
                "--region", metavar="REGION",
                help="The AWS region [default: AWS_REGION, else the stack's aws:region].",
            ),
        ]  # fmt: skip
        if bucket:
            options.append(_resource_option("--bucket", "ARCHIVE_BUCKET", "The archive bucket."))
        if table:
            options.append(_resource_option("--table", "TRACKER_TABLE", "The sync tracker."))
        if machine:
            options.append(
                _resource_option(
                    "--state-machine", "CLOUDSYNC_STATE_MACHINE", "The workflow's ARN."
                )
            )
        if gopro:
            options.append(
                click.option(
                    "--gopro-url",
                    envvar="GOPRO_API_URL",
                    show_envvar=True,
                    metavar="URL",
                    help="The GoPro API [default: the stack's, else https://api.gopro.com].",
                )
            )
        for option in reversed(options):
            run = option(run)
        return run

    return wrap


def _resource_option(name: str, variable: str, what: str) -> Callable[..., Any]:
    return click.option(
        name, envvar=variable, show_envvar=True, metavar="NAME",
        help=f"{what} [default: the deployed stack's]",
    )  # fmt: skip


def _provider_option() -> Callable[..., Any]:
    return click.option(
        "--provider", default="gopro", show_default=True, help="The media provider."
    )


def _ends(code: int) -> None:
    """End the command with `code` (click returns it from main)."""
    raise click.exceptions.Exit(code)


@click.group(cls=Commands, context_settings=CONTEXT, epilog=EXIT_CODES)
@click.version_option(
    package_name="cloud-sync", prog_name="cloudsync", message="%(prog)s %(version)s"
)
def cloudsync() -> None:
    """Archive a GoPro Cloud library into your own S3 bucket, every night.

    \b
    First time here? `cloudsync demo` runs the whole system on this machine.
    Deployed with `pulumi up`? `cloudsync status --stack prod` shows it.
    """


# ---------------------------------------------------------------- the local world


def library_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The emulated library's size and seed (demo and sandbox)."""
    command = click.option(
        "--seed", type=int, default=1, show_default=True, help="The same seed, the same library."
    )(command)
    return click.option(
        "--videos",
        type=click.IntRange(1),
        default=24,
        show_default=True,
        help="Ready videos in the emulated library.",
    )(command)


@cloudsync.command(epilog="Example: cloudsync demo --videos 8 --report demo.json")
@library_options
@click.option(
    "--big",
    type=click.IntRange(0),
    default=2,
    show_default=True,
    help="Videos of 110 MiB among them (multipart uploads).",
)
@click.option("--gopro-url", metavar="URL", help="Another GoPro API instead of the emulator.")
@click.option("--access-token", help="A browser session token for --gopro-url.")
@click.option("--user-id", help="The gp_user_id for --gopro-url.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a JSON report here.",
)
@output_options(as_json=False)
def demo(
    *,
    videos: int, seed: int, big: int, gopro_url: str | None, access_token: str | None,
    user_id: str | None, report: Path | None, out: Output,
) -> int:  # fmt: skip
    """Run the whole system on this machine, twice: emulated AWS and GoPro.

    The first run archives every video, the second finds nothing new; each video is
    checked byte for byte. Needs the `sandbox` extra (moto).
    """
    module = _sandbox_commands()
    options = module.DemoOptions(videos, seed, big, gopro_url, access_token, user_id, report)
    return int(module.run_demo(options, out.styled))


@cloudsync.command(epilog="Example: cloudsync sandbox --videos 40 --env-file .sandbox.env")
@library_options
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the environment to `source` in another terminal here.",
)
@click.option(
    "--restore-seconds",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="How long a restore from Deep Archive takes here (S3: 12 to 48 hours).",
)
@output_options(as_json=False)
def sandbox(
    videos: int, seed: int, env_file: Path | None, restore_seconds: float, out: Output
) -> int:  # fmt: skip
    """Keep the local world running for the other commands, until Ctrl-C.

    Prints the environment that points `cloudsync` (and the AWS CLI) at it.
    """
    module = _sandbox_commands()
    return int(module.run_sandbox(videos, seed, env_file, out.styled, restore_seconds))


SANDBOX_EXTRA = "sandbox"
"""The extra that brings emulated AWS (moto); only `demo` and `sandbox` need it."""
OWN_PACKAGES = ("domain", "adapters", "entrypoints", "infra", "sandbox")


def _sandbox_commands() -> Any:
    """entrypoints.demo, which needs the sandbox extra: without it, say how to get it."""
    import importlib  # noqa: PLC0415

    try:
        return importlib.import_module("entrypoints.demo")
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] in OWN_PACKAGES:
            raise  # our own code is missing: a broken install, not a missing extra
        raise UserError(
            f"`cloudsync demo` and `cloudsync sandbox` need the {SANDBOX_EXTRA!r} extra "
            f"({error.name} is not installed): pip install 'cloud-sync[{SANDBOX_EXTRA}]'"
        ) from None


# ---------------------------------------------------------------- runs


@cloudsync.command(epilog="Example: cloudsync start --stack prod --follow")
@_provider_option()
@click.option(
    "--follow",
    is_flag=True,
    help="Wait for the run's end, showing progress; exit 1 unless it succeeds.",
)
@click.option(
    "--new",
    is_flag=True,
    help="Start a run even when one is in progress (it waits for the library).",
)
@stack_options(machine=True)
@output_options()
def start(provider: str, follow: bool, new: bool, op: Operator, out: Output) -> int:
    """Start a sync now.

    While a run of the library is in progress, start nothing: name that run (and follow
    it with --follow). One run of a library at a time.
    """
    from entrypoints.operations import start as run  # noqa: PLC0415

    return run(op, provider, follow=follow, new=new, out=out)


@cloudsync.command(epilog="Example: cloudsync status --stack prod --json")
@stack_options(table=True, machine=True)
@output_options()
def status(op: Operator, out: Output) -> int:
    """The archive at a glance: videos by state, what failed and why, the last run."""
    from entrypoints.operations import status as run  # noqa: PLC0415

    return run(op, out)


@cloudsync.command(epilog="Example: cloudsync runs --limit 5 --json")
@click.option(
    "--limit",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="How many of the latest runs.",
)
@stack_options(machine=True)
@output_options()
def runs(limit: int, op: Operator, out: Output) -> int:
    """The latest runs: start, duration, outcome, videos archived and failed, and why a
    failed run failed. Exit 1 when the latest run failed."""
    from entrypoints.operations import runs as run  # noqa: PLC0415

    return run(op, limit, out)


# ---------------------------------------------------------------- credentials


@cloudsync.group(cls=Commands, context_settings=CONTEXT)
def credentials() -> None:
    """Store, show and test the GoPro credentials the nightly sync uses."""


@credentials.command("set", epilog="Example: cloudsync credentials set --mode session "
                     "--from-stdin < token.json")  # fmt: skip
@_provider_option()
@click.option(
    "--mode",
    type=click.Choice(["session", "oauth"]),
    default="session",
    show_default=True,
    help="A browser session token, or an OAuth client.",
)
@click.option("--client-id", help="oauth: the client id (else asked for).")
@click.option("--user-id", help="The GoPro user id (else asked for).")
@click.option(
    "--from-stdin", is_flag=True, help="Read the values as one JSON object from standard input."
)
@click.option("--force", is_flag=True, help="Store them even when GoPro refuses them.")
@stack_options(gopro=True)
@output_options()
def credentials_set(
    *,
    provider: str, mode: str, client_id: str | None, user_id: str | None, from_stdin: bool,
    force: bool, op: Operator, out: Output,
) -> int:  # fmt: skip
    """Store credentials; secrets are asked for without echo, never taken as arguments.

    They are tried against GoPro first: refused ones are not stored unless --force.
    """
    from entrypoints.operations import read_credentials, set_credentials  # noqa: PLC0415

    given = read_credentials(mode, client_id, user_id, from_stdin)
    return set_credentials(op, provider, given, force=force, out=out)


@credentials.command(epilog="Example: cloudsync credentials login --email you@example.com")
@_provider_option()
@click.option("--email", help="The GoPro account's e-mail (else asked for).")
@click.option(
    "--from-stdin",
    is_flag=True,
    help='Read {"email": …, "password": …} as JSON from standard input.',
)
@stack_options(gopro=True)
@output_options()
def login(
    provider: str, email: str | None, from_stdin: bool, op: Operator, out: Output
) -> int:  # fmt: skip
    """Sign in with the GoPro e-mail and password once: refreshable tokens are stored,
    the password never."""
    from entrypoints.operations import login as run  # noqa: PLC0415
    from entrypoints.operations import read_sign_in  # noqa: PLC0415

    op.gopro_settings()  # a wrong --gopro-url is said before the password is asked for
    address, password = read_sign_in(email, from_stdin)
    return run(op, provider, email=address, password=password, out=out)


@credentials.command(epilog="Example: cloudsync credentials show --json")
@_provider_option()
@stack_options()
@output_options()
def show(provider: str, op: Operator, out: Output) -> int:
    """What is stored: the mode, user id, expiry and version; never a secret."""
    from entrypoints.operations import show_credentials  # noqa: PLC0415

    return show_credentials(op, provider, out)


@credentials.command(epilog="Example: cloudsync credentials test")
@_provider_option()
@stack_options(gopro=True)
@output_options()
def test(provider: str, op: Operator, out: Output) -> int:
    """Try the stored credentials against GoPro (one listing page); exit 1 when refused."""
    from entrypoints.operations import test_credentials  # noqa: PLC0415

    return test_credentials(op, provider, out)


# ---------------------------------------------------------------- the archive


@cloudsync.command(epilog="Example: cloudsync verify --source --report ~/gopro-archive-report")
@_provider_option()
@click.option("--source", is_flag=True, help="Compare with GoPro's listing too.")
@click.option(
    "--report", "report_to", type=click.Path(path_type=Path), metavar="PATH",
    help="Write the dated report of whether everything GoPro holds is archived and "
    "verified: PATH-YYYY-MM-DD.json and .html (implies --source).",
)  # fmt: skip
@stack_options(bucket=True, table=True, gopro=True)
@output_options()
def verify(provider: str, source: bool, report_to: Path | None, op: Operator, out: Output) -> int:
    """Check the archive against the tracker (and GoPro), restoring nothing.

    One listing per 1,000 objects and a HeadObject each (the checksum S3 keeps); nothing
    is downloaded. Exit 1 on a discrepancy, or when the report finds something GoPro
    holds that is not archived and verified.
    """
    from entrypoints.verify import run_verify  # noqa: PLC0415

    return run_verify(op, provider=provider, source=source, out=out, report_to=report_to)


@cloudsync.command(epilog="Example: cloudsync browse --catalog --port 8321")
@_provider_option()
@click.option("--catalog", is_flag=False, flag_value="bucket", metavar="[PATH]",
              help="Show the catalog instead of the tracker: the bucket's (no PATH), or a "
              "local copy.")  # fmt: skip
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True,
    envvar="CLOUDSYNC_BROWSE_PORT", show_envvar=True,
    help="Port on 127.0.0.1 (0: any free one).",
)  # fmt: skip
@click.option("--open/--no-open", "open_browser", default=False, show_default=True,
              help="Open the page in the default web browser.")  # fmt: skip
@stack_options(bucket=True, table=True)
@output_options()
def browse(
    *, provider: str, catalog: str | None, port: int, open_browser: bool, op: Operator,
    out: Output,
) -> int:  # fmt: skip
    """See the archive in a web browser: thumbnails, filters, restores, the last runs.

    Serves a page on 127.0.0.1 only (nothing is exposed to the network), with this
    machine's AWS credentials, until Ctrl-C. Restores and downloads cost money: each
    asks for a confirmation that states the amount. With --json the first line is
    {"url": …}.
    """
    from entrypoints.browse.serve import load, serve  # noqa: PLC0415

    return serve(load(op, provider, catalog, out), port, open_browser=open_browser, out=out)


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from datetime import date  # noqa: PLC0415

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day as YYYY-MM-DD") from None


def selection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The selection every restore action takes; criteria combine with AND."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        _provider_option(),
        click.option("--catalog", is_flag=False, flag_value="bucket", metavar="[PATH]",
                     help="Select from the catalog instead of the tracker: the bucket's (no "
                     "PATH), or a local copy."),
        click.option("--since", callback=_day, metavar="YYYY-MM-DD",
                     help="Captured on or after this day (UTC)."),
        click.option("--until", callback=_day, metavar="YYYY-MM-DD",
                     help="Captured on or before this day (UTC)."),
        click.option("--media-id", multiple=True, metavar="ID", help="This video (repeatable)."),
        click.option("--name", metavar="GLOB", help="Filename glob, e.g. 'GX01*.MP4' (any case)."),
        stack_options(bucket=True, table=True),
        output_options(),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@cloudsync.group(cls=DefaultTo, context_settings=CONTEXT)
def restore() -> None:
    """Get videos back: request restores, see their status, fetch the ready ones.

    \b
    cloudsync restore [request] --since 2024-07-01 --until 2024-07-31 --dry-run
    cloudsync restore status --since 2024-07-01
    cloudsync restore fetch --since 2024-07-01 --to ~/Videos
    """


def _request(
    *,
    provider: str, catalog: str | None, since: Any, until: Any, media_id: tuple[str, ...],
    name: str | None, op: Operator, **more: Any,
) -> Request:  # fmt: skip
    from domain.restore import Selection, Tier  # noqa: PLC0415
    from entrypoints.restore import Request  # noqa: PLC0415

    if since and until and since > until:
        raise UsageError(f"--since {since.isoformat()} is after --until {until.isoformat()}")

    return Request(
        provider=provider, catalog=catalog,
        selection=Selection(since, until, frozenset(media_id), name),
        tier=Tier(more.get("tier", Tier.BULK.value)), days=more.get("days", 7),
        dry_run=more.get("dry_run", False), everything=more.get("everything", False),
    )  # fmt: skip


@restore.command(epilog="Example: cloudsync restore --since 2024-07-01 --until 2024-07-31 "
                 "--dry-run")  # fmt: skip
@click.option(
    "--tier",
    type=click.Choice(["bulk", "standard"]),
    default="bulk",
    show_default=True,
    help="bulk: ready within 48 hours, cheapest; standard: within 12 hours.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 30000),
    default=7,
    show_default=True,
    help="How long the restored copy stays readable.",
)
@click.option("--dry-run", is_flag=True, help="Price it; request nothing.")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Restore the whole archive (a request needs a selection otherwise).",
)
@selection_options
def request(op: Operator, out: Output, **given: Any) -> int:
    """Request restores of the selected videos (the default action), with their price."""
    from entrypoints.restore import run_request  # noqa: PLC0415

    return run_request(_request(op=op, **given), op, out)


@restore.command("status", epilog="Example: cloudsync restore status --since 2024-07-01")
@selection_options
def restore_status(op: Operator, out: Output, **given: Any) -> int:
    """Where each selected video stands: archived, being restored, or ready until when.

    Exit 3 while some are still being restored.
    """
    from entrypoints.restore import run_status  # noqa: PLC0415

    return run_status(_request(op=op, **given), op, out)


def _link_hours(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    import math  # noqa: PLC0415

    try:
        hours = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number of hours") from None
    if not math.isfinite(hours) or not 0 < hours <= 168:
        raise click.BadParameter(f"links last more than 0 and at most 168 hours, not {value}")
    return hours


@restore.command(epilog="Example: cloudsync restore fetch --since 2024-07-01 --to ~/Videos")
@click.option(
    "--to",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Download into this folder (YEAR/MONTH/ below it).",
)
@click.option(
    "--urls",
    is_flag=False,
    flag_value="24",
    callback=_link_hours,
    metavar="[HOURS]",
    help="Print pre-signed links instead, valid HOURS (24 when not given, at most 168).",
)
@selection_options
def fetch(to: Path | None, urls: float | None, op: Operator, out: Output, **given: Any) -> int:
    """Download the selected videos that are readable (or print links to them), each
    checked against its recorded size and checksum; a file already there is never
    replaced. Exit 3 while some are still being restored."""
    from entrypoints.restore import run_fetch  # noqa: PLC0415

    if (to is None) == (urls is None):
        raise UsageError("fetch needs either --to DIR (download) or --urls (links)")
    return run_fetch(_request(op=op, **given), op, out, to, urls)


@cloudsync.command(epilog="Example: cloudsync policy restore --stack prod > restore-policy.json")
@click.argument("which", type=click.Choice(["operator", "restore"]), default="operator")
@stack_options()
@output_options(as_json=False)
def policy(which: str, op: Operator, out: Output) -> int:
    """Print the least-privilege IAM policy for a person's commands, with the stack's ARNs.

    \b
    operator: status, runs, start, verify, credentials (the default)
    restore:  restore request, status and fetch
    Attach it to the IAM user or role that runs cloudsync.
    """
    from entrypoints.operations import policy as run  # noqa: PLC0415

    return run(op, which, out)


# ---------------------------------------------------------------- cost


@cloudsync.command(epilog="Example: cloudsync cost --archive-gb 100 --videos 400 --monthly-gb 10")
@click.option("--archive-gb", type=float, required=True, help="The library today, in GB (10^9).")
@click.option("--videos", type=int, required=True, help="Videos in it.")
@click.option(
    "--monthly-gb", type=float, default=0.0, show_default=True, help="New footage a month, in GB."
)
@click.option(
    "--monthly-videos",
    type=int,
    help="New videos a month [default: --monthly-gb at the average size].",
)
@click.option(
    "--lifecycle",
    type=click.Choice(list(LIFECYCLES)),
    default="default",
    show_default=True,
    help="The stack's storage tiers.",
)
@click.option(
    "--memory-mb", type=int, default=512, show_default=True, help="The downloader's memory."
)
@click.option(
    "--cpu-seconds-per-gib",
    type=float,
    default=3.8,
    show_default=True,
    help="CPU seconds one GiB of transfer costs (python -m bench.transfer).",
)
@output_options()
def cost(
    *,
    archive_gb: float, videos: int, monthly_gb: float, monthly_videos: int | None,
    lifecycle: str, memory_mb: int, cpu_seconds_per_gib: float, out: Output,
) -> int:  # fmt: skip
    """Estimate what a month costs for a library, at list prices (entrypoints/prices.json)."""
    from entrypoints.cost import CostInputError, Usage, estimate, load_prices, table  # noqa: PLC0415

    try:
        usage = Usage(
            archive_gb, videos, monthly_gb, monthly_videos, lifecycle, memory_mb,
            cpu_seconds_per_gib,
        )  # fmt: skip
        result = estimate(usage, load_prices())
    except CostInputError as error:
        message = str(error)
        for name in ("archive_gb", "monthly_gb", "monthly_videos", "memory_mb", "videos",
                     "cpu_seconds_per_gib"):  # fmt: skip
            message = message.replace(name, "--" + name.replace("_", "-"), 1)
        raise UsageError(message) from None
    except KeyError as missing:
        raise UserError(f"the price file has no price {missing}") from None
    if out.json:
        out.emit(result.as_dict())
    else:
        click.echo(table(result))
    return Exit.DONE


# ---------------------------------------------------------------- the door


def _one_line(message: str) -> None:
    click.echo(f"cloudsync: error: {' '.join(message.split())}", err=True)


def _translated(error: BaseException) -> str | None:
    """An AWS library error as the project's one line; None for any other error."""
    if not type(error).__module__.startswith(("botocore", "boto3")):
        return None
    from adapters.aws.errors import translate  # noqa: PLC0415

    return str(translate(error if isinstance(error, Exception) else Exception(error), "AWS", ""))


def _known(error: BaseException) -> tuple[str, int] | None:
    """(the line, the exit code) of an error that is not a defect of ours."""
    from domain.errors import DomainError  # noqa: PLC0415
    from infra.config import StackConfigError  # noqa: PLC0415

    if isinstance(error, UserError):
        return str(error), error.exit_code
    if isinstance(error, DomainError | StackConfigError):
        return str(error), Exit.FAILED
    if type(error).__name__ == "UnknownProviderError":
        return str(error), Exit.USAGE
    translated = _translated(error)
    if translated is not None:
        return translated, Exit.FAILED
    return None


def _close_quietly() -> int:
    """Standard output was closed (`| head`): say nothing more, as a shell tool would."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real descriptor (a test's capture): nothing to do
        pass
    return Exit.CLOSED_PIPE


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0911 - an exit per outcome
    """Run one command; returns its exit code (entrypoints.exits)."""
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments:
        click.echo(
            cloudsync.get_help(
                click.Context(cloudsync, info_name="cloudsync", help_option_names=HELP_OPTIONS)
            )
        )
        return Exit.DONE
    try:
        code = cloudsync.main(arguments, prog_name="cloudsync", standalone_mode=False)
        sys.stdout.flush()
    except click.exceptions.Exit as ended:
        return ended.exit_code
    except click.UsageError as error:
        where = error.ctx.command_path if error.ctx else "cloudsync"
        _one_line(f"{error.format_message()} (see `{where} --help`)")
        return Exit.USAGE
    except (KeyboardInterrupt, click.Abort):
        _one_line("interrupted")
        return Exit.INTERRUPTED
    except (BrokenPipeError, ClosedPipeError):
        return _close_quietly()
    except click.ClickException as error:
        _one_line(error.format_message())
        return error.exit_code
    except Exception as error:
        known = _known(error)
        if known is None:
            raise  # a defect of ours: the traceback is what a bug report needs
        _one_line(known[0])
        return known[1]
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
