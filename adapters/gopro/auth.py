"""GoProAuth: the provider-auth port over GoPro's token endpoint and /media/user."""

from __future__ import annotations

from dataclasses import replace

import httpx

from adapters.gopro.errors import GoProProtocolError
from adapters.gopro.http import api_headers, send
from adapters.gopro.settings import GoProSettings
from domain.credentials import OAuthCredentials, SessionCredentials, SignIn, TokenGrant
from domain.errors import CredentialsRejectedError, InvalidSettingError

PROVIDER = "gopro"
WEB_APP_CLIENT_ID = "71611e67ea968cfacf45e2b6936c81156fcf5dbe553a2bf2d342da1562d05f46"
WEB_APP_CLIENT_SECRET = "3863c9b438c07b82f39ab3eeeef9c24fefa50c6856253e3f1d37e0e3b1ead68d"  # noqa: S105
"""GoPro's own web-app OAuth client: public constants in every working client
(shared/spec/gopro-cloud-api.md, "Authentication"); no one registers an application."""
SIGN_IN_SCOPE = "root root:channels public me upload media_library_beta live"
SESSION_REMEDY = (
    "the browser session token was refused (HTTP {status}); it cannot be renewed "
    "automatically, and such a token may last only hours. Run `cloudsync credentials "
    "login` to store refreshable tokens instead, or sign in at gopro.com, copy the "
    "gp_access_token and gp_user_id cookies and run `cloudsync credentials set --mode "
    "session` (accounts with two-factor sign-in have only this way)"
)
OAUTH_REMEDY = (
    "the token endpoint refused the stored refresh token (HTTP {status} {error}); run "
    "`cloudsync credentials login` again to sign in (the password is never stored), or "
    "store a valid client_id, client_secret and refresh_token in the gopro/credentials secret"
)
SIGN_IN_REFUSED = (
    "GoPro refused the e-mail and password (HTTP {status} {error}). Accounts with two-factor "
    "sign-in cannot sign in this way: use `cloudsync credentials set --mode session` with a "
    "browser token instead (it may last only hours)"
)


class GoProAuth:
    """Refreshes OAuth tokens and probes session tokens. Refusals are never retried."""

    def __init__(self, client: httpx.Client, settings: GoProSettings) -> None:
        self._client = client
        self._settings = settings

    def _token(self, form: dict[str, str], refused: str) -> TokenGrant:
        """One exchange at the token endpoint; a refusal raises with `refused` (formatted
        with the status and error code), never retried."""
        response = send(
            self._client,
            self._settings,
            "POST",
            "/v1/oauth2/token",
            data=form,
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403):
            error = _error_code(response)
            raise CredentialsRejectedError(
                PROVIDER, refused.format(status=response.status_code, error=error)
            )
        if response.status_code != 200:
            raise GoProProtocolError(f"the token endpoint answered HTTP {response.status_code}")
        return self._with_user_id(_grant(response))

    def refresh(self, credentials: OAuthCredentials) -> TokenGrant:
        form = {
            "grant_type": "refresh_token",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "refresh_token": credentials.refresh_token,
        }
        return self._token(form, OAUTH_REMEDY)

    def sign_in(
        self,
        username: str,
        password: str,
        client_id: str = WEB_APP_CLIENT_ID,
        client_secret: str = WEB_APP_CLIENT_SECRET,
    ) -> SignIn:
        """The password grant, once: the answer is the refresh answer's shape. Neither the
        password nor the answer's tokens are logged or kept here."""
        form = {
            "grant_type": "password",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": SIGN_IN_SCOPE,
            "username": username,
            "password": password,
        }
        grant = self._token(form, SIGN_IN_REFUSED)
        if grant.refresh_token is None:
            raise GoProProtocolError("the sign-in answer has no refresh token")
        return SignIn(client_id, client_secret, grant)

    def _with_user_id(self, grant: TokenGrant) -> TokenGrant:
        """A grant may lack `resource_owner_id` (after a refresh, often): ask /media/user."""
        if grant.user_id is not None:
            return grant
        probe = SessionCredentials(grant.access_token, "unknown")
        response = send(
            self._client, self._settings, "GET", "/media/user", headers=api_headers(probe)
        )
        body = response.json() if response.status_code == 200 else None
        user = body.get("id") if isinstance(body, dict) else None
        if not isinstance(user, str) or not user:
            raise GoProProtocolError(
                f"the token endpoint gave no user id and /media/user answered HTTP "
                f"{response.status_code} without one"
            )
        return replace(grant, user_id=user)

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
