"""S3ObjectStore: the archive, streamed into S3 without touching local disk (R3.2).

- An object of at most 100 MiB goes up in one PutObject; a larger one as a multipart
  upload in 50 MiB parts (R3.3). S3 allows 10,000 parts, so above 500 GB (10,000 x 50 MiB)
  the part size grows to the size / 10,000, rounded up to a MiB; S3's limit is 5 TiB.
- StorageClass STANDARD (R5.4), tags Source=GoPro and AutoSync=True (R5.5), SSE-KMS with
  the bucket's customer-managed key and an S3 Bucket Key (R9.2), and the owning media id in
  the object's metadata, all set at creation.
- Creation is conditional (`If-None-Match: *` on PutObject and CompleteMultipartUpload):
  an existing object is never overwritten.
- A whole-object CRC32 is sent with the object; after creation the store reads back what S3
  holds (size and checksum) so the caller verifies against S3's word, not its own.
- Part N uploads on a worker thread while part N+1 is read from the source: memory holds
  about two parts, whatever the file size.
- On any failure an open multipart upload is aborted; only a requested pause leaves it open.
- The client (`s3_client`) does not SHA-256 the body for SigV4: over TLS, with a CRC32 on
  every body, botocore would otherwise hash each part once more, since it recognises only
  a checksum it computed itself (a third of the CPU a transfer costs). Over plain http
  botocore signs the payload whatever the setting.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.errors import translate
from adapters.aws.s3_multipart import (
    MultipartUpload,
    UploadTarget,
    access_denied,
    crc32_base64,
    error_code,
    key_taken,
    not_found,
    part_body,
)
from domain.audit import HEAD_WORKERS
from domain.errors import KeyTakenError, StorageAccessDeniedError, StorageError
from domain.model import Checksum, StoredObject, UploadCheckpoint
from domain.units import MIB, PART_SIZE, SINGLE_PUT_LIMIT
from domain.verification import CRC32

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_PARTS = 10_000
MAX_OBJECT = 5 * (1 << 40)
OWNER_METADATA = "media-id"
CLIENT_CONFIG = Config(
    s3={"payload_signing_enabled": False},
    # A connection for each of the nightly check's describing threads and the part thread:
    # botocore keeps 10, and past them discards a connection after every request (a new TLS
    # handshake each, and a "Connection pool is full" warning line per request).
    max_pool_connections=HEAD_WORKERS + 2,
)

LIST_PAGE_KEYS = 1000
"""What one ListObjectsV2 page holds (S3's MaxKeys default and limit)."""


def s3_client(session: boto3.session.Session) -> S3Client:
    """The S3 client the store and the run list use (see the module docstring)."""
    return session.client("s3", config=CLIENT_CONFIG)


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    kms_key_id: str
    single_put_limit: int = SINGLE_PUT_LIMIT
    part_size: int = PART_SIZE
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=lambda: {"Source": "GoPro", "AutoSync": "True"})


