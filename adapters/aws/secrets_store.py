"""SecretsManagerCredentialStore: a provider's credentials in one secret (R2.1, R2.3).

The secret (`{provider}/credentials`, e.g. `gopro/credentials`) holds JSON:
- OAuth: `client_id`, `client_secret`, `refresh_token`, and optionally `user_id`,
  `access_token`, `expires_at` and `refreshed_at` (ISO 8601), which a refresh writes;
- session: `access_token` and `user_id` copied from a browser (no `refresh_token`).
A refreshed token is stored with `PutSecretValue` (IAM has no `UpdateSecretValue` action).
Errors name the field that is wrong, never a value.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.errors import ResourceMissingError, aws_call, translate
from domain.credentials import Credentials, OAuthCredentials, SessionCredentials
from domain.errors import CredentialsMissingError, InvalidSettingError, StorageError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


DEFAULT_SECRET = "{provider}/credentials"  # noqa: S105 - a name, not a secret


def secret_id_for(provider: str, template: str = DEFAULT_SECRET) -> str:
    return template.format(provider=provider)


def credentials_to_json(credentials: Credentials, provider: str) -> str:
    values: dict[str, Any]
    if isinstance(credentials, SessionCredentials):
        values = {"access_token": credentials.access_token, "user_id": credentials.user_id}
    else:
        values = {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "refresh_token": credentials.refresh_token,
            "access_token": credentials.access_token,
            "user_id": credentials.user_id,
            "expires_at": credentials.expires_at.isoformat() if credentials.expires_at else None,
            "refreshed_at": (
                credentials.refreshed_at.isoformat() if credentials.refreshed_at else None
            ),
        }
    values = {"provider": provider, **{k: v for k, v in values.items() if v is not None}}
    return json.dumps(values, sort_keys=True)


def credentials_from_json(text: str, secret_id: str) -> Credentials:
    def bad(field: str, why: str) -> InvalidSettingError:
        return InvalidSettingError(f"secret {secret_id} field {field}", why)

    try:
        values = json.loads(text)
    except ValueError:
        raise InvalidSettingError(f"secret {secret_id}", "is not JSON") from None
    if not isinstance(values, dict):
        raise InvalidSettingError(f"secret {secret_id}", "is not a JSON object")

    def text_field(name: str) -> str | None:
        value = values.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise bad(name, "must be non-empty text")
        return value

    def time_field(name: str) -> datetime | None:
        value = text_field(name)
        try:
            parsed = None if value is None else datetime.fromisoformat(value)
        except ValueError:
            raise bad(name, "must be an ISO 8601 time") from None
        if parsed is not None and parsed.utcoffset() is None:
            raise bad(name, "must carry a time zone")
        return parsed

    if values.get("refresh_token") is None:
        token, user = text_field("access_token"), text_field("user_id")
        if token is None or user is None:
            missing = "access_token" if token is None else "user_id"
            raise bad(missing, "is missing (a session secret needs access_token and user_id)")
        return SessionCredentials(token, user)
    required = {name: text_field(name) for name in ("client_id", "client_secret", "refresh_token")}
    for name, value in required.items():
        if value is None:
            raise bad(
                name, "is missing (an OAuth secret needs client_id, client_secret, refresh_token)"
            )
    return OAuthCredentials(
        client_id=required["client_id"] or "",
        client_secret=required["client_secret"] or "",
        refresh_token=required["refresh_token"] or "",
        access_token=text_field("access_token"),
        expires_at=time_field("expires_at"),
        user_id=text_field("user_id"),
        refreshed_at=time_field("refreshed_at"),
    )


class SecretsManagerCredentialStore:
    """`template` names each provider's secret (`{provider}` is replaced)."""

    def __init__(self, client: SecretsManagerClient, template: str = DEFAULT_SECRET) -> None:
        if "{provider}" not in template:
            raise InvalidSettingError("secret name template", "must contain {provider}")
        self._secrets = client
        self._template = template

    def load(self, provider: str) -> Credentials:
        secret_id = secret_id_for(provider, self._template)
        try:
            answer = self._secrets.get_secret_value(SecretId=secret_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise CredentialsMissingError(provider, f"secret {secret_id}") from None
            raise StorageError(f"reading secret {secret_id} failed: {error}") from None
        except BotoCoreError as error:
            raise translate(error, "Secrets Manager GetSecretValue", secret_id) from None
        text = answer.get("SecretString")
        if not text:
            raise CredentialsMissingError(provider, f"secret {secret_id} (it has no value)")
        return credentials_from_json(text, secret_id)

    def exists(self, provider: str) -> bool:
        """Whether the provider's secret exists (with a value or not)."""
        secret_id = secret_id_for(provider, self._template)
        try:
            with aws_call("Secrets Manager DescribeSecret", secret_id):
                self._secrets.describe_secret(SecretId=secret_id)
        except ResourceMissingError:
            return False
        return True

    def save(self, provider: str, credentials: Credentials) -> str:
        secret_id = secret_id_for(provider, self._template)
        with aws_call("Secrets Manager PutSecretValue", secret_id):
            answer = self._secrets.put_secret_value(
                SecretId=secret_id, SecretString=credentials_to_json(credentials, provider)
            )
        return answer["VersionId"]
