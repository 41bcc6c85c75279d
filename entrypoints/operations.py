"""Operator commands against a deployed stack (or the sandbox): start, status, runs and
the credentials. Each takes its ports from the Operator container (entrypoints.container)
and leaves the rules to the domain; what it adds is what a person reads."""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from domain.credentials import Credentials, OAuthCredentials, SessionCredentials
from domain.drill import DrillState
from domain.errors import CredentialsRejectedError, DomainError
from domain.model import RunReport
from domain.one_run import first_of
from domain.selection import Selection
from domain.services import authenticate, replace_credentials, sign_in
from domain.status import SyncStatus
from entrypoints.exits import Exit, UsageError, UserError
from entrypoints.providers import UnknownProviderError

if TYPE_CHECKING:
    from entrypoints.cli import Output
    from entrypoints.container import Operator

KNOWN_PROVIDERS = ("gopro",)
POLL_SECONDS = 2.0
FAILED_SHOWN = 10


def check_provider(provider: str) -> None:
    if provider not in KNOWN_PROVIDERS:
        raise UnknownProviderError(
            f"unknown provider {provider!r}; known: {', '.join(KNOWN_PROVIDERS)}"
        )


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def human_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


# ---------------------------------------------------------------- runs


def run_document(report: RunReport, now: datetime) -> dict[str, Any]:
    return {
        "name": report.name,
        "execution_arn": report.arn,
        "status": report.status,
        "started": report.started.isoformat(),
        "stopped": report.stopped.isoformat() if report.stopped else None,
        "seconds": round(report.seconds(now), 1),
        "videos": report.total if report.videos is None else report.videos,
        "handled": report.handled,
        "archived": report.archived,
        "failures": report.failures,
        "failed": [{"media_id": m, "error": e} for m, e in report.failed],
        "failed_state": report.failed_state,
        "error": report.error,
        "cause": report.cause,
        "why": report.why(),
        "drill": report.drill,
    }


def run_lines(report: RunReport, now: datetime) -> list[str]:
    """A run in a few lines: its outcome, and why when it failed."""
    counts = (
        f"{report.archived} of {report.videos} videos archived, {report.failures} not"
        if report.archived is not None
        else (
            f"{report.handled} of {report.total} videos handled"
            if report.total is not None
            else "before listing"
        )
    )
    lines = [
        f"{report.name}  {report.status}  started {report.started:%Y-%m-%d %H:%M} UTC, "
        f"{human_duration(report.seconds(now))}, {counts}"
    ]
    why = report.why()
    if why:
        lines.append(f"  why: {why}")
    lines += [f"  not archived: {media_id}: {error}" for media_id, error in report.failed]
    if report.drill:
        lines.append(f"  {report.drill}")
    return lines


@dataclass
class Progress:
    """What following a run has seen: where the rate is measured from, and the bytes the
    downloads archived so far (asked of CloudWatch every BYTES_EVERY seconds)."""

    since: tuple[float, int, int] | None = None
    """(when, videos handled, bytes) at the first look after the listing."""
    archived_bytes: int = 0
    asked_at: float = float("-inf")


BYTES_EVERY = 10.0


def progress_line(report: RunReport, seen: Progress, now: float) -> str:
    """Videos handled of the true total, the bytes archived of the listed bytes, the rate
    and an estimate of the time left."""
    if report.total is None:
        return "authenticating and listing"
    line = f"{report.handled} of {report.total} videos handled, {report.running} in progress"
    if report.total_bytes:
        line += f", {human_size(seen.archived_bytes)} of {human_size(report.total_bytes)} archived"
    if seen.since is None:
        return line
    when, handled, archived = seen.since
    elapsed = now - when
    if elapsed <= 0:
        return line
    byte_rate = (seen.archived_bytes - archived) / elapsed
    video_rate = (report.handled - handled) / elapsed
    if report.total_bytes and byte_rate > 0:
        left = max(0, report.total_bytes - seen.archived_bytes) / byte_rate
        line += f", {human_size(byte_rate)}/s, about {human_duration(left)} left"
    elif video_rate > 0:
        left = (report.total - report.handled) / video_rate
        line += f", {video_rate * 60:.1f} videos/min, about {human_duration(left)} left"
    return line


