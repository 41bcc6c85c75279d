"""A local world the way the README's operator gets one: fresh, or with credentials stored
and one sync run through the `cloudsync` command (for the command line's tests)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from adapters.aws.secrets_store import SecretsManagerCredentialStore
from entrypoints.cli import main
from entrypoints.handlers.runtime import reset_container
from sandbox.gopro.server import GoProEmulator
from sandbox.world import RESTORE_SECONDS, World, local_world
from tests.infra.iam import assert_granted


@contextmanager
def synced_world(
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str] | None,
    restore_seconds: float = RESTORE_SECONDS,
) -> Iterator[World]:
    """After the sync; on leaving, every call the functions made was granted. Without
    `capsys` (a world shared by a module's tests) the commands' output is left as it is."""
    with local_world(gopro, restore_seconds=restore_seconds) as world:
        reset_container()
        secrets = json.dumps({"access_token": gopro.session_token, "user_id": gopro.user_id})
        monkeypatch.setattr("sys.stdin", io.StringIO(secrets))
        assert main(["credentials", "set", "--stack", "dev", "--from-stdin"]) == 0
        assert main(["start", "--stack", "dev", "--follow"]) == 0
        if capsys is not None:
            capsys.readouterr()
        monkeypatch.setenv("ARCHIVE_BUCKET", world.environment["ARCHIVE_BUCKET"])
        monkeypatch.setenv("GOPRO_API_URL", world.gopro_url)
        try:
            yield world
        finally:
            reset_container()
        assert_granted(world.dispatcher.aws.calls, world.environment)


@contextmanager
def fresh_world(gopro: GoProEmulator) -> Iterator[World]:
    """Nothing stored, nothing run; on leaving, every call the functions made was granted."""
    with local_world(gopro) as world:
        reset_container()
        try:
            yield world
        finally:
            reset_container()
        assert_granted(world.dispatcher.aws.calls, world.environment)


def credential_store(world: World) -> SecretsManagerCredentialStore:
    return SecretsManagerCredentialStore(
        world.client("secretsmanager"), world.environment["CREDENTIALS_SECRET"]
    )


def one_error_line(captured: pytest.CaptureFixture[str]) -> str:
    """The one line a user's mistake prints, checked to be one line and no traceback."""
    err = captured.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("cloudsync: error: "), err
    assert "Traceback" not in err
    return lines[0]