def part_size_for(size: int, settings: S3Settings) -> int:
    """The configured part size, or larger when the object needs more than 10,000 parts."""
    if size > MAX_OBJECT:
        raise StorageError(f"{size} bytes is more than S3's 5 TiB object limit")
    needed = -(-size // MAX_PARTS)
    return max(settings.part_size, -(-needed // MIB) * MIB)


@dataclass(frozen=True)
class Listed:
    """An object as the bucket's listing gives it."""

    size_bytes: int
    storage_class: str
    """S3 names every class in a listing, STANDARD included."""


class S3ArchiveReader:
    """What the archive holds, read only: a HeadObject (with the checksum S3 keeps) or a
    listing; no write, so no key is needed."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def describe(self, key: str) -> StoredObject | None:
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as error:
            if not_found(error):
                return None
            if access_denied(error):
                # S3 answers 403, not 404, for a missing key unless the caller may list.
                raise StorageAccessDeniedError(
                    f"S3 HeadObject {key!r} was refused (403): the role needs s3:GetObject on "
                    f"the key and s3:ListBucket on the bucket {self._bucket!r} "
                    "(without s3:ListBucket S3 answers 403 for a key that does not exist)"
                ) from None
            raise StorageError(f"S3 HeadObject {key!r} failed: {error_code(error)}") from None
        except BotoCoreError as error:
            raise translate(error, "S3 HeadObject", f"s3://{self._bucket}/{key}") from None
        value = head.get("ChecksumCRC32")
        return StoredObject(
            key=key,
            size_bytes=head["ContentLength"],
            checksum=Checksum(CRC32, value) if value else None,
            owner_media_id=head.get("Metadata", {}).get(OWNER_METADATA),
        )

    def sizes(self, prefix: str) -> dict[str, int]:
        """Key -> size under `prefix`: one ListObjectsV2 page per LIST_PAGE_KEYS objects."""
        return {key: listed.size_bytes for key, listed in self.listing(prefix).items()}

    def listing(self, prefix: str) -> dict[str, Listed]:
        """Key -> size and storage class under `prefix`, from the same pages as `sizes`."""
        found: dict[str, Listed] = {}
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            )
            for page in pages:
                for entry in page.get("Contents", []):
                    found[entry["Key"]] = Listed(
                        entry["Size"], entry.get("StorageClass") or "STANDARD"
                    )
        except ClientError as error:
            if access_denied(error):
                raise StorageAccessDeniedError(
                    f"S3 ListObjectsV2 {prefix!r} was refused: the role needs s3:ListBucket "
                    f"on the bucket {self._bucket!r}"
                ) from None
            raise translate(error, "S3 ListObjectsV2", f"s3://{self._bucket}/{prefix}") from None
        except BotoCoreError as error:
            raise translate(error, "S3 ListObjectsV2", f"s3://{self._bucket}/{prefix}") from None
        return found


class S3ObjectStore:
    """The object-store port over one S3 bucket."""

    def __init__(self, client: S3Client, settings: S3Settings) -> None:
        self._s3 = client
        self._settings = settings
        self._reader = S3ArchiveReader(client, settings.bucket)

    def _creation_arguments(self, media_id: str) -> dict[str, Any]:
        return {
            "Bucket": self._settings.bucket,
            "StorageClass": self._settings.storage_class,
            "Tagging": urlencode(self._settings.tags),
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": self._settings.kms_key_id,
            "BucketKeyEnabled": True,
            "Metadata": {OWNER_METADATA: media_id},
            "ContentType": "video/mp4",
        }

    def describe(self, key: str) -> StoredObject | None:
        return self._reader.describe(key)

    def sizes(self, prefix: str) -> dict[str, int]:
        return self._reader.sizes(prefix)

    def _stored(self, key: str) -> StoredObject:
        stored = self.describe(key)
        if stored is None:
            raise StorageError(f"S3 reported {key!r} created, but it cannot be found")
        return stored

    def _taken(self, key: str) -> KeyTakenError:
        existing = self.describe(key)
        return KeyTakenError(key, existing.owner_media_id if existing else None)

    def create(
        self,
        key: str,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        if size_bytes <= self._settings.single_put_limit:
            return self._put(key, media_id, chunks, size_bytes)
        return MultipartUpload(self._target(key, media_id, size_bytes), None).run(chunks, pause)

    def resume(
        self,
        checkpoint: UploadCheckpoint,
        media_id: str,
        chunks: Iterable[bytes],
        size_bytes: int,
        *,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        # S3 forgets an upload once it is complete: ListParts would answer NoSuchUpload.
        # An object at the key says which, and whose it is.
        if self.describe(checkpoint.key) is not None:
            raise self._taken(checkpoint.key)
        target = self._target(checkpoint.key, media_id, size_bytes)
        return MultipartUpload(target, checkpoint).run(chunks, pause)

    def abandon(self, checkpoint: UploadCheckpoint) -> None:
        try:
            self._s3.abort_multipart_upload(
                Bucket=self._settings.bucket, Key=checkpoint.key, UploadId=checkpoint.upload_id
            )
        except ClientError as error:
            if error_code(error) == "NoSuchUpload":
                return
            raise StorageError(
                f"S3 AbortMultipartUpload {checkpoint.key!r} failed: {error_code(error)}"
            ) from None
        except BotoCoreError as error:
            raise translate(error, "S3 AbortMultipartUpload", checkpoint.key) from None

    def _target(self, key: str, media_id: str, size_bytes: int) -> UploadTarget:
        return UploadTarget(
            client=self._s3,
            bucket=self._settings.bucket,
            key=key,
            size=size_bytes,
            part_size=part_size_for(size_bytes, self._settings),
            creation_arguments=self._creation_arguments(media_id),
            taken=lambda: self._taken(key),
            read_back=lambda: self._stored(key),
        )

    def _put(self, key: str, media_id: str, chunks: Iterable[bytes], size: int) -> StoredObject:
        body = bytearray()
        for chunk in chunks:
            body += chunk
        if len(body) != size:
            raise StorageError(f"{key!r}: {len(body)} bytes arrived, {size} announced")
        try:
            self._s3.put_object(
                Key=key,
                Body=part_body(body),
                ChecksumAlgorithm="CRC32",
                ChecksumCRC32=crc32_base64(zlib.crc32(body)),
                IfNoneMatch="*",
                **self._creation_arguments(media_id),
            )
        except ClientError as error:
            if key_taken(error):
                raise self._taken(key) from None
            raise StorageError(f"S3 PutObject {key!r} failed: {error_code(error)}") from None
        except BotoCoreError as error:
            raise translate(error, "S3 PutObject", key) from None
        return self._stored(key)