def follow_run(op: Operator, execution: str, provider: str, out: Output) -> RunReport:
    """Poll the run until it ends: a progress line on a terminal, plain lines otherwise."""
    reports = op.reports()
    plain = out.console.stderr or not out.console.is_terminal
    seen = Progress()
    last_line = ""
    while True:
        report = reports.report(execution)
        if report.finished:
            return report
        now = time.monotonic()
        if report.total is not None and now - seen.asked_at >= BYTES_EVERY:
            seen.archived_bytes = op.transferred().bytes_since(
                provider, report.started, datetime.now(UTC)
            )
            seen.asked_at = now
        if report.total is not None and seen.since is None:
            seen.since = (now, report.handled, seen.archived_bytes)
        line = progress_line(report, seen, now)
        if line != last_line and not out.quiet:
            if plain:
                print(f"{report.name}: {line}", file=sys.stderr, flush=True)
            else:
                out.console.print(f"{report.name}: {line}", end="\r")
            last_line = line
        time.sleep(POLL_SECONDS)


def start(op: Operator, provider: str, *, follow: bool, new: bool, out: Output) -> int:
    check_provider(provider)
    target = op.resolved()
    machine = target.state_machine
    running = first_of(op.runs().running_in(machine), provider)
    if running is not None and not new:  # one run of a library at a time
        out.console.print(
            f"run {running.name} is in progress (started "
            f"{running.started_at:%Y-%m-%d %H:%M:%S %Z}) and holds the {provider} library; "
            + (
                "following it"
                if follow
                else "`cloudsync start --follow` follows it, --new starts another"
            )
        )
        name, execution = running.name, running.execution
        if not follow:
            if out.json:
                out.emit({"started": False, "in_progress": name, "execution_arn": execution})
            return Exit.NOT_FINISHED
    else:
        name = f"manual-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        execution = op.runs().start(machine, provider, name)
        out.console.print(f"started {name}")
        if not follow:
            if out.json:
                out.emit({"started": True, "name": name, "execution_arn": execution})
            return Exit.DONE
    report = follow_run(op, execution, provider, out)
    now = datetime.now(UTC)
    if out.json:
        out.emit(run_document(report, now))
    else:
        for line in run_lines(report, now):
            out.console.print(line)
    return Exit.DONE if report.status == "SUCCEEDED" else Exit.FAILED


def runs(op: Operator, limit: int, out: Output) -> int:
    target = op.resolved()
    found = op.reports().recent(target.state_machine, limit)
    now = datetime.now(UTC)
    if out.json:
        out.emit({"runs": [run_document(r, now) for r in found]})
    elif not found:
        out.console.print(f"no runs yet of {target.state_machine}")
    for report in [] if out.json else found:
        for line in run_lines(report, now):
            out.console.print(line)
    if found and found[0].status not in ("SUCCEEDED", "RUNNING"):
        return Exit.FAILED
    return Exit.DONE


def drill_line(state: DrillState) -> str:
    """The last restore drill, and one under way."""
    found = state.last.line() if state.last else "no restore drill has finished yet"
    if state.current is not None:
        found += (
            f"; under way: {state.current.key}, restore requested "
            f"{state.current.requested_at:%Y-%m-%d %H:%M} UTC"
        )
    return found


LEFT_OUT_BY_CHOICE = ("not_a_video", "captured_outside", "other_camera")
"""The listing's skip reasons that come from the stack's selection (domain.rules)."""


def selection_report(selection: Selection, latest: RunReport | None) -> dict[str, Any]:
    """What the stack archives, and what its last finished listing left out by that choice."""
    skipped = (latest.skipped or {}) if latest else {}
    return {
        "archives": selection.describe(),
        "left_out": {
            reason: skipped[reason] for reason in LEFT_OUT_BY_CHOICE if skipped.get(reason)
        },
    }


def selection_line(report: dict[str, Any]) -> str:
    left = report["left_out"]
    line = f"archives: {report['archives']}"
    if left:
        line += "; the last run left out " + ", ".join(
            f"{count} {reason.replace('_', ' ')}" for reason, count in left.items()
        )
    return line


