"""A multipart upload into S3, new or resumed from a checkpoint.

Part N uploads on a worker thread while part N+1 is read from the source into the other of
two part buffers, allocated once and reused: memory holds two parts, and no byte is copied
between the network read and the request body. Each part's CRC32 is computed once, on the
part thread, and goes with its UploadPart; the whole-object CRC32 (FULL_OBJECT) that goes
with CompleteMultipartUpload, which is conditional (`If-None-Match: *`), is combined from
the parts' without reading a byte again. Any failure aborts the upload; only a requested
pause leaves it open and returns a checkpoint.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import io
import logging
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from domain.errors import KeyTakenError, StorageError
from domain.model import StoredObject, UploadCheckpoint
from domain.verification import crc32_combine

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger("cloudsync.s3")


def crc32_base64(value: int) -> str:
    return base64.b64encode(value.to_bytes(4, "big")).decode("ascii")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def not_found(error: ClientError) -> bool:
    """True when S3 says there is no object at the key (HeadObject answers a bare 404)."""
    return error_code(error) in ("404", "NoSuchKey", "NotFound")


def access_denied(error: ClientError) -> bool:
    return error_code(error) in ("403", "AccessDenied", "Forbidden")


def key_taken(error: ClientError) -> bool:
    """True when a conditional create (`If-None-Match: *`) met an existing object."""
    return error_code(error) in ("PreconditionFailed", "412", "ConditionalRequestConflict")


class PartBody:
    """A part's bytes as a seekable file over its buffer, not a copy of it: the HTTP client
    reads it in blocks as it sends (botocore asks for 128 KiB at a time) and gets views of
    the buffer, and botocore seeks back to its start to retry. Only `read()` of the whole
    copies. The buffer is not written again before the part has settled."""

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._view = memoryview(data)
        self._at = 0

    def __len__(self) -> int:
        return len(self._view)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: len(self._view)}[whence]
        self._at = min(max(0, base + offset), len(self._view))
        return self._at

    def read(self, size: int | None = -1) -> bytes | memoryview:
        if size is None or size < 0:
            whole = bytes(self._view[self._at :])
            self._at = len(self._view)
            return whole
        end = min(len(self._view), self._at + size)
        block = self._view[self._at : end]
        self._at = end
        return block


def part_body(data: bytes | bytearray | memoryview) -> IO[bytes]:
    """`data` as the request body botocore takes: a file over it (PartBody)."""
    return cast("IO[bytes]", PartBody(data))


@dataclass(frozen=True)
class SentPart:
    """A part S3 took: what CompleteMultipartUpload lists, and its CRC32 and length."""

    part: CompletedPartTypeDef
    crc: int
    size: int


@dataclass(frozen=True)
class UploadTarget:
    """Where an upload goes and what the store supplies around it."""

    client: S3Client
    bucket: str
    key: str
    size: int
    part_size: int
    creation_arguments: dict[str, Any]
    """Storage class, tags, encryption and owner metadata, as for PutObject."""
    taken: Callable[[], KeyTakenError]
    """The error for "an object is already at the key", naming its owner."""
    read_back: Callable[[], StoredObject]
    """What S3 holds at the key once the upload is complete."""


class MultipartUpload:
    """One multipart upload, new or resumed, run part by part."""

    def __init__(self, target: UploadTarget, resume: UploadCheckpoint | None) -> None:
        self.target, self.key, self.size = target, target.key, target.size
        self.part_size = target.part_size
        self.bucket = target.bucket
        self.s3 = target.client
        self.resume = resume
        self.upload_id = resume.upload_id if resume else ""
        self.parts: list[CompletedPartTypeDef] = []
        self.offset = resume.offset if resume else 0
        self.crc = resume.crc32 if resume else 0
        """The running CRC32 of the parts settled so far."""

    def _start(self) -> None:
        if self.resume is not None:
            self.parts = self._listed_parts(self.resume)
            return
        answer = self.s3.create_multipart_upload(
            Key=self.key,
            ChecksumAlgorithm="CRC32",
            ChecksumType="FULL_OBJECT",
            **self.target.creation_arguments,
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

    def _send(self, number: int, body: bytearray | memoryview) -> SentPart:
        crc = zlib.crc32(body)  # zlib lets go of the GIL: the reader goes on meanwhile
        checksum = crc32_base64(crc)
        answer = self.s3.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=part_body(body),
            ChecksumCRC32=checksum,
        )
        return SentPart(
            {"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": checksum},
            crc,
            len(body),
        )

    def run(
        self, chunks: Iterable[bytes], pause: Callable[[], bool] | None
    ) -> StoredObject | UploadCheckpoint:
        try:
            self._start()
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-part") as pool:
                paused = self._upload(chunks, pause, pool)
            if paused:
                return UploadCheckpoint(
                    self.key, self.upload_id, len(self.parts), self.offset, self.crc
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
                    f"S3 multipart upload of {self.key!r} failed: {error_code(error)}"
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
        in_flight: Future[SentPart] | None = None
        size = self.part_size
        # A buffer is filled while the other one's part is sent; it is filled again only
        # once that part has settled.
        buffers = (bytearray(size), bytearray(size))
        current, filled = 0, 0
        view = memoryview(buffers[current])

        def settle() -> None:
            nonlocal in_flight
            if in_flight is not None:
                sent = in_flight.result()
                self.parts.append(sent.part)
                self.crc = crc32_combine(self.crc, sent.crc, sent.size)
                in_flight = None

        def submit(body: bytearray | memoryview) -> None:
            nonlocal in_flight
            settle()  # at most one part in flight while the next one is read
            self.offset += len(body)
            # The part thread runs in the caller's context (its correlation id, for one).
            context = contextvars.copy_context()
            in_flight = pool.submit(context.run, self._send, len(self.parts) + 1, body)

        try:
            for chunk in chunks:
                data, position = memoryview(chunk), 0
                while position < len(data):
                    taken = min(size - filled, len(data) - position)
                    view[filled : filled + taken] = data[position : position + taken]
                    filled += taken
                    position += taken
                    if filled < size:
                        continue
                    submit(buffers[current])
                    current, filled = 1 - current, 0
                    view = memoryview(buffers[current])
                    if self.offset < self.size and pause is not None and pause():
                        settle()
                        return True
            if filled:
                submit(view[:filled])  # the last part: the head of its buffer, not a copy
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
                ChecksumCRC32=crc32_base64(self.crc),
                ChecksumType="FULL_OBJECT",
                IfNoneMatch="*",
            )
        except ClientError as error:
            if key_taken(error):
                raise self.target.taken() from None
            raise
        return self.target.read_back()

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
