"""Small working files in the archive bucket (a run's lists, the catalog): each one
PutObject or GetObject, encrypted with the archive key and an S3 Bucket Key, STANDARD
class, with a CRC32 S3 checks; a refusal names what the role lacks."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.errors import translate
from adapters.aws.s3_multipart import access_denied, crc32_base64, error_code, not_found
from domain.errors import StorageAccessDeniedError, StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def put_file(
    s3: S3Client, bucket: str, key: str, body: bytes, *, kms_key_id: str, content_type: str
) -> None:
    """Write `body` at `key` whole (S3 never shows half an object)."""
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ChecksumAlgorithm="CRC32",
            ChecksumCRC32=crc32_base64(zlib.crc32(body)),
            ContentType=content_type,
            StorageClass="STANDARD",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=kms_key_id,
            BucketKeyEnabled=True,
        )
    except ClientError as error:
        raise failure("PutObject", key, error) from None
    except BotoCoreError as error:
        raise translate(error, "S3 PutObject", f"s3://{bucket}/{key}") from None


def get_file(s3: S3Client, bucket: str, key: str) -> bytes:
    """The file's bytes; StorageError when it cannot be read, missing included."""
    found = find_file(s3, bucket, key)
    if found is None:
        raise StorageError(f"S3 GetObject {key!r} failed: NoSuchKey")
    return found


def find_file(s3: S3Client, bucket: str, key: str) -> bytes | None:
    """The file's bytes, or None when there is none at `key`."""
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if not_found(error):
            return None
        raise failure("GetObject", key, error) from None
    except BotoCoreError as error:
        raise translate(error, "S3 GetObject", f"s3://{bucket}/{key}") from None


def failure(action: str, key: str, error: ClientError) -> StorageError:
    code = error_code(error)
    if access_denied(error):
        return StorageAccessDeniedError(
            f"S3 {action} {key!r} was refused ({code}): the function's role needs it"
        )
    return StorageError(f"S3 {action} {key!r} failed: {code}")
