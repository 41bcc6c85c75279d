"""S3CatalogStore: the archive's catalog, `catalog/{provider}.csv` in the archive bucket.

One PutObject replaces it whole (S3 never shows half an object), so a reader sees the last
catalog or the one before, never a mix; the bucket's versioning keeps the earlier ones.
STANDARD class, encrypted with the archive key, under a prefix the archive lifecycle does
not touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.aws.s3_files import find_file, put_file

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
        put_file(
            self._s3, self._bucket, catalog_key(provider), text.encode("utf-8"),
            kms_key_id=self._kms_key_id, content_type="text/csv; charset=utf-8",
        )  # fmt: skip

    def read(self, provider: str) -> str | None:
        """The catalog, or None when none was written yet."""
        body = find_file(self._s3, self._bucket, catalog_key(provider))
        return None if body is None else body.decode("utf-8")