def status(op: Operator, out: Output) -> int:
    target = op.resolved()
    scan = op.tracker().scan()
    counts = Counter(record.status for record in scan.records)
    archived = sum(r.stored_size or 0 for r in scan.records if r.status is SyncStatus.COMPLETED)
    chaptered = [r for r in scan.records if r.chapters]
    failed = sorted(
        (r for r in scan.records if r.status is SyncStatus.FAILED), key=lambda r: r.updated_at
    )
    latest = op.reports().recent(target.state_machine, 1)
    chosen = selection_report(target.stack.settings.selection, latest[0] if latest else None)
    firing = op.alarms().firing(target.alarm_names)
    drill = drill_line(op.drills().load("gopro"))
    now = datetime.now(UTC)
    if out.json:
        out.emit({
            "stack": {"name": target.stack.name, "region": target.region,
                      "table": target.table_name, "bucket": target.bucket,
                      "state_machine": target.state_machine},
            "table": target.table_name,
            "videos": {s.value: counts.get(s, 0) for s in SyncStatus},
            "unreadable": scan.unreadable,
            "archived_bytes": archived,
            "chaptered": {"recordings": len(chaptered),
                          "objects": sum(len(r.chapters) for r in chaptered)},
            "failed": [{"media_id": r.media_id, "error": r.error} for r in failed],
            "last_run": run_document(latest[0], now) if latest else None,
            "selection": chosen,
            "restore_drill": drill,
            "alarms_firing": [{"name": a.name, "reason": a.reason, "since": _when(a.since)}
                              for a in firing],
        })  # fmt: skip
        return Exit.DONE
    from rich.table import Table  # noqa: PLC0415

    summary = Table(title=f"sync tracker {target.table_name}")
    summary.add_column("status")
    summary.add_column("videos", justify="right")
    for state in (SyncStatus.COMPLETED, SyncStatus.IN_PROGRESS, SyncStatus.PENDING):
        summary.add_row(state.value, str(counts.get(state, 0)))
    summary.add_row(SyncStatus.FAILED.value, str(counts.get(SyncStatus.FAILED, 0)))
    if scan.unreadable:
        summary.add_row("UNREADABLE", str(len(scan.unreadable)))
    console = out.console
    console.print(summary)
    console.print(f"archived: {human_size(archived)}")
    console.print(selection_line(chosen))
    for alarm in firing:
        console.print(f"ALARM {alarm.name}: {alarm.reason}")
    console.print(drill)
    if chaptered:
        objects = sum(len(r.chapters) for r in chaptered)
        console.print(
            f"chaptered recordings: {len(chaptered)}, archived as {objects} chapter objects"
        )
    for record in failed[:FAILED_SHOWN]:
        console.print(f"FAILED {record.media_id}: {record.error or 'no reason recorded'}")
    if len(failed) > FAILED_SHOWN:
        console.print(f"and {len(failed) - FAILED_SHOWN} more FAILED (`--json` lists them all)")
    for media_id, reason in scan.unreadable.items():
        console.print(f"UNREADABLE {media_id}: {reason} (skipped by every run until repaired)")
    if latest:
        console.print("last run: " + "\n".join(run_lines(latest[0], now)))
    else:
        console.print("no run yet: `cloudsync start` starts one")
    return Exit.DONE


# ---------------------------------------------------------------- credentials


def _json_from(stdin: TextIO | None, what: str) -> dict[str, str]:
    """A JSON object read from standard input; each value must be text (a `null` or a
    number is refused with the field's name, never stored as "None")."""
    try:
        loaded = json.loads((stdin or sys.stdin).read())
    except ValueError:
        raise UserError(f"standard input is not a JSON object {what}") from None
    if not isinstance(loaded, dict):
        raise UserError(f"standard input is not a JSON object {what}")
    for name, value in loaded.items():
        if not isinstance(value, str):
            raise UserError(f"standard input: {name!r} must be text, not {json.dumps(value)[:40]}")
    return loaded


def _asking(ask: Callable[[str], str]) -> Callable[[str], str]:
    """`ask`, with no terminal or no input left answered by one line, not EOFError."""

    def asked(prompt: str) -> str:
        what = prompt.split(" (", maxsplit=1)[0].rstrip(": ")
        refusal = UserError(
            f"no answer for {what!r}: there is no terminal to ask on; pass the values as "
            "JSON with --from-stdin"
        )
        if ask in (getpass.getpass, input) and not sys.stdin.isatty():
            raise refusal
        try:
            return ask(prompt)
        except EOFError:
            raise refusal from None

    return asked


