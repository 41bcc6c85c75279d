"""Authentication: refresh inside the 24-hour window, probe session tokens, never leak."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.credentials import OAuthCredentials, SessionCredentials, TokenGrant
from domain.errors import CredentialsMissingError, CredentialsRejectedError, InvalidSettingError
from domain.services import AuthMode, authenticate
from tests.fakes import EPOCH, FakeProviderAuth, FixedClock, InMemoryCredentialStore

# A marker prefix keeps a random secret from matching field names by chance.
secrets = st.text(max_size=30).map(lambda tail: "S3CR3T-" + tail)


def oauth(expires_in: timedelta | None, access: str | None = "old-token") -> OAuthCredentials:
    return OAuthCredentials(
        client_id="client",
        client_secret="shh-client-secret",
        refresh_token="shh-refresh",
        access_token=access,
        expires_at=None if expires_in is None else EPOCH + expires_in,
        user_id="u1",
    )


GRANT = TokenGrant("new-token", 86_400, refresh_token="rotated-refresh", user_id="u1")


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_a_token_is_refreshed_exactly_when_it_expires_within_a_day(minutes: int) -> None:
    store = InMemoryCredentialStore(oauth(timedelta(minutes=minutes)))
    auth = FakeProviderAuth(GRANT)
    outcome = authenticate("gopro", store, auth, FixedClock())
    should = minutes < 24 * 60
    assert outcome.refreshed is should
    assert auth.refreshes == int(should)
    assert len(store.versions) == int(should)
    if should:
        saved = store.versions[0]
        assert isinstance(saved, OAuthCredentials)
        assert saved.access_token == "new-token"
        assert saved.refresh_token == "rotated-refresh"
        assert saved.refreshed_at == EPOCH
        assert saved.expires_at == EPOCH + timedelta(days=1) == outcome.expires_at
        assert outcome.secret_version == "v1"


def test_credentials_without_a_token_are_refreshed() -> None:
    store = InMemoryCredentialStore(oauth(None, access=None))
    outcome = authenticate("gopro", store, FakeProviderAuth(GRANT), FixedClock())
    assert outcome.refreshed
    assert outcome.mode is AuthMode.OAUTH


def test_a_revoked_refresh_token_is_an_error_and_nothing_is_stored() -> None:
    store = InMemoryCredentialStore(oauth(timedelta(hours=1)))
    with pytest.raises(CredentialsRejectedError, match="revoked"):
        authenticate("gopro", store, FakeProviderAuth(None), FixedClock())
    assert store.versions == []


def test_a_session_token_is_probed_and_a_rejected_one_says_what_to_do() -> None:
    store = InMemoryCredentialStore(SessionCredentials("browser-token", "u1"))
    auth = FakeProviderAuth(session_valid=True)
    outcome = authenticate("gopro", store, auth, FixedClock())
    assert (outcome.mode, outcome.refreshed, outcome.expires_at) == (AuthMode.SESSION, False, None)
    assert auth.probes == 1
    with pytest.raises(CredentialsRejectedError, match="gp_access_token"):
        authenticate("gopro", store, FakeProviderAuth(session_valid=False), FixedClock())
    assert store.versions == []


def test_missing_credentials_are_a_clear_error() -> None:
    with pytest.raises(CredentialsMissingError, match="no credentials stored for provider 'gopro'"):
        authenticate("gopro", InMemoryCredentialStore(), FakeProviderAuth(GRANT), FixedClock())


@given(secrets, secrets, secrets)
def test_no_secret_shows_in_a_repr_or_an_outcome(secret: str, refresh: str, token: str) -> None:
    credentials = OAuthCredentials("client", secret, refresh, access_token=token)
    grant = TokenGrant(token, 3600, refresh_token=refresh)
    session = SessionCredentials(token, "u1")
    outcome = authenticate(
        "gopro", InMemoryCredentialStore(credentials), FakeProviderAuth(grant), FixedClock()
    )
    shown = " ".join([repr(credentials), repr(grant), repr(session), repr(asdict(outcome))])
    for value in (secret, refresh, token):
        assert value not in shown


@pytest.mark.parametrize("field", ["client_id", "client_secret", "refresh_token"])
def test_empty_oauth_fields_are_named(field: str) -> None:
    values = {"client_id": "c", "client_secret": "s", "refresh_token": "r", field: ""}
    with pytest.raises(InvalidSettingError, match=field):
        OAuthCredentials(values["client_id"], values["client_secret"], values["refresh_token"])
