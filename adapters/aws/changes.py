"""S3ChangeMemory: the provider's changes already reported, one small object each under
`catalog/changes/{provider}/{identity}.json` in the archive bucket (STANDARD, encrypted
with the archive key). Remembering is PutObject with `If-None-Match: *`: S3 creates the
object only when none is there, so of two functions noticing the same change at once, one
learns it is new and alerts, the other that it is known."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.errors import translate
from adapters.aws.s3_files import failure
from adapters.aws.s3_multipart import error_code
from domain.drift import Change
from domain.keys import CHANGES_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ALREADY_THERE = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
"""412: an object is there; 409: another write of it is under way (it will be there)."""


class S3ChangeMemory:
    def __init__(self, client: S3Client, bucket: str, kms_key_id: str) -> None:
        self._s3 = client
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def remember(self, provider: str, change: Change) -> bool:
        key = f"{CHANGES_PREFIX}{provider}/{change.identity}.json"
        body = json.dumps(
            {"kind": change.kind.value, "subject": change.subject, "expected": change.expected,
             "came": change.came, "first_seen": change.detail},
            indent=2,
        ).encode()  # fmt: skip
        try:
            self._s3.put_object(
                Bucket=self._bucket, Key=key, Body=body, IfNoneMatch="*",
                ContentType="application/json", StorageClass="STANDARD",
                ServerSideEncryption="aws:kms", SSEKMSKeyId=self._kms_key_id,
                BucketKeyEnabled=True,
            )  # fmt: skip
        except ClientError as error:
            if error_code(error) in ALREADY_THERE:
                return False
            raise failure("PutObject", key, error) from None
        except BotoCoreError as error:
            raise translate(error, "S3 PutObject", f"s3://{self._bucket}/{key}") from None
        return True
