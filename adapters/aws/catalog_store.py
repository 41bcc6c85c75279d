"""S3CatalogStore: the archive's catalog, `catalog/{provider}.csv` in the archive bucket.

One PutObject replaces it whole (S3 never shows half an object), so a reader sees the last
catalog or the one before, never a mix; the bucket's versioning keeps the earlier ones.
STANDARD class, encrypted with the archive key, under a prefix the archive lifecycle does
not touch.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.s3_multipart import crc32_base64, error_code
from domain.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CATALOG_PREFIX = "catalog/"


def catalog_key(provider: str) -> str:
    return f"{CATALOG_PREFIX}{provider}.csv"


class S3CatalogStore:
    def __init__(self, client: S3Client, bucket: str, kms_key_id: str) -> None:
        self._s3 = client
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def write(self, provider: str, text: str) -> None:
        body = text.encode("utf-8")
        key = catalog_key(provider)
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ChecksumAlgorithm="CRC32",
                ChecksumCRC32=crc32_base64(zlib.crc32(body)),
                ContentType="text/csv; charset=utf-8",
                StorageClass="STANDARD",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self._kms_key_id,
                BucketKeyEnabled=True,
            )
        except ClientError as error:
            raise StorageError(f"S3 PutObject {key!r} failed: {error_code(error)}") from None
        except BotoCoreError as error:
            raise StorageError(f"S3 PutObject {key!r} failed: {error}") from None

    def read(self, provider: str) -> str | None:
        """The catalog, or None when none was written yet."""
        key = catalog_key(provider)
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise StorageError(f"S3 GetObject {key!r} failed: {error_code(error)}") from None
        except BotoCoreError as error:
            raise StorageError(f"S3 GetObject {key!r} failed: {error}") from None
        return answer["Body"].read().decode("utf-8")
