"""The GoPro emulator on loopback, and adapters pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from adapters.gopro.settings import GoProSettings, make_client
from adapters.gopro.source import GoProMediaSource
from domain.credentials import SessionCredentials
from sandbox.gopro.library import EmulatedMedia, generate_library
from sandbox.gopro.server import GoProEmulator
from tests.integration.aws import Account, emulated_account


@dataclass
class Sleeps:
    """Records the adapter's back-off waits instead of sleeping through them."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def library() -> list[EmulatedMedia]:
    return generate_library(seed=7, videos=24)


@pytest.fixture
def emulator(library: list[EmulatedMedia]) -> Iterator[GoProEmulator]:
    with GoProEmulator(library) as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def settings(emulator: GoProEmulator, sleeps: Sleeps) -> GoProSettings:
    return GoProSettings(
        base_url=emulator.base_url,
        allow_loopback=True,
        page_size=10,
        sleep=sleeps,
    )


@pytest.fixture
def client(settings: GoProSettings) -> Iterator[httpx.Client]:
    with make_client(settings) as http:
        yield http


@pytest.fixture
def source(
    client: httpx.Client, settings: GoProSettings, emulator: GoProEmulator
) -> GoProMediaSource:
    credentials = SessionCredentials(emulator.session_token, emulator.user_id)
    return GoProMediaSource(client, settings, credentials)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    yield from emulated_account()
