"""One translation of AWS's failures into the project's errors, in the manner of httpx's
`map_exceptions`: what was being done, to what, what AWS said, and what to do about it.

    with aws_call("DynamoDB Scan", table):
        ...

An error that means the resource is not there becomes `ResourceMissingError`; a refusal of
the caller's permissions `StorageAccessDeniedError`; no credentials, an unreachable
endpoint, an expired token, throttling and the rest `StorageError`: each message names the
operation, the resource and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from domain.errors import StorageAccessDeniedError, StorageError

MISSING = frozenset({
    "ResourceNotFoundException", "NoSuchBucket", "NoSuchKey", "NotFound", "404",
    "StateMachineDoesNotExist", "ExecutionDoesNotExist", "NotFoundException",
    "NoSuchEntity", "NotFoundError",
})  # fmt: skip
DENIED = frozenset({
    "AccessDenied", "AccessDeniedException", "AuthorizationError", "403",
    "UnauthorizedOperation", "AllAccessDisabled",
})  # fmt: skip
EXPIRED = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
    "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "RequestExpired",
})  # fmt: skip
THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded",
})  # fmt: skip
UNREACHABLE_HINT = "check the network, or AWS_ENDPOINT_URL if one is set"
SANDBOX_HINT = (
    "a local endpoint: is the sandbox running? start `cloudsync sandbox` again, then "
    "`source` its environment file in this terminal again (its port changes each time)"
)


def _loopback(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


class ResourceMissingError(StorageError):
    """The named resource does not exist (not deployed, deleted, or another region)."""


def code_of(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _refused(error: ClientError, where: str) -> StorageError:
    code = code_of(error)
    said = error.response.get("Error", {}).get("Message") or code
    if code in MISSING:
        return ResourceMissingError(
            f"{where}: does not exist ({said}); is the stack deployed in this account "
            "and region (see --stack and --region)?"
        )
    if code in DENIED:
        return StorageAccessDeniedError(
            f"{where}: access denied ({said}); the AWS identity in use needs this "
            "permission (`cloudsync policy operator` prints what a person needs)"
        )
    if code in EXPIRED:
        return StorageError(
            f"{where}: AWS does not accept these credentials ({code}); sign in again "
            "(e.g. `aws sso login`) or check AWS_PROFILE"
        )
    if code in THROTTLED:
        return StorageError(f"{where}: AWS is throttling requests ({code}); try again later")
    return StorageError(f"{where}: AWS refused: {code}: {said}")


def translate(error: Exception, operation: str, resource: str) -> StorageError:
    """The project's error for an AWS failure of `operation` on `resource`."""
    where = f"{operation} {resource}".strip()
    if isinstance(error, ClientError):
        return _refused(error, where)
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        hint = "configure a profile (`aws configure`) or set AWS_PROFILE"
        return StorageError(f"{where}: no AWS credentials found; {hint}")
    if isinstance(error, NoRegionError):
        return StorageError(f"{where}: no AWS region; pass --region or set AWS_REGION")
    if isinstance(error, EndpointConnectionError):
        endpoint = str(error.kwargs.get("endpoint_url", "?"))
        hint = SANDBOX_HINT if _loopback(endpoint) else UNREACHABLE_HINT
        return StorageError(f"{where}: cannot reach AWS at {endpoint}; {hint}")
    return StorageError(f"{where}: the AWS call failed: {error}")


@contextmanager
def aws_call(operation: str, resource: str = "") -> Iterator[None]:
    """Raise the project's error, naming `operation` and `resource`, for any AWS failure."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise translate(error, operation, resource) from error
