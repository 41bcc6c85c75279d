"""S3Archive: the archive bucket as `cloudsync restore` sees it, under the operator's own
credentials (not a function's role).

- `state`: HeadObject, its StorageClass and S3's `Restore` header read by `object_state`.
- `request`: RestoreObject. S3 answers 202 for a new restore, 200 when the object is
  already restored (the copy's expiry is moved to `days` from now), 409
  RestoreAlreadyInProgress while one is under way, and 403 InvalidObjectState for an
  object outside an archive class.
- `download`: GetObject, streamed, for a readable or restored object.
- `link`: a pre-signed GetObject URL.

A refusal names the permission the credentials lack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.errors import aws_call
from adapters.aws.s3_multipart import access_denied, error_code, not_found
from domain.restore import ARCHIVE_CLASSES, ObjectState, RestoreError, State, Tier

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

READ_CHUNK = 1024 * 1024
MAX_LINK_SECONDS = 7 * 24 * 3600
"""SigV4 pre-signed URLs live at most 7 days (less with temporary credentials)."""

_ACTIONS = {
    "HeadObject": "s3:GetObject (and s3:ListBucket)",
    "GetObject": "s3:GetObject and kms:Decrypt on the archive key",
    "RestoreObject": "s3:RestoreObject",
}


TIERS: dict[Tier, Literal["Bulk", "Standard"]] = {Tier.BULK: "Bulk", Tier.STANDARD: "Standard"}


_ONGOING = re.compile(r'ongoing-request\s*=\s*"(true|false)"')
_EXPIRY = re.compile(r'expiry-date\s*=\s*"([^"]+)"')


def object_state(key: str, storage_class: str | None, restore: str | None) -> ObjectState:
    """Where the object at `key` stands, from HeadObject's StorageClass and Restore."""
    klass = storage_class or "STANDARD"  # S3 leaves the header out for STANDARD
    if klass not in ARCHIVE_CLASSES:
        return ObjectState(key, klass, State.READABLE)
    if not restore:
        return ObjectState(key, klass, State.NOT_REQUESTED)
    ongoing = _ONGOING.search(restore)
    if ongoing is None:
        raise RestoreError(f"{key}: S3's restore status {restore!r} has no ongoing-request")
    if ongoing.group(1) == "true":
        return ObjectState(key, klass, State.PENDING)
    expiry = _EXPIRY.search(restore)
    try:
        expires = parsedate_to_datetime(expiry.group(1)) if expiry else None
    except (TypeError, ValueError):
        raise RestoreError(f"{key}: S3's restore expiry {restore!r} is not a date") from None
    return ObjectState(key, klass, State.READY, expires)


class Requested(StrEnum):
    STARTED = "restore started"
    EXTENDED = "already restored; its copy now lasts the days asked"
    IN_PROGRESS = "a restore is already in progress"
    READABLE = "not in an archive class: readable now, no restore needed"


def refused(action: str, bucket: str, key: str, error: ClientError) -> RestoreError:
    code = error_code(error)
    if access_denied(error):
        return RestoreError(
            f"AWS refused {action} on s3://{bucket}/{key} ({code}): your credentials need "
            f"{_ACTIONS.get(action, action)}"
        )
    message = error.response.get("Error", {}).get("Message", "")
    return RestoreError(f"S3 {action} s3://{bucket}/{key} failed: {code} {message}".rstrip())


def check_link_seconds(seconds: int) -> int:
    if not 1 <= seconds <= MAX_LINK_SECONDS:
        raise RestoreError(
            f"a link lasts 1 second to 7 days ({MAX_LINK_SECONDS} s), not {seconds} s"
        )
    return seconds


class S3Archive:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def check(self) -> None:
        """The bucket exists and may be read (one HeadBucket), before a key of it is."""
        with aws_call("S3 HeadBucket", f"s3://{self.bucket}"):
            self._s3.head_bucket(Bucket=self.bucket)

    def state(self, key: str) -> ObjectState | None:
        """Where the object stands; None when there is no object at `key`."""
        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if not_found(error):
                return None
            raise refused("HeadObject", self.bucket, key, error) from None
        except BotoCoreError as error:
            raise RestoreError(f"S3 HeadObject s3://{self.bucket}/{key} failed: {error}") from None
        return object_state(key, head.get("StorageClass"), head.get("Restore"))

    def request(self, key: str, tier: Tier, days: int) -> Requested:
        try:
            answer = self._s3.restore_object(
                Bucket=self.bucket,
                Key=key,
                RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": TIERS[tier]}},
            )
        except ClientError as error:
            code = error_code(error)
            if code == "RestoreAlreadyInProgress":
                return Requested.IN_PROGRESS
            if code == "InvalidObjectState":
                return Requested.READABLE
            raise refused("RestoreObject", self.bucket, key, error) from None
        except BotoCoreError as error:
            raise RestoreError(
                f"S3 RestoreObject s3://{self.bucket}/{key} failed: {error}"
            ) from None
        status = answer["ResponseMetadata"]["HTTPStatusCode"]
        return Requested.EXTENDED if status == 200 else Requested.STARTED

    def download(self, key: str) -> Iterator[bytes]:
        """The object's bytes, a chunk at a time."""
        try:
            body: Any = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            while chunk := body.read(READ_CHUNK):
                yield chunk
        except ClientError as error:
            if error_code(error) == "InvalidObjectState":
                raise RestoreError(
                    f"s3://{self.bucket}/{key} is archived and not restored (yet): "
                    "`cloudsync restore` first, then `cloudsync restore status`"
                ) from None
            raise refused("GetObject", self.bucket, key, error) from None
        except BotoCoreError as error:
            raise RestoreError(f"S3 GetObject s3://{self.bucket}/{key} failed: {error}") from None

    def link(self, key: str, seconds: int) -> str:
        check_link_seconds(seconds)
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )
