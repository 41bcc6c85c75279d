"""A SyncRecord as a flat DynamoDB item and back. Times are ISO 8601 UTC strings; numbers
are Decimals, as DynamoDB's type serializer wants them; absent values are left out."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.errors import DomainError, UnreadableRecordError
from domain.model import (
    Checksum,
    Lease,
    MediaItem,
    SourceVersion,
    StoredChapter,
    SyncRecord,
    UploadCheckpoint,
)
from domain.origin import OriginProgress
from domain.status import SyncStatus


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def record_to_item(record: SyncRecord) -> dict[str, Any]:
    item = record.item
    values: dict[str, Any] = {
        "media_id": record.media_id,
        "provider": record.provider,
        "status": record.status.value,
        "version": record.version,
        "retry_count": record.retry_count,
        "updated_at": _time(record.updated_at),
        "filename": item.filename,
        "size_bytes": item.size_bytes,
        "uploaded_at": _time(item.uploaded_at),
        "captured_at": _time(item.captured_at),
        "duration_seconds": (
            None if item.duration_seconds is None else Decimal(str(item.duration_seconds))
        ),
        "media_type": item.media_type,
        "readiness": item.readiness,
        "camera_model": item.camera_model,
        "width": item.width,
        "height": item.height,
        "item_count": item.item_count,
        "preview": item.preview,
        "object_key": record.object_key,
        "stored_size": record.stored_size,
        "transferred_at": _time(record.transferred_at),
        "error": record.error,
        "reserved_key": record.reserved_key,
        "reserved_source": _source_values(record.reserved_source) or None,
        "origin": record.origin,
        "thumbnail_key": record.thumbnail_key,
    }
    if record.count_pending:
        values["count_pending"] = True
        values["count_claimed_until"] = _time(record.count_claimed_until)
    if record.lease is not None:
        values["lease_holder"] = record.lease.holder
        values["lease_expires_at"] = _time(record.lease.expires_at)
    if record.checksum is not None:
        values["checksum_algorithm"] = record.checksum.algorithm
        values["checksum"] = record.checksum.value
    if record.checkpoint is not None:
        checkpoint = record.checkpoint
        values["checkpoint"] = {
            "key": checkpoint.key,
            "upload_id": checkpoint.upload_id,
            "parts": checkpoint.parts,
            "offset": checkpoint.offset,
            "crc32": checkpoint.crc32,
            **_source_values(checkpoint.source),
            **_origin_values(checkpoint.origin),
        }
    if record.chapters:
        values["chapters"] = [
            {
                "number": chapter.number,
                "key": chapter.key,
                "size_bytes": chapter.size_bytes,
                **({"origin": chapter.origin} if chapter.origin else {}),
                **(
                    {"checksum_algorithm": chapter.checksum.algorithm,
                     "checksum": chapter.checksum.value}
                    if chapter.checksum else {}
                ),
            }
            for chapter in record.chapters
        ]  # fmt: skip
    return {name: value for name, value in values.items() if value is not None}


def _source_values(source: SourceVersion | None) -> dict[str, Any]:
    if source is None:
        return {}
    values = {
        "source_etag": source.etag,
        "source_last_modified": source.last_modified,
        "source_length": source.length,
    }
    return {name: value for name, value in values.items() if value is not None}


def _origin_values(origin: OriginProgress | None) -> dict[str, Any]:
    """The origin check's state; the parts' digests as base64 text (16 bytes a part)."""
    if origin is None:
        return {}
    values: dict[str, Any] = {"origin_etag": origin.etag}
    if origin.unavailable is not None:
        values["origin_unavailable"] = origin.unavailable
    else:
        values["origin_part_sizes"] = list(origin.part_sizes)
        values["origin_untried"] = origin.untried
        values["origin_digests"] = [base64.b64encode(d).decode("ascii") for d in origin.digests]
    return values


class _Reader:
    """Typed reads from one item, naming the attribute on every error."""

    def __init__(self, item: Mapping[str, Any], media_id: str | None = None) -> None:
        self.item = item
        self.media_id = media_id or str(item.get("media_id", "?"))

    def bad(self, name: str, why: str) -> UnreadableRecordError:
        return UnreadableRecordError(self.media_id, f"'{name}' {why}")

    def text(self, name: str) -> str | None:
        value = self.item.get(name)
        if value is not None and not isinstance(value, str):
            raise self.bad(name, "is not text")
        return value

    def number(self, name: str) -> int | None:
        value = self.item.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int) or int(value) != value:
            raise self.bad(name, "is not a whole number")
        return int(value)

    def time(self, name: str) -> datetime | None:
        text = self.text(name)
        try:
            return None if text is None else datetime.fromisoformat(text)
        except ValueError:
            raise self.bad(name, "is not an ISO 8601 time") from None

    def required_text(self, name: str) -> str:
        return _present(self.text(name), self, name)

    def required_number(self, name: str) -> int:
        return _present(self.number(name), self, name)

    def required_time(self, name: str) -> datetime:
        return _present(self.time(name), self, name)


def _present[T](value: T | None, read: _Reader, name: str) -> T:
    if value is None:
        raise read.bad(name, "is missing")
    return value


def record_from_item(item: Mapping[str, Any]) -> SyncRecord:
    """The record an item holds; UnreadableRecordError, naming the media id and the field,
    when it cannot be read as one."""
    try:
        return _record(item)
    except UnreadableRecordError:
        raise
    except (DomainError, KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise UnreadableRecordError(str(item.get("media_id", "?")), str(error)) from None


def _record(item: Mapping[str, Any]) -> SyncRecord:
    read = _Reader(item)
    try:
        status = SyncStatus(read.required_text("status"))
    except ValueError:
        raise read.bad("status", "is not a known status") from None
    duration = item.get("duration_seconds")
    media = MediaItem(
        provider=read.required_text("provider"),
        media_id=read.required_text("media_id"),
        filename=read.required_text("filename"),
        size_bytes=read.number("size_bytes"),
        uploaded_at=read.required_time("uploaded_at"),
        captured_at=read.time("captured_at"),
        duration_seconds=None if duration is None else float(duration),
        media_type=read.text("media_type"),
        readiness=read.text("readiness"),
        camera_model=read.text("camera_model"),
        width=read.number("width"),
        height=read.number("height"),
        item_count=read.number("item_count"),
        preview=read.text("preview"),
    )
    holder, until = read.text("lease_holder"), read.time("lease_expires_at")
    algorithm, checksum = read.text("checksum_algorithm"), read.text("checksum")
    checkpoint = item.get("checkpoint")
    return SyncRecord(
        item=media,
        status=status,
        version=read.required_number("version"),
        updated_at=read.required_time("updated_at"),
        retry_count=read.number("retry_count") or 0,
        lease=Lease(holder, until) if holder and until else None,
        object_key=read.text("object_key"),
        stored_size=read.number("stored_size"),
        checksum=Checksum(algorithm, checksum) if algorithm and checksum else None,
        transferred_at=read.time("transferred_at"),
        error=read.text("error"),
        checkpoint=None if checkpoint is None else _checkpoint(checkpoint, read),
        reserved_key=read.text("reserved_key"),
        reserved_source=_reserved_source(item.get("reserved_source"), read),
        chapters=_chapters(item.get("chapters"), read),
        origin=read.text("origin"),
        count_pending=item.get("count_pending") is True,
        count_claimed_until=read.time("count_claimed_until"),
        thumbnail_key=read.text("thumbnail_key"),
    )


def _chapters(value: Any, read: _Reader) -> tuple[StoredChapter, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise read.bad("chapters", "is not a list")
    chapters = []
    for entry in value:
        if not isinstance(entry, Mapping):
            raise read.bad("chapters", "holds an entry that is not a map")
        inner = _Reader(entry, read.media_id)
        algorithm, checksum = inner.text("checksum_algorithm"), inner.text("checksum")
        chapters.append(
            StoredChapter(
                number=inner.required_number("number"),
                key=inner.required_text("key"),
                size_bytes=inner.required_number("size_bytes"),
                checksum=Checksum(algorithm, checksum) if algorithm and checksum else None,
                origin=inner.text("origin"),
            )
        )
    return tuple(chapters)


def _checkpoint(value: Any, read: _Reader) -> UploadCheckpoint:
    if not isinstance(value, Mapping):
        raise read.bad("checkpoint", "is not a map")
    inner = _Reader(value, read.media_id)
    length = inner.number("source_length")
    source = (
        None
        if length is None
        else SourceVersion(inner.text("source_etag"), inner.text("source_last_modified"), length)
    )
    return UploadCheckpoint(
        key=inner.required_text("key"),
        upload_id=inner.required_text("upload_id"),
        parts=inner.required_number("parts"),
        offset=inner.required_number("offset"),
        crc32=inner.required_number("crc32"),
        source=source,
        origin=_origin(value, inner),
    )


def _reserved_source(value: Any, read: _Reader) -> SourceVersion | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise read.bad("reserved_source", "is not a map")
    inner = _Reader(value, read.media_id)
    return SourceVersion(
        inner.text("source_etag"),
        inner.text("source_last_modified"),
        inner.required_number("source_length"),
    )


def _origin(value: Mapping[str, Any], read: _Reader) -> OriginProgress | None:
    etag = read.text("origin_etag")
    if etag is None:
        return None
    unavailable = read.text("origin_unavailable")
    if unavailable is not None:
        return OriginProgress(etag, unavailable=unavailable)
    sizes, digests = value.get("origin_part_sizes"), value.get("origin_digests")
    if not isinstance(sizes, list) or not isinstance(digests, list) or len(sizes) != len(digests):
        raise read.bad("origin_part_sizes", "does not pair with origin_digests")
    try:
        return OriginProgress(
            etag,
            tuple(int(size) for size in sizes),
            tuple(base64.b64decode(text, validate=True) for text in digests),
            untried=read.number("origin_untried") or 0,
        )
    except (TypeError, ValueError, binascii.Error):
        raise read.bad("origin_digests", "is not base64 text") from None
