"""The `cloudsync` command as an rclone or restic user meets it: help, version, exit codes,
a closed pipe, where each setting comes from, runs that say why they failed, credentials
tried before they are stored, and one line (never a traceback) for each mistake."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from domain.credentials import OAuthCredentials, SessionCredentials
from entrypoints.cli import cloudsync, main
from entrypoints.demo import archivable
from entrypoints.restore import FETCH_WORKERS
from sandbox.gopro.library import generate_library
from sandbox.gopro.server import GoProEmulator
from sandbox.world import World
from tests.integration.synced import credential_store, fresh_world, one_error_line, synced_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gopro() -> Iterator[GoProEmulator]:
    with GoProEmulator(generate_library(seed=23, videos=5)) as emulator:
        yield emulator


@pytest.fixture
def world(gopro: GoProEmulator) -> Iterator[World]:
    with fresh_world(gopro) as running:
        yield running


@pytest.fixture
def synced(
    gopro: GoProEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    with synced_world(gopro, monkeypatch, capsys) as world:
        yield world


error_line = one_error_line


def as_json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


store = credential_store


def every_command(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from every_command(command, (*path, name))


# ---------------------------------------------------------------- conventions


def test_no_arguments_prints_help_and_version_prints_the_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: cloudsync [OPTIONS] COMMAND")
    assert "Exit codes: 0 done, 1 failed, 2 usage, 3 not finished yet" in out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "cloudsync 0.1.0"


def test_every_command_helps_with_an_example_and_its_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for path in every_command(cloudsync):
        assert main([*path, "--help"]) == 0
        out = capsys.readouterr().out
        command: click.Command = cloudsync
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        if isinstance(command, click.Group):
            continue
        assert "Example: cloudsync" in out, path
        for option in command.params:
            if not isinstance(option, click.Option) or option.is_flag or option.count:
                continue
            default = option.to_info_dict()["default"]
            shown = option.show_default or "[default:" in (option.help or "")
            assert shown or option.required or default is None, (path, option.name)
        names = {o.name for o in command.params if isinstance(o, click.Option)}
        assert {"quiet", "verbose"} <= names, path
        if path[0] not in ("demo", "sandbox", "policy"):  # policy prints nothing but JSON
            assert "json" in names, path


def test_restore_status_help_shows_only_what_it_takes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["restore", "status", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--since" in out
    for foreign in ("--tier", "--dry-run", "--to", "--urls", "--all"):
        assert foreign not in out, foreign


def test_help_loads_no_aws_or_terminal_library() -> None:
    """What keeps `--help` fast: nothing heavy is imported until a command runs."""
    probe = (
        "import sys; from entrypoints.cli import main; main(['restore', 'fetch', '--help']); "
        "print(sorted(m for m in ('boto3', 'botocore', 'rich', 'httpx', 'pulumi') "
        "if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stderr.strip() == "[]"


def test_a_closed_pipe_ends_quietly() -> None:
    """`cloudsync cost --json | head -c0`: the reader is gone before the first write."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "cost", "--archive-gb", "100",
             "--videos", "400", "--json"],
            stdout=writer, stderr=subprocess.PIPE, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert done.stderr == ""
    assert done.returncode == 141


def test_cost_mistakes_are_one_line_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--archive-gb", "1e308", "--videos", "3"]) == 2
    assert "--archive-gb must be at most" in error_line(capsys)
    assert main(["cost", "--archive-gb", "nan", "--videos", "3"]) == 2
    assert "--archive-gb must be a finite number" in error_line(capsys)
    assert main(["cost", "--archive-gb", "1", "--videos", "3", "--json"]) == 0
    assert as_json(capsys)["lines"]


# ---------------------------------------------------------------- where settings come from


