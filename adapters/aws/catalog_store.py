"""What the archive says of itself, under `catalog/` in the archive bucket: the catalog
(`catalog/{provider}.csv`, S3CatalogStore) and the judgement of the provider's ETags
(`catalog/{provider}-etag.json`, S3EtagVerdicts).

One PutObject replaces a file whole (S3 never shows half an object), so a reader sees the last
catalog or the one before, never a mix; the bucket's versioning keeps the earlier ones.
STANDARD class, encrypted with the archive key, under a prefix the archive lifecycle does
not touch.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from adapters.aws.s3_files import find_file, put_file
from domain.errors import StorageError
from domain.keys import CATALOG_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def catalog_key(provider: str) -> str:
    return f"{CATALOG_PREFIX}{provider}.csv"


def etag_verdict_key(provider: str) -> str:
    return f"{CATALOG_PREFIX}{provider}-etag.json"


class S3CatalogReader:
    """The catalog, read only."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def read(self, provider: str) -> str | None:
        """The catalog, or None when none was written yet."""
        body = find_file(self._s3, self._bucket, catalog_key(provider))
        if body is None:
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise StorageError(
                f"s3://{self._bucket}/{catalog_key(provider)} is not UTF-8 text: it was not "
                "written by cloud-sync; the bucket's versioning keeps the earlier catalogs, "
                "or leave out --catalog to use the tracker"
            ) from None


class S3CatalogStore(S3CatalogReader):
    def __init__(self, client: S3Client, bucket: str, kms_key_id: str) -> None:
        super().__init__(client, bucket)
        self._kms_key_id = kms_key_id

    def write(self, provider: str, text: str) -> None:
        put_file(
            self._s3, self._bucket, catalog_key(provider), text.encode("utf-8"),
            kms_key_id=self._kms_key_id, content_type="text/csv; charset=utf-8",
        )  # fmt: skip


class S3EtagVerdicts:
    """The judgement of a provider's ETags: `{"distrusted": why}`, or `{"distrusted":
    null}` once they are trusted again (a write, so no role needs to delete)."""

    def __init__(self, client: S3Client, bucket: str, kms_key_id: str) -> None:
        self._s3 = client
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def distrusted(self, provider: str) -> str | None:
        key = etag_verdict_key(provider)
        body = find_file(self._s3, self._bucket, key)
        if body is None:
            return None
        try:
            why = json.loads(body)["distrusted"]
        except (ValueError, KeyError, TypeError):
            raise StorageError(f"{key!r} is not an ETag verdict") from None
        if why is not None and not isinstance(why, str):
            raise StorageError(f"{key!r}: 'distrusted' is neither text nor null")
        return why

    def judge(self, provider: str, why: str | None) -> None:
        put_file(
            self._s3, self._bucket, etag_verdict_key(provider),
            json.dumps({"distrusted": why}).encode("utf-8"),
            kms_key_id=self._kms_key_id, content_type="application/json",
        )  # fmt: skip
