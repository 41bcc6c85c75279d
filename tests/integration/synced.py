"""A local world the way the README's operator gets one: credentials stored and one sync
run through the `cloudsync` command, its exports set (for the verify and restore tests)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from entrypoints.cli import main
from entrypoints.handlers.runtime import reset_container
from sandbox.gopro.server import GoProEmulator
from sandbox.world import RESTORE_SECONDS, World, local_world
from tests.infra.iam import assert_granted


@contextmanager
def synced_world(
    gopro: GoProEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_seconds: float = RESTORE_SECONDS,
) -> Iterator[World]:
    """After the sync; on leaving, every call the functions made was granted."""
    with local_world(gopro, restore_seconds=restore_seconds) as world:
        reset_container()
        secrets = json.dumps({"access_token": gopro.session_token, "user_id": gopro.user_id})
        monkeypatch.setattr("sys.stdin", io.StringIO(secrets))
        assert main(["credentials", "set", "--stack", "dev", "--from-stdin"]) == 0
        assert main(["start", "--stack", "dev", "--follow"]) == 0
        capsys.readouterr()
        monkeypatch.setenv("ARCHIVE_BUCKET", world.environment["ARCHIVE_BUCKET"])
        monkeypatch.setenv("GOPRO_API_URL", world.gopro_url)
        try:
            yield world
        finally:
            reset_container()
        assert_granted(world.dispatcher.aws.calls, world.environment)