def test_each_setting_comes_from_its_flag_then_its_variable_then_the_stack(
    synced: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stack (the deployed functions' own description) when nothing else names it."""
    monkeypatch.delenv("TRACKER_TABLE", raising=False)
    monkeypatch.delenv("ARCHIVE_BUCKET", raising=False)
    monkeypatch.delenv("GOPRO_API_URL", raising=False)
    monkeypatch.delenv("CLOUDSYNC_STATE_MACHINE", raising=False)
    assert main(["status", "--stack", "dev", "--json"]) == 0
    shown = as_json(capsys)["stack"]
    assert shown == {
        "name": "dev",
        "region": "eu-central-1",
        "table": synced.table,
        "bucket": synced.environment["ARCHIVE_BUCKET"],
        "state_machine": synced.state_machine_arn,
    }
    # table: the variable beats the stack, the flag beats the variable
    monkeypatch.setenv("TRACKER_TABLE", "table-from-variable")
    assert main(["status", "--stack", "dev"]) == 1
    assert "table-from-variable" in error_line(capsys)
    assert main(["status", "--stack", "dev", "--table", "table-from-flag"]) == 1
    assert "table-from-flag" in error_line(capsys)
    monkeypatch.delenv("TRACKER_TABLE")
    # bucket
    monkeypatch.setenv("ARCHIVE_BUCKET", "bucket-from-variable")
    assert main(["restore", "status", "--stack", "dev"]) == 1
    assert "s3://bucket-from-variable" in error_line(capsys)
    assert main(["restore", "status", "--stack", "dev", "--bucket", "bucket-from-flag"]) == 1
    assert "s3://bucket-from-flag" in error_line(capsys)
    monkeypatch.delenv("ARCHIVE_BUCKET")
    assert main(["restore", "status", "--stack", "dev", "--json"]) == 0
    # state machine
    other = synced.state_machine_arn + "-other"
    monkeypatch.setenv("CLOUDSYNC_STATE_MACHINE", other + "-variable")
    assert main(["runs", "--stack", "dev"]) == 1
    assert other + "-variable" in error_line(capsys)
    assert main(["runs", "--stack", "dev", "--state-machine", other + "-flag"]) == 1
    assert other + "-flag" in error_line(capsys)
    monkeypatch.delenv("CLOUDSYNC_STATE_MACHINE")
    # GoPro's API: the deployed functions' unless named
    assert main(["credentials", "test", "--stack", "dev"]) == 0
    assert "GoPro accepted" in capsys.readouterr().out
    monkeypatch.setenv("GOPRO_API_URL", "http://127.0.0.1:9")
    assert main(["credentials", "test", "--stack", "dev"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the adapter's retries
    assert last.startswith("cloudsync: error: GET http://127.0.0.1:9/")
    assert main(["credentials", "test", "--stack", "dev", "--gopro-url", "ftp://x.test"]) == 1
    assert "ftp://x.test" in error_line(capsys)
    monkeypatch.delenv("GOPRO_API_URL")
    # stack: the flag beats CLOUDSYNC_STACK; prod is not deployed here
    monkeypatch.setenv("CLOUDSYNC_STACK", "dev")
    assert main(["status"]) == 0
    capsys.readouterr()
    assert main(["status", "--stack", "prod"]) == 1
    assert "no function media-lister here" in error_line(capsys)
    monkeypatch.delenv("CLOUDSYNC_STACK")
    assert main(["status"]) == 1  # the default: prod
    assert "no function media-lister here" in error_line(capsys)
    # region: the flag beats AWS_REGION
    assert main(["status", "--stack", "dev", "--region", "us-west-2"]) == 1
    assert "(us-west-2)" in error_line(capsys)


def test_the_region_comes_from_the_stack_when_the_environment_has_none(
    synced: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert main(["status", "--stack", "dev", "--json"]) == 0  # Pulumi.dev.yaml's aws:region
    assert as_json(capsys)["stack"]["region"] == "eu-central-1"
    (tmp_path / "Pulumi.yaml").write_text("name: cloud-sync\n")
    (tmp_path / "Pulumi.home.yaml").write_text("config:\n  cloud-sync:environment: dev\n")
    monkeypatch.chdir(tmp_path)
    assert main(["status", "--stack", "home"]) == 1
    line = error_line(capsys)
    assert "which AWS region? pass --region, set AWS_REGION, or set aws:region in" in line
    assert "Pulumi.home.yaml" in line
    assert main(["status", "--stack", "away"]) == 1
    assert "stack 'away' has no Pulumi.away.yaml" in error_line(capsys)
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert main(["status", "--stack", "home", "--json"]) == 0  # named as dev is
    assert as_json(capsys)["stack"]["name"] == "home"


# ---------------------------------------------------------------- runs


def test_a_failed_run_says_why_in_start_runs_and_status(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """No credentials stored: the run fails in Authenticate, and each view says so."""
    assert main(["start", "--stack", "dev", "--follow"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    assert "why: failed in Authenticate: CredentialsMissingError" in out
    assert main(["runs", "--stack", "dev", "--json"]) == 1  # the latest run failed
    latest = as_json(capsys)["runs"][0]
    assert latest["status"] == "FAILED"
    assert latest["failed_state"] == "Authenticate"
    assert latest["error"] == "CredentialsMissingError"
    assert "gopro/credentials-dev" in latest["cause"]
    assert main(["status", "--stack", "dev"]) == 0
    assert "why: failed in Authenticate: CredentialsMissingError" in capsys.readouterr().out


def test_runs_name_the_videos_that_were_not_archived(
    world: World,
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store(world).save("gopro", SessionCredentials(gopro.session_token, gopro.user_id))
    refused = next(m for m in gopro.ordered_media() if archivable(m) and not m.chapters)
    gopro.faults.wrong_etags.add(refused.id)
    try:
        assert main(["start", "--stack", "dev", "--follow", "--json"]) == 0
    finally:
        gopro.faults.wrong_etags.clear()
    run = as_json(capsys)
    assert run["status"] == "SUCCEEDED"
    assert run["failures"] == 1
    assert run["archived"] == run["videos"] - 1
    assert [f["media_id"] for f in run["failed"]] == [refused.id]
    assert "ETag" in run["failed"][0]["error"]
    assert main(["runs", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert f"not archived: {refused.id}: " in out
    assert main(["start", "--stack", "dev", "--json"]) == 0
    started = as_json(capsys)
    assert started["started"] is True
    assert started["name"].startswith("manual-")


# ---------------------------------------------------------------- credentials


def test_credentials_are_tried_before_they_replace_the_stored_ones(
    world: World,
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = SessionCredentials(gopro.session_token, gopro.user_id)
    store(world).save("gopro", good)
    wrong = json.dumps({"access_token": "not-a-token-7", "user_id": gopro.user_id})
    monkeypatch.setattr("sys.stdin", io.StringIO(wrong))
    assert main(["credentials", "set", "--stack", "dev", "--from-stdin"]) == 1
    line = error_line(capsys)
    assert "not-a-token-7" not in line
    assert "stored credentials" not in line
    assert store(world).load("gopro") == good  # nothing replaced
    # Insisting stores them, and says GoPro refused them
    monkeypatch.setattr("sys.stdin", io.StringIO(wrong))
    assert main(["credentials", "set", "--stack", "dev", "--from-stdin", "--force"]) == 0
    assert "although GoPro refused them" in capsys.readouterr().out
    assert store(world).load("gopro") == SessionCredentials("not-a-token-7", gopro.user_id)
    assert main(["credentials", "test", "--stack", "dev"]) == 1
    error_line(capsys)
    # The good ones again: accepted, shown without a secret
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO(json.dumps({"access_token": gopro.session_token, "user_id": gopro.user_id})),
    )
    assert main(["credentials", "set", "--stack", "dev", "--from-stdin", "--json"]) == 0
    assert as_json(capsys)["accepted"] is True
    assert main(["credentials", "show", "--stack", "dev", "--json"]) == 0
    shown = capsys.readouterr().out
    assert json.loads(shown)["mode"] == "session"
    assert json.loads(shown)["user_id"] == gopro.user_id
    assert gopro.session_token not in shown
    assert main(["credentials", "test", "--stack", "dev"]) == 0
    assert "GoPro accepted" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ('{"access_token": null, "user_id": "u"}', "'access_token' must be text, not null"),
        ('{"access_token": 12, "user_id": "u"}', "'access_token' must be text, not 12"),
        ('{"access_token": "  ", "user_id": "u"}', "access_token is required"),
        ("[1]", "not a JSON object"),
    ],
)
def test_credentials_json_is_checked_field_by_field(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: str,
    says: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(given))
    assert main(["credentials", "set", "--stack", "dev", "--from-stdin"]) != 0
    assert says in error_line(capsys)
    assert (
        world.client("secretsmanager").list_secret_version_ids(
            SecretId=world.environment["CREDENTIALS_SECRET"].format(provider="gopro")
        )["Versions"]
        == []
    )


def test_no_terminal_and_no_input_is_one_line(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["credentials", "set", "--stack", "dev"]) == 1
    assert "there is no terminal to ask on" in error_line(capsys)
    assert main(["credentials", "login", "--stack", "dev"]) == 1
    assert "there is no terminal to ask on" in error_line(capsys)


def test_a_bad_gopro_url_is_one_line_before_any_password_is_asked(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "x"

    monkeypatch.setattr("getpass.getpass", ask)
    assert main(["credentials", "login", "--stack", "dev", "--gopro-url", "http://[::1"]) == 1
    line = error_line(capsys)
    assert "'http://[::1'" in line
    assert "--gopro-url" in line
    assert asked == []


# ---------------------------------------------------------------- status, catalog, fetch


def test_status_prints_odd_records_as_they_are(
    synced: World, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb, table = synced.client("dynamodb"), synced.table
    items = dynamodb.scan(TableName=table)["Items"]
    first, second = items[0]["media_id"], items[1]["media_id"]
    dynamodb.update_item(TableName=table, Key={"media_id": first}, UpdateExpression="REMOVE #s",
                         ExpressionAttributeNames={"#s": "status"})  # fmt: skip
    dynamodb.update_item(
        TableName=table, Key={"media_id": second},
        UpdateExpression="SET #s = :f, #e = :e",
        ExpressionAttributeNames={"#s": "status", "#e": "error"},
        ExpressionAttributeValues={":f": {"S": "FAILED"}, ":e": {"S": "bad [/source] [bold]x"}},
    )  # fmt: skip
    assert main(["status", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert f"UNREADABLE {first['S']}: " in out
    assert f"FAILED {second['S']}: bad [/source] [bold]x" in out


def test_catalog_mistakes_are_one_line(
    synced: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    header = (
        "media_id,chapter,key,size_bytes,checksum_algorithm,checksum,filename,captured_at,"
        "uploaded_at,camera_model,duration_seconds,media_type,archived_at"
    )
    huge = tmp_path / "huge.csv"
    huge.write_text(header + "\n" + "x" * (200 * 1024) + ",1\n")
    assert main(["restore", "status", "--stack", "dev", "--catalog", str(huge)]) == 1
    assert "catalog line 2: field larger than field limit" in error_line(capsys)
    s3, bucket = synced.client("s3"), synced.environment["ARCHIVE_BUCKET"]
    s3.put_object(Bucket=bucket, Key="catalog/gopro.csv", Body=b"\xff\xfe not utf-8")
    assert main(["restore", "status", "--stack", "dev", "--catalog"]) == 1
    line = error_line(capsys)
    assert "catalog/gopro.csv is not UTF-8 text" in line


def test_fetch_into_a_file_or_past_one_is_one_line_each(
    synced: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    assert main(["restore", "fetch", "--stack", "dev", "--to", str(a_file)]) == 2
    assert "is a file" in error_line(capsys)
    # A year folder that is a file: those videos fail, one line each; the rest arrive
    folder = tmp_path / "videos"
    assert main(["restore", "fetch", "--stack", "dev", "--json", "--urls"]) == 0
    keys = [link["key"] for link in as_json(capsys)["links"]]
    year = keys[0].split("/")[1]
    folder.mkdir()
    (folder / year).write_text("a file where a folder goes")
    assert main(["restore", "fetch", "--stack", "dev", "--to", str(folder), "--json"]) == 1
    fetched = json.loads(capsys.readouterr().out)["fetched"]
    blocked = [k for k in keys if k.split("/")[1] == year]
    assert fetched["failed"] == len(blocked)
    assert fetched["downloaded"] == len(keys) - len(blocked)
    assert (folder / year).read_text() == "a file where a folder goes"


def _fetch_process(
    world: World, folder: Path, limit_bytes: int | None = None
) -> subprocess.Popen[str]:
    environment = {**os.environ, **world.environment, "CLOUDSYNC_STACK": "dev"}

    def limited() -> None:
        os.umask(0o027)
        if limit_bytes is not None:
            import resource  # noqa: PLC0415

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails: EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "restore", "fetch", "--to", str(folder)],
        env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=limited,  # noqa: PLW1509 - sets the child's umask and file size limit
    )  # fmt: skip


def test_a_write_error_stops_the_fetch_with_its_summary_and_leaves_no_part_file(
    synced: World, tmp_path: Path
) -> None:
    """A disk that takes no more (here: a file size limit, EFBIG, as ENOSPC would be)."""
    process = _fetch_process(synced, tmp_path, limit_bytes=64 * 1024)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    assert "Traceback" not in err
    assert "stopped: cannot write " in err
    assert "File too large" in err
    assert out.strip().splitlines()[-1].startswith("0 downloaded (0 B), 0 already here,")
    assert not list(tmp_path.rglob(".cloudsync-*"))


def test_fetched_files_get_the_users_umask(synced: World, tmp_path: Path) -> None:
    process = _fetch_process(synced, tmp_path)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    assert {p.stat().st_mode & 0o777 for p in files} == {0o640}  # 0o666 under umask 027


def test_ctrl_c_stops_a_fetch_removing_partial_files(
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # More objects than the fetch's four workers: some wait in the queue when Ctrl-C comes,
    # so however fast the first downloads end, not every object can be fetched.
    big = GoProEmulator(generate_library(seed=29, videos=7, size_range=(20 << 20, 25 << 20)))
    with big, synced_world(big, monkeypatch, capsys) as world:
        objects = world.client("s3").list_objects_v2(
            Bucket=world.environment["ARCHIVE_BUCKET"], Prefix="gopro-videos/"
        )["KeyCount"]
        assert objects > FETCH_WORKERS
        process = _fetch_process(world, tmp_path)
        while not list(tmp_path.rglob(".cloudsync-*.part")):  # a download under way
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "cloudsync: error: interrupted"
    assert "Traceback" not in err
    assert not list(tmp_path.rglob(".cloudsync-*"))
    downloaded = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(downloaded) < objects


def test_oauth_credentials_are_refreshed_before_they_are_stored(
    world: World,
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    given = {"client_secret": gopro.client_secret, "refresh_token": gopro.refresh_token}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(given)))
    argv = ["credentials", "set", "--stack", "dev", "--mode", "oauth", "--from-stdin"]
    assert main([*argv, "--client-id", gopro.client_id, "--json"]) == 0
    assert as_json(capsys)["accepted"] is True
    stored = store(world).load("gopro")
    assert isinstance(stored, OAuthCredentials)
    assert stored.access_token is not None  # what GoPro granted is what is kept
    assert stored.refresh_token == gopro.refresh_token  # the emulator's current one
    assert stored.refresh_token != given["refresh_token"]  # it rotated the one given
    assert main(["credentials", "show", "--stack", "dev", "--json"]) == 0
    shown = as_json(capsys)
    assert (shown["mode"], shown["client_id"]) == ("oauth", gopro.client_id)
    assert shown["expires_at"] is not None
    # A refresh token GoPro refuses is not stored
    refused = {**given, "refresh_token": "emu-refresh-not-issued"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(refused)))
    assert main([*argv, "--client-id", gopro.client_id]) == 1
    assert "nothing was stored" in error_line(capsys)
    assert store(world).load("gopro") == stored
