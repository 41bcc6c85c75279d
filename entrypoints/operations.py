"""Operator commands against a deployed stack (or the sandbox): start, status, credentials.

AWS is reached through the standard environment (`AWS_PROFILE`, `AWS_REGION`,
`AWS_ENDPOINT_URL`, …). Resource names follow the stack (`--stack prod` or `dev`) unless
given explicitly.
"""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import boto3
import httpx
from boto3.dynamodb.types import TypeDeserializer
from rich.console import Console
from rich.table import Table

from adapters.aws.records import record_from_item
from adapters.aws.runs import StepFunctionsRuns
from adapters.aws.secrets_store import SecretsManagerCredentialStore
from adapters.clock import SystemClock
from adapters.gopro.auth import GoProAuth
from adapters.gopro.settings import LOOPBACK_HOSTS, GoProSettings, make_client
from domain.credentials import Credentials, OAuthCredentials, SessionCredentials
from domain.errors import DomainError, UnreadableRecordError
from domain.one_run import first_of
from domain.services import sign_in
from entrypoints.providers import UnknownProviderError
from infra.config import StackSettings

KNOWN_PROVIDERS = ("gopro",)


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


@dataclass(frozen=True)
class Target:
    stack: StackSettings
    state_machine: str | None = None
    table: str | None = None

    @property
    def table_name(self) -> str:
        return self.table or self.stack.name("gopro-sync-tracker")

    def state_machine_arn(self, stepfunctions: Any) -> str:
        if self.state_machine:
            return self.state_machine
        wanted = self.stack.name("gopro-sync-orchestrator")
        for page in stepfunctions.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == wanted:
                    return str(machine["stateMachineArn"])
        raise UserError(
            f"no state machine named {wanted} in this account and region; deploy the stack "
            "with `pulumi up`, pick another with --stack, or pass --state-machine ARN"
        )


def check_provider(provider: str) -> None:
    if provider not in KNOWN_PROVIDERS:
        raise UnknownProviderError(
            f"unknown provider {provider!r}; known: {', '.join(KNOWN_PROVIDERS)}"
        )


def start(target: Target, provider: str, follow: bool, console: Console) -> int:
    check_provider(provider)
    stepfunctions = boto3.client("stepfunctions")
    arn = target.state_machine_arn(stepfunctions)
    run = first_of(StepFunctionsRuns(stepfunctions).running_in(arn), provider)
    if run is not None:  # one run of a library at a time: a second would end as skipped
        console.print(
            f"run {run.name} is in progress (started {run.started_at:%Y-%m-%d %H:%M:%S %Z}) "
            f"and holds the {provider} library; "
            + ("following it" if follow else "`cloudsync start --follow` follows it")
        )
        if not follow:
            return 0
        name, execution = run.name, run.execution
    else:
        name = f"manual-{time.strftime('%Y%m%dT%H%M%S')}"
        execution = stepfunctions.start_execution(
            stateMachineArn=arn, name=name, input=json.dumps({"provider": provider})
        )["executionArn"]
        console.print(f"started {name}")
    if not follow:
        return 0
    with console.status("running…") as status:
        while True:
            described = stepfunctions.describe_execution(executionArn=execution)
            progress = execution_progress(stepfunctions, execution)
            if described["status"] != "RUNNING":
                break
            status.update(f"running: {progress}")
            time.sleep(2)
    console.print(f"{name}: {described['status']} ({progress})")
    return 0 if described["status"] == "SUCCEEDED" else 1


def execution_progress(stepfunctions: Any, execution_arn: str) -> str:
    """What the execution itself says of its videos: two requests, whatever the library's
    size (the tracker is never scanned)."""
    runs = stepfunctions.list_map_runs(executionArn=execution_arn, maxResults=1)["mapRuns"]
    if not runs:
        return "authenticating and listing"
    counts = stepfunctions.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
    done = counts.get("succeeded", 0) + counts.get("failed", 0) + counts.get("aborted", 0)
    return (
        f"{done} of {counts.get('total', 0)} videos handled, {counts.get('running', 0)} in progress"
    )


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


_FROM_DYNAMODB = TypeDeserializer()


def deserialise(item: dict[str, Any]) -> dict[str, Any]:
    """A scanned item (DynamoDB's typed JSON) as plain values, as the tracker reads it."""
    return {name: _FROM_DYNAMODB.deserialize(value) for name, value in item.items()}


