"""The `cloudsync` command against the local world: each command's happy path, and the
user's mistakes answered with one line and a non-zero exit."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import boto3
import pytest

from domain.credentials import OAuthCredentials, SessionCredentials
from entrypoints.cli import main
from entrypoints.exits import UserError
from entrypoints.operations import read_credentials
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.world import World
from tests.integration.synced import credential_store, fresh_world, one_error_line


@pytest.fixture(scope="module")
def gopro() -> Iterator[GoProEmulator]:
    with GoProEmulator(generate_library(seed=5, videos=6)) as emulator:
        yield emulator


@pytest.fixture
def world(gopro: GoProEmulator) -> Iterator[World]:
    with fresh_world(gopro) as running:
        yield running


store = credential_store


def set_session_credentials(gopro: GoProEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cloudsync credentials set` of the emulator's session token, as JSON on stdin."""
    secrets = json.dumps({"access_token": gopro.session_token, "user_id": gopro.user_id})
    monkeypatch.setattr("sys.stdin", io.StringIO(secrets))
    assert main(["credentials", "set", "--stack", "dev", "--mode", "session", "--from-stdin"]) == 0


def test_credentials_set_start_follow_and_status(
    world: World,
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_session_credentials(gopro, monkeypatch)
    assert store(world).load("gopro") == SessionCredentials(gopro.session_token, gopro.user_id)
    out = capsys.readouterr().out
    assert gopro.session_token not in out

    # Following reads the execution's own progress, never a scan of the tracker
    boto3.setup_default_session()
    scans: list[str] = []
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "before-call.dynamodb.Scan", lambda **_: scans.append("scan")
    )
    assert main(["start", "--stack", "dev", "--follow"]) == 0
    out = capsys.readouterr().out
    handled = re.search(r"SUCCEEDED .*, (\d+) of (\d+) videos archived, 0 not", out)
    assert handled, out
    assert handled.group(1) == handled.group(2) != "0"
    assert scans == []

    assert main(["status", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "COMPLETED" in out
    assert "last run: manual-" in out
    assert "archived: " in out
    assert not re.search(r"^FAILED \w+:", out, re.MULTILINE)

    # Given one record with an impossible date, the next run still succeeds, and status
    # names it
    dynamodb, table = world.client("dynamodb"), world.environment["TRACKER_TABLE"]
    broken = dynamodb.scan(TableName=table, Limit=1)["Items"][0]["media_id"]["S"]
    dynamodb.update_item(
        TableName=table,
        Key={"media_id": {"S": broken}},
        UpdateExpression="SET uploaded_at = :impossible",
        ExpressionAttributeValues={":impossible": {"S": "2024-02-30T10:00:00+00:00"}},
    )
    assert main(["start", "--stack", "dev", "--follow"]) == 0
    assert "SUCCEEDED" in capsys.readouterr().out
    assert main(["status", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^UNREADABLE {broken}: 'uploaded_at' is not an ISO 8601 time", out, re.M)


def test_start_under_a_run_in_progress_says_so_and_follows_that_run(
    world: World,
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_session_credentials(gopro, monkeypatch)
    # GoPro serves slowly enough that the run is still in progress for the next starts
    monkeypatch.setattr(gopro.faults, "throughput_bytes_per_second", 300_000.0)
    assert main(["start", "--stack", "dev"]) == 0
    started = re.search(r"started (manual-\S+)", capsys.readouterr().out)
    assert started, "no run started"
    # A second start while it runs starts nothing, names the run, and says how to follow it;
    # the run is not finished yet (3)
    assert main(["start", "--stack", "dev"]) == 3
    out = capsys.readouterr().out
    assert f"run {started.group(1)} is in progress" in out
    assert "`cloudsync start --follow` follows it" in out
    assert main(["start", "--stack", "dev", "--follow"]) == 0
    out = capsys.readouterr().out
    assert "following it" in out
    assert f"{started.group(1)}  SUCCEEDED" in out
    executions = world.client("stepfunctions").list_executions(
        stateMachineArn=world.state_machine_arn
    )["executions"]
    assert len(executions) == 1


def test_a_run_without_credentials_fails_with_a_non_zero_exit(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["start", "--stack", "dev", "--follow"]) == 1
    assert "FAILED" in capsys.readouterr().out
    subjects = [n["subject"] for n in world.notifications()]
    assert subjects == ["cloud-sync: sync failed"]


def test_an_unknown_provider_is_one_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["start", "--stack", "dev", "--provider", "dropbox"]) == 2
    assert "unknown provider 'dropbox'" in one_error_line(capsys)


def test_a_stack_that_is_not_deployed_is_one_line(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--stack", "prod", "--table", world.table]) == 1
    line = one_error_line(capsys)
    assert "no function media-lister here (eu-central-1): is the stack deployed" in line
    monkeypatch.setattr("sys.stdin", io.StringIO('{"access_token": "t0ken-1", "user_id": "u"}'))
    assert main(["credentials", "set", "--stack", "prod", "--from-stdin"]) == 1
    line = one_error_line(capsys)
    assert "no function media-lister here" in line
    assert "t0ken-1" not in line


def test_an_unreachable_endpoint_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["status", "--stack", "dev"]) == 1
    line = one_error_line(capsys)
    assert "cannot reach AWS at http://127.0.0.1:9" in line
    assert "is the sandbox running? start `cloudsync sandbox` again" in line


def test_the_demo_refuses_an_incomplete_gopro_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--gopro-url", "https://api.example.com"]) == 1
    assert "--access-token and --user-id" in one_error_line(capsys)
    assert main(["demo", "--videos", "0"]) == 2
    assert "Invalid value for '--videos': 0 is not in the range x>=1" in one_error_line(capsys)


def test_secrets_are_prompted_for_never_taken_from_arguments() -> None:
    asked: list[str] = []

    def hidden(prompt: str) -> str:
        asked.append(prompt)
        return f"value-of-{prompt.split(maxsplit=1)[0]}"

    credentials = read_credentials(
        "oauth", "client-1", None, False, ask=hidden, ask_plain=lambda _: "unused"
    )
    assert credentials == OAuthCredentials(
        "client-1", "value-of-client_secret", "value-of-refresh_token"
    )
    assert asked == ["client_secret (not shown): ", "refresh_token (not shown): "]
    with pytest.raises(UserError, match="access_token is required"):
        read_credentials("session", None, "u1", True, stdin=io.StringIO("{}"))
    with pytest.raises(UserError, match="not a JSON object"):
        read_credentials("session", None, "u1", True, stdin=io.StringIO("[1]"))


def test_credentials_login_stores_refreshable_tokens_and_the_sync_refreshes_them(
    world: World,
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the user signs in once with e-mail and password
    typed = json.dumps({"email": gopro.username, "password": gopro.password})
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    argv = ["credentials", "login", "--stack", "dev", "--gopro-url", gopro.base_url]
    assert main([*argv, "--from-stdin"]) == 0
    out = capsys.readouterr().out
    assert "the password was not stored" in out
    # Then the secret holds OAuth tokens for the web-app client, and no password
    secret = world.client("secretsmanager").get_secret_value(
        SecretId=world.environment["CREDENTIALS_SECRET"].format(provider="gopro")
    )["SecretString"]
    assert gopro.password not in secret + out
    stored = store(world).load("gopro")
    assert isinstance(stored, OAuthCredentials)
    assert stored.refresh_token == gopro.refresh_token
    # And a sync runs on them
    assert main(["start", "--stack", "dev", "--follow"]) == 0
    assert "SUCCEEDED" in capsys.readouterr().out
    assert gopro.password not in repr(world.dispatcher.invocations)


def test_a_refused_login_is_one_line_naming_the_browser_token_way(
    world: World,
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"email": "a@b.c", "password": "wrong-pw-1"}'))
    argv = ["credentials", "login", "--stack", "dev", "--gopro-url", gopro.base_url]
    assert main([*argv, "--from-stdin"]) == 1
    line = one_error_line(capsys)
    assert "two-factor" in line
    assert "wrong-pw-1" not in line
