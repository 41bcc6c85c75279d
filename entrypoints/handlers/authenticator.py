"""Media Authenticator (R2): make sure the provider's stored token works for the next day.

Returns only facts that are safe in an execution history (mode, expiry, the secret's
version id); the other functions read the token from the credential store themselves. This
is a deliberate reading of R2.4: no token travels in events, results or history.
"""

from __future__ import annotations

from typing import Any

from domain.services import authenticate
from entrypoints.handlers.runtime import LambdaContext, invocation


def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    with invocation(event, context, "authenticator") as (container, _, provider):
        outcome = authenticate(
            provider,
            container.credential_store(),
            container.registry()[provider].auth(),
            container.clock(),
        )
        return {
            "provider": provider,
            "mode": outcome.mode.value,
            "refreshed": outcome.refreshed,
            "expires_at": outcome.expires_at.isoformat() if outcome.expires_at else None,
            "secret_version": outcome.secret_version,
        }