def read_credentials(
    mode: str,
    client_id: str | None,
    user_id: str | None,
    from_stdin: bool,
    *,
    stdin: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
    ask_plain: Callable[[str], str] = input,
) -> Credentials:
    """Secrets come from a hidden prompt, or as JSON on standard input when asked to."""
    given = _json_from(stdin, "of credentials") if from_stdin else {}
    secret_prompt, plain_prompt = _asking(ask), _asking(ask_plain)

    def value(name: str, shown: str | None = None, secret: bool = True) -> str:
        found = shown or given.get(name)
        if not found and not from_stdin:
            found = secret_prompt(f"{name} (not shown): ") if secret else plain_prompt(f"{name}: ")
        if not found or not found.strip():
            raise UsageError(f"{name} is required for {mode} credentials")
        return found.strip()

    try:
        if mode == "session":
            return SessionCredentials(value("access_token"), value("user_id", user_id, False))
        return OAuthCredentials(
            client_id=value("client_id", client_id, False),
            client_secret=value("client_secret"),
            refresh_token=value("refresh_token"),
            user_id=user_id or given.get("user_id") or None,
        )
    except DomainError as error:
        raise UsageError(str(error)) from None


def read_sign_in(
    email: str | None,
    from_stdin: bool,
    *,
    stdin: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
    ask_plain: Callable[[str], str] = input,
) -> tuple[str, str]:
    """The e-mail (shown) and password (never echoed, never an argument)."""
    given = _json_from(stdin, '{"email", "password"}') if from_stdin else {}
    email = (
        email
        or given.get("email")
        or (None if from_stdin else _asking(ask_plain)("GoPro e-mail: "))
    )
    password = given.get("password") or (None if from_stdin else _asking(ask)("GoPro password: "))
    if not email:
        raise UsageError("the GoPro e-mail is required to sign in")
    if not password:
        raise UsageError("the GoPro password is required to sign in")
    return email, password


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _secret(op: Operator, provider: str) -> str:
    """The name of the stack's secret for `provider`, which must exist (the stack creates
    it, without a value)."""
    check_provider(provider)
    name: str = op.resolved().secret_name(provider)
    if not op.credential_store().exists(provider):
        raise UserError(f"the secret {name} does not exist; deploy the stack first (`pulumi up`)")
    return name


def login(op: Operator, provider: str, *, email: str, password: str, out: Output) -> int:
    """Sign in once; store refreshable tokens in the stack's secret, never the password."""
    name = _secret(op, provider)
    signer = op.registry()[provider].signer
    if signer is None:
        raise UsageError(f"{provider} has no password sign-in: use `credentials set`")
    try:
        outcome = sign_in(
            provider, email, password, signer=signer(), store=op.credential_store(),
            clock=op.clock(),
        )  # fmt: skip
    except CredentialsRejectedError as error:
        raise UserError(
            f"GoPro refused the sign-in, so nothing was stored ({name} is unchanged): "
            f"{error.remedy}"
        ) from None
    if out.json:
        out.emit({"stored": True, "secret": name, "version": outcome.secret_version,
                  "expires_at": _when(outcome.expires_at)})  # fmt: skip
    else:
        until = f"{outcome.expires_at:%Y-%m-%d %H:%M} UTC" if outcome.expires_at else "unknown"
        out.console.print(
            f"signed in: refreshable tokens stored in {name} (version "
            f"{outcome.secret_version}), valid until {until} and refreshed by every sync; "
            "the password was not stored"
        )
    return Exit.DONE


