"""Provider credentials, in the two modes GoPro Cloud knows, and the refresh rule (R2.2).

Secret fields are left out of `repr`, so a credential printed or logged by mistake shows
no token.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.errors import InvalidSettingError
from domain.model import require_aware

REFRESH_WINDOW = timedelta(hours=24)
"""R2.2: a token that expires within this window is refreshed."""


@dataclass(frozen=True)
class TokenGrant:
    """What a token endpoint answered to a refresh."""

    access_token: str = field(repr=False)
    expires_in_seconds: int
    refresh_token: str | None = field(default=None, repr=False)
    """A rotated refresh token, when the provider sends one."""
    user_id: str | None = None

    def __post_init__(self) -> None:
        if self.expires_in_seconds <= 0:
            raise InvalidSettingError("expires_in", "must be a positive number of seconds")


@dataclass(frozen=True)
class SignIn:
    """What one sign-in with an e-mail and password gave: the OAuth client it used and the
    first tokens. The password itself is never part of it."""

    client_id: str
    client_secret: str = field(repr=False)
    grant: TokenGrant = field(repr=False)


@dataclass(frozen=True)
class OAuthCredentials:
    """Client credentials and a refresh token: the system can renew access by itself."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    user_id: str | None = None
    refreshed_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("client_id", "client_secret", "refresh_token"):
            if not getattr(self, name):
                raise InvalidSettingError(name, "is empty")
        require_aware("expires_at", self.expires_at)
        require_aware("refreshed_at", self.refreshed_at)

    def needs_refresh(self, now: datetime, window: timedelta = REFRESH_WINDOW) -> bool:
        """True without a token, or when the token expires less than `window` from now."""
        if self.access_token is None or self.expires_at is None:
            return True
        return self.expires_at - now < window

    def refreshed(self, grant: TokenGrant, now: datetime) -> OAuthCredentials:
        """These credentials with the granted token, stamped with the time of the refresh."""
        return replace(
            self,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token or self.refresh_token,
            expires_at=now + timedelta(seconds=grant.expires_in_seconds),
            user_id=grant.user_id or self.user_id,
            refreshed_at=now,
        )


@dataclass(frozen=True)
class SessionCredentials:
    """A token copied from a logged-in browser: it cannot be renewed, only replaced by a person."""

    access_token: str = field(repr=False)
    user_id: str

    def __post_init__(self) -> None:
        for name in ("access_token", "user_id"):
            if not getattr(self, name):
                raise InvalidSettingError(name, "is empty")


Credentials = OAuthCredentials | SessionCredentials
