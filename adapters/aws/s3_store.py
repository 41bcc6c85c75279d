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
"""

from __future__ import annotations

import base64
import contextlib
import logging
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from botocore.exceptions import BotoCoreError, ClientError

from domain.errors import KeyTakenError, StorageError
from domain.model import Checksum, StoredObject, UploadCheckpoint
from domain.verification import CRC32, Crc32

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger("cloudsync.s3")
MIB = 1 << 20
MAX_PARTS = 10_000
MAX_OBJECT = 5 * (1 << 40)
OWNER_METADATA = "media-id"


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    kms_key_id: str
    single_put_limit: int = 100 * MIB
    part_size: int = 50 * MIB
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=lambda: {"Source": "GoPro", "AutoSync": "True"})


def crc32_base64(value: int) -> str:
    return base64.b64encode(value.to_bytes(4, "big")).decode("ascii")


def part_size_for(size: int, settings: S3Settings) -> int:
    """The configured part size, or larger when the object needs more than 10,000 parts."""
    if size > MAX_OBJECT:
        raise StorageError(f"{size} bytes is more than S3's 5 TiB object limit")
    needed = -(-size // MAX_PARTS)
    return max(settings.part_size, -(-needed // MIB) * MIB)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


class S3ObjectStore:
    """The object-store port over one S3 bucket."""

    def __init__(self, client: S3Client, settings: S3Settings) -> None:
        self._s3 = client
        self._settings = settings

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
        try:
            head = self._s3.head_object(
                Bucket=self._settings.bucket, Key=key, ChecksumMode="ENABLED"
            )
        except ClientError as error:
            if _code(error) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"S3 HeadObject {key!r} failed: {_code(error)}") from None
        except BotoCoreError as error:
            raise StorageError(f"S3 HeadObject {key!r} failed: {error}") from None
        value = head.get("ChecksumCRC32")
        return StoredObject(
            key=key,
            size_bytes=head["ContentLength"],
            checksum=Checksum(CRC32, value) if value else None,
            owner_media_id=head.get("Metadata", {}).get(OWNER_METADATA),
        )

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
        resume: UploadCheckpoint | None = None,
        pause: Callable[[], bool] | None = None,
    ) -> StoredObject | UploadCheckpoint:
        if resume is None and size_bytes <= self._settings.single_put_limit:
            return self._put(key, media_id, chunks, size_bytes)
        upload = _MultipartUpload(self, key, media_id, size_bytes, resume)
        return upload.run(chunks, pause)

    def _put(self, key: str, media_id: str, chunks: Iterable[bytes], size: int) -> StoredObject:
        body = bytearray()
        for chunk in chunks:
            body += chunk
        if len(body) != size:
            raise StorageError(f"{key!r}: {len(body)} bytes arrived, {size} announced")
        try:
            self._s3.put_object(
                Key=key,
                Body=bytes(body),
                ChecksumAlgorithm="CRC32",
                IfNoneMatch="*",
                **self._creation_arguments(media_id),
            )
        except ClientError as error:
            if _code(error) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise self._taken(key) from None
            raise StorageError(f"S3 PutObject {key!r} failed: {_code(error)}") from None
        except BotoCoreError as error:
            raise StorageError(f"S3 PutObject {key!r} failed: {error}") from None
        return self._stored(key)


class _MultipartUpload:
    """One multipart upload, new or resumed, run part by part."""

    def __init__(
        self,
        store: S3ObjectStore,
        key: str,
        media_id: str,
        size: int,
        resume: UploadCheckpoint | None,
    ) -> None:
        self.store, self.key, self.media_id, self.size = store, key, media_id, size
        self.part_size = part_size_for(size, store._settings)
        self.bucket = store._settings.bucket
        self.s3 = store._s3
        self.resume = resume
        self.upload_id = resume.upload_id if resume else ""
        self.parts: list[CompletedPartTypeDef] = []
        self.offset = resume.offset if resume else 0
        self.crc = Crc32(resume.crc32 if resume else 0)

    def _start(self) -> None:
        if self.resume is not None:
            self.parts = self._listed_parts(self.resume)
            return
        answer = self.s3.create_multipart_upload(
            Key=self.key,
            ChecksumAlgorithm="CRC32",
            ChecksumType="FULL_OBJECT",
            **self.store._creation_arguments(self.media_id),
        )
        self.upload_id = answer["UploadId"]
        log.info(
            "multipart upload of %s started",
            self.key,
            extra={
                "event_type": "s3.multipart_started",
                "metadata": {"key": self.key, "size": self.size, "part_size": self.part_size},
            },
        )

    def _listed_parts(self, resume: UploadCheckpoint) -> list[CompletedPartTypeDef]:
        """The checkpoint's parts as S3 lists them; later ones will be sent again."""
        found: dict[int, CompletedPartTypeDef] = {}
        sizes: dict[int, int] = {}
        pages = self.s3.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=self.key, UploadId=resume.upload_id
        )
        for page in pages:
            for part in page.get("Parts", []):
                number = part["PartNumber"]
                if number <= resume.parts:
                    found[number] = {
                        "PartNumber": number,
                        "ETag": part["ETag"],
                        "ChecksumCRC32": part.get("ChecksumCRC32", ""),
                    }
                    sizes[number] = part["Size"]
        if sorted(found) != list(range(1, resume.parts + 1)) or sum(sizes.values()) != (
            resume.offset
        ):
            raise StorageError(
                f"the paused upload of {self.key!r} no longer holds the checkpoint's "
                f"{resume.parts} parts of {resume.offset} bytes"
            )
        return [found[number] for number in sorted(found)]

    def _send(self, number: int, body: bytes) -> CompletedPartTypeDef:
        checksum = crc32_base64(zlib.crc32(body))
        answer = self.s3.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=body,
            ChecksumCRC32=checksum,
        )
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": checksum}

    def run(
        self, chunks: Iterable[bytes], pause: Callable[[], bool] | None
    ) -> StoredObject | UploadCheckpoint:
        try:
            self._start()
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-part") as pool:
                paused = self._upload(chunks, pause, pool)
            if paused:
                return UploadCheckpoint(
                    self.key, self.upload_id, len(self.parts), self.offset, self.crc.value
                )
            if self.offset != self.size:
                raise StorageError(
                    f"{self.key!r}: {self.offset} bytes arrived, {self.size} announced"
                )
            return self._complete()
        except BaseException as error:
            self._abort()
            if isinstance(error, ClientError):
                raise StorageError(
                    f"S3 multipart upload of {self.key!r} failed: {_code(error)}"
                ) from None
            if isinstance(error, BotoCoreError):
                raise StorageError(f"S3 multipart upload of {self.key!r} failed: {error}") from None
            raise

    def _upload(
        self,
        chunks: Iterable[bytes],
        pause: Callable[[], bool] | None,
        pool: ThreadPoolExecutor,
    ) -> bool:
        """Send the stream part by part; True when paused on request."""
        in_flight: Future[CompletedPartTypeDef] | None = None
        buffer = bytearray()

        def settle() -> None:
            nonlocal in_flight
            if in_flight is not None:
                self.parts.append(in_flight.result())
                in_flight = None

        def submit(body: bytes) -> None:
            nonlocal in_flight
            settle()  # at most one part in flight while the next one is read
            self.crc.update(body)
            self.offset += len(body)
            in_flight = pool.submit(self._send, len(self.parts) + 1, body)

        try:
            for chunk in chunks:
                buffer += chunk
                while len(buffer) >= self.part_size:
                    submit(bytes(memoryview(buffer)[: self.part_size]))
                    del buffer[: self.part_size]
                    if self.offset < self.size and pause is not None and pause():
                        settle()
                        return True
            if buffer:
                submit(bytes(buffer))
            settle()
        except BaseException:
            if in_flight is not None:
                in_flight.cancel()
                wait([in_flight])  # the stream's own error is the one worth raising
            raise
        return False

    def _complete(self) -> StoredObject:
        try:
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
                ChecksumCRC32=crc32_base64(self.crc.value),
                ChecksumType="FULL_OBJECT",
                IfNoneMatch="*",
            )
        except ClientError as error:
            if _code(error) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise self.store._taken(self.key) from None
            raise
        return self.store._stored(self.key)

    def _abort(self) -> None:
        if not self.upload_id:
            return
        log.warning(
            "multipart upload of %s aborted",
            self.key,
            extra={"event_type": "s3.multipart_aborted", "metadata": {"key": self.key}},
        )
        # What an abort cannot remove, the bucket's lifecycle rule does.
        with contextlib.suppress(ClientError, BotoCoreError):
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )
