"""GoProAuth against the emulator: OAuth refresh and session probes, never retried when refused."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from adapters.gopro.auth import GoProAuth
from adapters.gopro.settings import GoProSettings
from adapters.gopro.source import GoProMediaSource
from domain.credentials import OAuthCredentials, SessionCredentials
from domain.errors import CredentialsRejectedError
from domain.services import authenticate, sign_in
from sandbox.gopro.server import WEB_APP_CLIENT, GoProEmulator
from tests.fakes import EPOCH, FixedClock, InMemoryCredentialStore


def oauth_for(emulator: GoProEmulator, **changes: str) -> OAuthCredentials:
    values = {
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "refresh_token": emulator.refresh_token,
        **changes,
    }
    return OAuthCredentials(values["client_id"], values["client_secret"], values["refresh_token"])


def test_a_refresh_grants_a_working_token_and_rotates_the_refresh_token(
    emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    old_refresh = emulator.refresh_token
    grant = GoProAuth(client, settings).refresh(oauth_for(emulator))
    assert grant.expires_in_seconds == emulator.token_lifetime_seconds
    assert grant.refresh_token == emulator.refresh_token != old_refresh
    assert grant.user_id == emulator.user_id
    credentials = oauth_for(emulator).refreshed(grant, EPOCH)
    listed = list(GoProMediaSource(client, settings, credentials).list_media())
    assert len(listed) == len(emulator.media)


def test_the_authenticate_use_case_stores_the_refreshed_token(
    emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    store = InMemoryCredentialStore(oauth_for(emulator))
    outcome = authenticate("gopro", store, GoProAuth(client, settings), FixedClock())
    assert outcome.refreshed
    assert outcome.expires_at == EPOCH + timedelta(seconds=emulator.token_lifetime_seconds)
    saved = store.credentials
    assert isinstance(saved, OAuthCredentials)
    assert emulator.token_valid(saved.access_token)


@pytest.mark.parametrize(
    ("change", "status"),
    [({"client_secret": "wrong"}, "401 invalid_client"), ({"refresh_token": "revoked"}, "400")],
)
def test_refused_oauth_credentials_are_not_retried(
    emulator: GoProEmulator,
    client: httpx.Client,
    settings: GoProSettings,
    change: dict[str, str],
    status: str,
) -> None:
    with pytest.raises(CredentialsRejectedError, match=f"HTTP {status}") as caught:
        GoProAuth(client, settings).refresh(oauth_for(emulator, **change))
    assert "gopro/credentials" in str(caught.value)
    assert len(emulator.requests) == 1


def test_a_session_token_is_probed_with_bearer_and_cookie(
    emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    GoProAuth(client, settings).probe(SessionCredentials(emulator.session_token, "u"))
    (probe,) = emulator.requests
    assert (probe.path, probe.bearer, probe.cookie) == ("/media/user", True, True)


def test_a_rejected_session_token_says_how_to_replace_it_and_is_tried_once(
    emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    emulator.faults.reject_tokens = True
    with pytest.raises(CredentialsRejectedError, match="copy the gp_access_token") as caught:
        GoProAuth(client, settings).probe(SessionCredentials(emulator.session_token, "u"))
    assert emulator.session_token not in str(caught.value)
    assert len(emulator.requests) == 1


def test_a_rejected_token_during_listing_is_an_auth_error(
    emulator: GoProEmulator, source: GoProMediaSource
) -> None:
    emulator.faults.reject_tokens = True
    with pytest.raises(CredentialsRejectedError, match="HTTP 401"):
        list(source.list_media())
    assert len(emulator.requests) == 1


def test_a_sign_in_stores_refreshable_tokens_and_never_the_password(
    emulator: GoProEmulator,
    client: httpx.Client,
    settings: GoProSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given an account with an e-mail and password, and the web-app OAuth client
    store, auth = InMemoryCredentialStore(), GoProAuth(client, settings)
    # When the user signs in once
    with caplog.at_level("DEBUG"):
        outcome = sign_in(
            "gopro", emulator.username, emulator.password, signer=auth, store=store,
            clock=FixedClock(),
        )  # fmt: skip
    # Then refreshable credentials for the web-app client are stored, and they work
    stored = store.load("gopro")
    assert isinstance(stored, OAuthCredentials)
    assert (stored.client_id, stored.client_secret) == WEB_APP_CLIENT
    assert stored.refresh_token == emulator.refresh_token
    assert stored.user_id == emulator.user_id
    assert outcome.refreshed is True
    assert outcome.expires_at == EPOCH + timedelta(seconds=emulator.token_lifetime_seconds)
    assert len(list(GoProMediaSource(client, settings, stored).list_media())) == len(emulator.media)
    # And nothing anywhere holds the password
    assert emulator.password not in repr(stored) + repr(outcome) + repr(store.versions)
    assert emulator.password not in caplog.text
    # And the authenticator refreshes from then on
    later = FixedClock(EPOCH + timedelta(days=2))
    assert authenticate("gopro", store, auth, later).refreshed is True


def test_a_refused_sign_in_points_two_factor_accounts_to_browser_tokens(
    emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    emulator.faults.two_factor = True
    with pytest.raises(CredentialsRejectedError, match="two-factor") as caught:
        GoProAuth(client, settings).sign_in(emulator.username, emulator.password)
    assert "credentials set --mode session" in str(caught.value)
    assert emulator.password not in str(caught.value)


def test_a_blacklisted_refresh_token_asks_for_a_new_sign_in(
    emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    emulator.faults.blacklist_refresh_tokens = True
    with pytest.raises(CredentialsRejectedError, match="token_blacklisted") as caught:
        GoProAuth(client, settings).refresh(oauth_for(emulator))
    assert "run `cloudsync credentials login` again" in str(caught.value)
    tries = [r for r in emulator.requests if r.path == "/v1/oauth2/token"]
    assert len(tries) == 1  # a refusal is never retried


def test_a_grant_without_an_owner_id_takes_it_from_media_user(
    emulator: GoProEmulator, client: httpx.Client, settings: GoProSettings
) -> None:
    emulator.faults.omit_owner_id = True
    grant = GoProAuth(client, settings).refresh(oauth_for(emulator))
    assert grant.user_id == emulator.user_id
    assert ("GET", "/media/user") in [(r.method, r.path) for r in emulator.requests]
