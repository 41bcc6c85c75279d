"""GoProAuth: the provider-auth port over GoPro's token endpoint and /media/user."""

from __future__ import annotations

import httpx

from adapters.gopro.errors import GoProProtocolError
from adapters.gopro.http import api_headers, send
from adapters.gopro.settings import GoProSettings
from domain.credentials import OAuthCredentials, SessionCredentials, TokenGrant
from domain.errors import CredentialsRejectedError, InvalidSettingError

PROVIDER = "gopro"
SESSION_REMEDY = (
    "the browser session token was refused (HTTP {status}); it cannot be renewed "
    "automatically. Sign in at gopro.com, copy the gp_access_token and gp_user_id cookies, "
    "and store them again in the gopro/credentials secret"
)
OAUTH_REMEDY = (
    "the token endpoint refused the client credentials or refresh token (HTTP {status} "
    "{error}); store a valid client_id, client_secret and refresh_token in the "
    "gopro/credentials secret"
)


class GoProAuth:
    """Refreshes OAuth tokens and probes session tokens. Refusals are never retried."""

    def __init__(self, client: httpx.Client, settings: GoProSettings) -> None:
        self._client = client
        self._settings = settings

    def refresh(self, credentials: OAuthCredentials) -> TokenGrant:
        response = send(
            self._client,
            self._settings,
            "POST",
            "/v1/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
                "refresh_token": credentials.refresh_token,
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403):
            error = _error_code(response)
            raise CredentialsRejectedError(
                PROVIDER, OAUTH_REMEDY.format(status=response.status_code, error=error)
            )
        if response.status_code != 200:
            raise GoProProtocolError(f"the token endpoint answered HTTP {response.status_code}")
        return _grant(response)

    def probe(self, credentials: SessionCredentials) -> None:
        response = send(
            self._client, self._settings, "GET", "/media/user", headers=api_headers(credentials)
        )
        if response.status_code in (401, 403):
            raise CredentialsRejectedError(
                PROVIDER, SESSION_REMEDY.format(status=response.status_code)
            )
        if response.status_code != 200:
            raise GoProProtocolError(f"/media/user answered HTTP {response.status_code}")


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "without a JSON body"
    error = body.get("error") if isinstance(body, dict) else None
    return str(error)[:60] if error else "without an error code"


def _grant(response: httpx.Response) -> TokenGrant:
    try:
        body = response.json()
    except ValueError:
        raise GoProProtocolError("the token endpoint answered with no JSON body") from None
    if not isinstance(body, dict):
        raise GoProProtocolError("the token endpoint's answer is not a JSON object")
    token, expires_in = body.get("access_token"), body.get("expires_in")
    if not isinstance(token, str) or not token:
        raise GoProProtocolError("the token endpoint's answer has no 'access_token'")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise GoProProtocolError("the token endpoint's 'expires_in' is not a whole number")
    refresh, owner = body.get("refresh_token"), body.get("resource_owner_id")
    try:
        return TokenGrant(
            access_token=token,
            expires_in_seconds=expires_in,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            user_id=owner if isinstance(owner, str) and owner else None,
        )
    except InvalidSettingError as error:
        raise GoProProtocolError(f"the token endpoint's answer is unusable: {error}") from None
