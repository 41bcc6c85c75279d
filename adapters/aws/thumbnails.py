"""S3Thumbnails: the archive's thumbnails, `thumbnails/{provider}/{media_id}.jpg`, in the
archive bucket: STANDARD class, encrypted with the archive key, under a prefix the archive
lifecycle does not touch, so they stay readable without a restore."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.aws.s3_files import find_file, put_file
from domain.errors import StorageError
from domain.keys import THUMBNAILS_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3ThumbnailReader:
    """The thumbnails, read only (the browse page)."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def read(self, key: str) -> bytes | None:
        """The thumbnail at `key`, or None when there is none."""
        if not key.startswith(THUMBNAILS_PREFIX):
            raise StorageError(f"{key!r} is not a thumbnail's key")
        return find_file(self._s3, self._bucket, key)


class S3Thumbnails(S3ThumbnailReader):
    def __init__(self, client: S3Client, bucket: str, kms_key_id: str) -> None:
        super().__init__(client, bucket)
        self._kms_key_id = kms_key_id

    def put(self, key: str, data: bytes) -> None:
        if not key.startswith(THUMBNAILS_PREFIX):
            raise StorageError(f"{key!r} is not a thumbnail's key")
        put_file(
            self._s3, self._bucket, key, data,
            kms_key_id=self._kms_key_id, content_type="image/jpeg",
        )  # fmt: skip