def set_credentials(
    op: Operator, provider: str, given: Credentials, *, force: bool, out: Output
) -> int:
    """Try `given` against the provider, then store it (refused: only with --force)."""
    name = _secret(op, provider)
    try:
        outcome, refused = replace_credentials(
            provider, given, auth=op.registry()[provider].auth(), store=op.credential_store(),
            clock=op.clock(), force=force,
        )  # fmt: skip
    except CredentialsRejectedError as error:
        raise UserError(
            f"GoPro refused these credentials, so nothing was stored ({name} is unchanged): "
            f"{error.remedy} (--force stores them anyway)"
        ) from None
    kind = "session token" if isinstance(given, SessionCredentials) else "OAuth credentials"
    if out.json:
        out.emit({"stored": True, "secret": name, "version": outcome.secret_version,
                  "mode": outcome.mode.value, "accepted": refused is None,
                  "refusal": refused})  # fmt: skip
    elif refused:
        out.console.print(
            f"stored {kind} in {name} (version {outcome.secret_version}) although GoPro "
            f"refused them (--force): {refused}"
        )
    else:
        out.console.print(
            f"GoPro accepted the {kind}; stored in {name} (version {outcome.secret_version})"
        )
    return Exit.DONE


def _description(credentials: Credentials, name: str) -> dict[str, Any]:
    if isinstance(credentials, SessionCredentials):
        return {"secret": name, "mode": "session", "user_id": credentials.user_id,
                "expires_at": None, "refreshed_at": None}  # fmt: skip
    return {
        "secret": name,
        "mode": "oauth",
        "user_id": credentials.user_id,
        "client_id": credentials.client_id,
        "expires_at": credentials.expires_at.isoformat() if credentials.expires_at else None,
        "refreshed_at": (
            credentials.refreshed_at.isoformat() if credentials.refreshed_at else None
        ),
    }


def show_credentials(op: Operator, provider: str, out: Output) -> int:
    """The stored credentials' mode, user and times: never a token or secret."""
    name = _secret(op, provider)
    shown = _description(op.credential_store().load(provider), name)
    if out.json:
        out.emit(shown)
        return Exit.DONE
    if shown["mode"] == "session":
        out.console.print(
            f"{name}: a browser session token of user {shown['user_id']}; GoPro does not "
            "say when it expires (`cloudsync credentials test` tries it)"
        )
    else:
        expiry = shown["expires_at"] or "no token yet"
        out.console.print(
            f"{name}: OAuth client {shown['client_id']}, user {shown['user_id'] or 'unknown'}"
            f"; the access token expires {expiry}, refreshed {shown['refreshed_at'] or 'never'};"
            " every sync refreshes it"
        )
    return Exit.DONE


def test_credentials(op: Operator, provider: str, out: Output) -> int:
    """Try the stored credentials as the nightly sync does (OAuth ones are refreshed and
    the new token stored, as every sync does); a refusal exits 1 with GoPro's reason."""
    name = _secret(op, provider)
    outcome = authenticate(
        provider,
        op.credential_store(),
        op.registry()[provider].auth(),
        op.clock(),
        window=timedelta.max,
    )
    if out.json:
        out.emit({"secret": name, "accepted": True, "mode": outcome.mode.value,
                  "expires_at": _when(outcome.expires_at)})  # fmt: skip
    else:
        until = (
            f", valid until {outcome.expires_at:%Y-%m-%d %H:%M} UTC" if outcome.expires_at else ""
        )
        out.console.print(f"GoPro accepted the credentials in {name} ({outcome.mode.value}{until})")
    return Exit.DONE


# ---------------------------------------------------------------- permissions


def policy(op: Operator, which: str, out: Output) -> int:
    """The least-privilege IAM policy for a person's commands, with this stack's ARNs."""
    from infra.policies import (  # noqa: PLC0415
        OperatorResources,
        operator_policy,
        restore_policy,
    )

    target = op.resolved()
    deployed = target.deployment
    _, partition, _, region, account = deployed.function_arn.split(":")[:5]
    secret = target.secret_name("gopro")
    resources = OperatorResources(
        bucket_arn=f"arn:{partition}:s3:::{target.bucket}",
        key_arn=deployed.kms_key,
        table_arn=f"arn:{partition}:dynamodb:{region}:{account}:table/{target.table_name}",
        # Secrets Manager adds six random characters to a secret's ARN
        secret_arn=f"arn:{partition}:secretsmanager:{region}:{account}:secret:{secret}-??????",
        state_machine_arn=target.state_machine,
        lister_arn=deployed.function_arn,
        alarm_names=target.alarm_names,
    )
    made = operator_policy(resources) if which == "operator" else restore_policy(resources)
    out.emit(made)
    return Exit.DONE