def scan_table(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def unreadable_records(items: list[dict[str, Any]]) -> dict[str, str]:
    """The scanned items the tracker cannot read as records: media id -> why."""
    found: dict[str, str] = {}
    for item in items:
        try:
            record_from_item(deserialise(item))
        except UnreadableRecordError as error:
            found[error.media_id] = error.reason
    return found


def status(target: Target, console: Console) -> int:
    items = scan_table(boto3.client("dynamodb"), target.table_name)
    unreadable = unreadable_records(items)
    counts = Counter(
        item["status"]["S"] for item in items if item.get("media_id", {}).get("S") not in unreadable
    )
    archived = sum(int(i.get("stored_size", {}).get("N", 0)) for i in items)
    summary = Table(title=f"sync tracker {target.table_name}")
    summary.add_column("status")
    summary.add_column("videos", justify="right")
    for state in ("COMPLETED", "IN_PROGRESS", "PENDING", "FAILED"):
        summary.add_row(state, str(counts.get(state, 0)))
    if unreadable:
        summary.add_row("UNREADABLE", str(len(unreadable)))
    console.print(summary)
    console.print(f"archived: {human_size(archived)}")
    chaptered = [i for i in items if "chapters" in i]
    if chaptered:
        objects = sum(len(i["chapters"]["L"]) for i in chaptered)
        console.print(
            f"chaptered recordings: {len(chaptered)}, archived as {objects} chapter objects"
        )
    for item in items:
        if item.get("status", {}).get("S") == "FAILED":
            console.print(f"FAILED {item['media_id']['S']}: {item.get('error', {}).get('S', '?')}")
    for media_id, reason in unreadable.items():
        console.print(f"UNREADABLE {media_id}: {reason} (skipped by every run until repaired)")
    stepfunctions = boto3.client("stepfunctions")
    arn = target.state_machine_arn(stepfunctions)
    last = stepfunctions.list_executions(stateMachineArn=arn, maxResults=1)["executions"]
    if last:
        console.print(f"last execution: {last[0]['name']} {last[0]['status']}")
    return 0


def _json_from(stdin: TextIO | None, what: str) -> dict[str, str]:
    """A JSON object read from standard input, its values as text."""
    try:
        loaded = json.loads((stdin or sys.stdin).read())
    except ValueError:
        raise UserError(f"standard input is not a JSON object {what}") from None
    if not isinstance(loaded, dict):
        raise UserError(f"standard input is not a JSON object {what}")
    return {k: str(v) for k, v in loaded.items()}


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

    def value(name: str, shown: str | None = None, secret: bool = True) -> str:
        found = shown or given.get(name)
        if not found and not from_stdin:
            found = ask(f"{name} (not shown): ") if secret else ask_plain(f"{name}: ")
        if not found:
            raise UserError(f"{name} is required for {mode} credentials")
        return found

    if mode == "session":
        return SessionCredentials(value("access_token"), value("user_id", user_id, False))
    return OAuthCredentials(
        client_id=value("client_id", client_id, False),
        client_secret=value("client_secret"),
        refresh_token=value("refresh_token"),
        user_id=user_id or given.get("user_id") or None,
    )


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
    email = email or given.get("email") or (None if from_stdin else ask_plain("GoPro e-mail: "))
    password = given.get("password") or (None if from_stdin else ask("GoPro password: "))
    if not email:
        raise UserError("the GoPro e-mail is required to sign in")
    if not password:
        raise UserError("the GoPro password is required to sign in")
    return email, password


def login(
    target: Target, provider: str, *, email: str, password: str, gopro_url: str, console: Console
) -> int:
    """Sign in once; store refreshable tokens in the stack's secret, never the password."""
    store, name = deployed_store(target, provider)
    settings = gopro_settings(gopro_url)
    with make_client(settings) as client:
        outcome = sign_in(
            provider, email, password, signer=GoProAuth(client, settings), store=store,
            clock=SystemClock(),
        )  # fmt: skip
    console.print(
        f"signed in: refreshable tokens stored in {name} (version {outcome.secret_version}), "
        f"valid until {outcome.expires_at:%Y-%m-%d %H:%M} UTC and refreshed by every sync; "
        "the password was not stored"
    )
    return 0


def gopro_settings(gopro_url: str) -> GoProSettings:
    """The GoPro adapter's settings for `--gopro-url` (loopback http only for an emulator)."""
    try:
        return GoProSettings(
            base_url=gopro_url, allow_loopback=httpx.URL(gopro_url).host in LOOPBACK_HOSTS
        )
    except DomainError as error:
        raise UserError(f"--gopro-url: {error}") from None


def deployed_store(target: Target, provider: str) -> tuple[SecretsManagerCredentialStore, str]:
    """The stack's credential store for `provider`, and its secret's name; the secret must
    exist (the stack creates it, without a value)."""
    check_provider(provider)
    secrets = boto3.client("secretsmanager")
    template = target.stack.name("{provider}/credentials")
    name = template.format(provider=provider)
    try:
        secrets.describe_secret(SecretId=name)
    except secrets.exceptions.ResourceNotFoundException:
        raise UserError(
            f"the secret {name} does not exist; deploy the stack first (`pulumi up`)"
        ) from None
    return SecretsManagerCredentialStore(secrets, template), name


def set_credentials(
    target: Target, provider: str, credentials: Credentials, console: Console
) -> int:
    store, name = deployed_store(target, provider)
    version = store.save(provider, credentials)
    console.print(f"stored {type(credentials).__name__} in {name} (version {version})")
    return 0
