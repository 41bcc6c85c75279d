"""The catalog: one row per archived object, so the archive describes itself without the
tracker (`catalog/{provider}.csv` in the bucket, rewritten after each run).

Rows come from COMPLETED records only, whose every object was verified against S3's own
checksum when it was stored. A row whose object the archive's listing does not hold at
the recorded size is kept and marked in its `problem` column (`missing`, or
`size_differs: …`), never dropped: the catalog says what the archive should hold and
where it does not. It is CSV (RFC 4180, UTF-8, a header row), ordered by key, so that
two catalogs of the same archive are the same bytes. `parse` reads one back, refusing a
file that is not a catalog.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.audit import archived_objects
from domain.errors import DomainError
from domain.model import SyncRecord
from domain.ports import CatalogStore

COLUMNS = (
    "media_id", "chapter", "key", "size_bytes", "checksum_algorithm", "checksum",
    "filename", "captured_at", "uploaded_at", "camera_model", "duration_seconds", "media_type",
    "archived_at", "origin", "problem", "resolution", "chapters", "thumbnail_key",
)  # fmt: skip
OPTIONAL_COLUMNS = frozenset(
    {"camera_model", "origin", "problem", "resolution", "chapters", "thumbnail_key"}
)
"""Columns a catalog written before they existed lacks: read as empty."""


class CatalogError(DomainError):
    """A catalog file that cannot be read as one."""


@dataclass(frozen=True)
class CatalogRow:
    media_id: str
    chapter: int | None
    key: str
    size_bytes: int | None
    checksum_algorithm: str | None
    checksum: str | None
    filename: str
    captured_at: datetime | None
    uploaded_at: datetime
    camera_model: str | None
    duration_seconds: float | None
    media_type: str | None
    archived_at: datetime | None
    origin: str | None = None
    """The origin check's outcome: `matched (…)`, `unavailable (why)`, or empty."""
    problem: str | None = None
    """How the archive's listing differs from the row (None: it holds it as recorded)."""
    resolution: str | None = None
    """`{width}x{height}` in pixels, where the provider said."""
    chapters: int | None = None
    """How many objects (chapters, or a photo set's photos) the item is archived in."""
    thumbnail_key: str | None = None
    """Where the item's thumbnail is kept (hot, `thumbnails/`); None: none yet."""


def rows(records: Iterable[SyncRecord]) -> list[CatalogRow]:
    found = []
    for record in records:
        item = record.item
        for obj in archived_objects(record):
            found.append(
                CatalogRow(
                    media_id=record.media_id,
                    chapter=obj.chapter,
                    key=obj.key,
                    size_bytes=obj.size_bytes,
                    checksum_algorithm=obj.checksum.algorithm if obj.checksum else None,
                    checksum=obj.checksum.value if obj.checksum else None,
                    filename=item.filename,
                    captured_at=item.captured_at,
                    uploaded_at=item.uploaded_at,
                    camera_model=item.camera_model,
                    duration_seconds=item.duration_seconds,
                    media_type=item.media_type,
                    archived_at=record.transferred_at,
                    origin=obj.origin,
                    resolution=f"{item.width}x{item.height}"
                    if item.width and item.height
                    else None,
                    chapters=len(record.chapters) or 1,
                    thumbnail_key=record.thumbnail_key,
                )
            )
    return sorted(found, key=lambda row: row.key)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def render(catalog: Iterable[CatalogRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in catalog:
        writer.writerow([_text(getattr(row, name)) for name in COLUMNS])
    return out.getvalue()


def parse(text: str) -> list[CatalogRow]:
    """The rows of a catalog's text; anything that is not one is a CatalogError naming the
    line (a catalog is a file anyone can edit)."""
    reader = csv.reader(io.StringIO(text))
    try:
        return _parse(reader)
    except csv.Error as error:
        raise CatalogError(f"catalog line {reader.line_num}: {error}") from None


def _parse(reader: Any) -> list[CatalogRow]:
    header = next(reader, None)
    if header is None or not _known_header(header):
        raise CatalogError(f"not a catalog: the header is {header!r}, not {list(COLUMNS)}")
    found = []
    for number, values in enumerate(reader, start=2):
        if len(values) != len(header):
            raise CatalogError(f"catalog line {number} has {len(values)} fields")
        cells = dict.fromkeys(OPTIONAL_COLUMNS, "") | dict(zip(header, values, strict=True))
        if not cells["uploaded_at"]:
            raise CatalogError(f"catalog line {number} has no uploaded_at")
        try:
            found.append(
                CatalogRow(
                    media_id=cells["media_id"],
                    chapter=int(cells["chapter"]) if cells["chapter"] else None,
                    key=cells["key"],
                    size_bytes=int(cells["size_bytes"]) if cells["size_bytes"] else None,
                    checksum_algorithm=cells["checksum_algorithm"] or None,
                    checksum=cells["checksum"] or None,
                    filename=cells["filename"],
                    captured_at=_time(cells["captured_at"]),
                    uploaded_at=datetime.fromisoformat(cells["uploaded_at"]),
                    camera_model=cells["camera_model"] or None,
                    duration_seconds=(
                        float(cells["duration_seconds"]) if cells["duration_seconds"] else None
                    ),
                    media_type=cells["media_type"] or None,
                    archived_at=_time(cells["archived_at"]),
                    origin=cells["origin"] or None,
                    problem=cells["problem"] or None,
                    resolution=cells["resolution"] or None,
                    chapters=int(cells["chapters"]) if cells["chapters"] else None,
                    thumbnail_key=cells["thumbnail_key"] or None,
                )
            )
        except ValueError as error:
            raise CatalogError(f"catalog line {number}: {error}") from None
    return found


def _known_header(header: list[str]) -> bool:
    """The columns in their order, of this version or of an earlier one (which lacks some
    of the optional ones)."""
    return header == [c for c in COLUMNS if c in header] and set(COLUMNS) - set(header) <= (
        OPTIONAL_COLUMNS
    )


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def write_catalog(
    provider: str, records: Iterable[SyncRecord], present: Mapping[str, int], store: CatalogStore
) -> int:
    """Rewrite the provider's catalog from its COMPLETED records, marking each object the
    archive's listing (`present`: key -> size) does not hold as recorded; its rows."""
    catalog = [replace(row, problem=listing_problem(row, present)) for row in rows(records)]
    store.write(provider, render(catalog))
    return len(catalog)


def listing_problem(row: CatalogRow, present: Mapping[str, int]) -> str | None:
    """How the archive's listing differs from what the row records, or None."""
    if row.key not in present:
        return "missing"
    if row.size_bytes is not None and present[row.key] != row.size_bytes:
        return f"size_differs: the archive lists {present[row.key]} bytes"
    return None
