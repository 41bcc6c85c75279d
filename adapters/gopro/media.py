"""Build a `MediaItem` from the fields a provider's listing gives for one item.

The GoPro contract (shared/spec/gopro-cloud-api.md) decides the shapes: `source_duration`
is a string of milliseconds, `filename` may be empty or missing, `file_size` is null while
an item is processing, enums are open-ended and extra fields are ignored. A field that is
required (`id`, `created_at`) or present with a value of the wrong shape raises
`MalformedMediaError` naming the field; a missing optional field becomes None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from domain.errors import InvalidSettingError, MalformedMediaError
from domain.model import MEDIA_ID_PATTERN, MediaItem
from domain.rules import DEFAULT_MEDIA_TYPES

KIND_TYPES: dict[str, frozenset[str]] = {
    "videos": DEFAULT_MEDIA_TYPES,
    "photos": frozenset({"Photo"}),
    "time-lapse": frozenset({"TimeLapse"}),
    "bursts": frozenset({"Burst"}),
}
"""GoPro's `type` values of each kind of media a stack may choose (domain.selection)."""
PHOTO_SET_TYPES = frozenset({"timelapse", "burst", "continuous"})
"""Types whose item of several files is a photo set: each photo is in `files[]`, and the
one `source` is only a cover (contract, revision 2)."""


def media_types_of(kinds: Iterable[str]) -> frozenset[str]:
    """GoPro's types of the chosen kinds."""
    return frozenset().union(*(KIND_TYPES[kind] for kind in kinds))


def is_photo_set(item: MediaItem) -> bool:
    return (item.media_type or "").casefold() in PHOTO_SET_TYPES and (item.item_count or 1) > 1


def media_item_from_fields(provider: str, fields: Mapping[str, object]) -> MediaItem:
    """Map one item of a listing to the domain, or raise naming the field that is wrong."""
    media_id = _media_id(fields)
    reader = _FieldReader(fields, media_id)
    extension = reader.optional_text("file_extension")
    if extension is not None and extension.casefold() in RENDERED_AS:
        # An edit's listing names its project file; what is archived is its render.
        extension = RENDERED_AS[extension.casefold()]
    filename = reader.optional_text("filename")
    if not filename or not filename.strip():
        filename = f"{media_id}.{extension}" if extension else media_id
    try:
        return MediaItem(
            provider=provider,
            media_id=media_id,
            filename=filename,
            size_bytes=reader.optional_size("file_size"),
            uploaded_at=reader.required_time("created_at"),
            captured_at=reader.optional_time("captured_at"),
            duration_seconds=reader.optional_milliseconds("source_duration"),
            media_type=reader.optional_text("type"),
            readiness=reader.optional_text("ready_to_view"),
            camera_model=reader.optional_text("camera_model"),
            width=reader.optional_pixels("width"),
            height=reader.optional_pixels("height"),
            item_count=reader.optional_pixels("item_count"),
            preview=reader.optional_token("token"),
        )
    except InvalidSettingError as error:
        raise MalformedMediaError(error.setting, str(error), media_id) from error


TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~=-]{1,2048}")
"""A thumbnail token goes into a URL path as it is: nothing that could leave the path."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
TEXT_LIMIT = 1_024
"""Characters kept of a listed text (a filename of hundreds of KB would not fit a record;
keys cut names to 255 bytes anyway)."""
SIZE_LIMIT = 1 << 53
"""Bytes: far above any video (S3 stops at 5 TiB), far below what a tracker number holds."""
DURATION_LIMIT_MS = 10 * 366 * 86_400_000
"""No recording lasts ten years; a larger value is not a duration a record should keep."""
RENDERED_AS = {"json": "mp4"}
"""A `MultiClipEdit` lists `file_extension` "json" (its project) and downloads as a rendered
video (`baked_source`): a name without one is given the render's extension."""


def _media_id(fields: Mapping[str, object]) -> str:
    value = fields.get("id")
    if value is None:
        raise MalformedMediaError("id", "is missing")
    if not isinstance(value, str) or not MEDIA_ID_PATTERN.fullmatch(value):
        raise MalformedMediaError("id", f"is not 1-128 characters of [A-Za-z0-9_-]: {value!r:.80}")
    return value


class _FieldReader:
    """Reads typed values out of one item's fields, naming the field on every error."""

    def __init__(self, fields: Mapping[str, object], media_id: str) -> None:
        self._fields = fields
        self._media_id = media_id

    def _bad(self, name: str, reason: str) -> MalformedMediaError:
        return MalformedMediaError(name, reason, self._media_id)

    def optional_text(self, name: str) -> str | None:
        """Text as it can be stored: a lone UTF-16 surrogate (which no UTF-8 store takes)
        becomes U+FFFD, and the text is cut to TEXT_LIMIT characters."""
        value = self._fields.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._bad(name, f"should be text, got {type(value).__name__}")
        storable = _LONE_SURROGATE.sub("\ufffd", value)
        if len(storable) > TEXT_LIMIT:
            _, dot, extension = storable.rpartition(".")
            keep = f".{extension}" if dot and len(extension) <= 10 else ""
            storable = storable[: TEXT_LIMIT - len(keep)] + keep
        return storable

    def optional_size(self, name: str) -> int | None:
        value = self._fields.get(name)
        if value is None:
            return None
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(name, f"should be a whole number of bytes, got {value!r:.40}")
        if value < 0:
            raise self._bad(name, f"should not be negative, got {value}")
        if value > SIZE_LIMIT:
            raise self._bad(name, f"is larger than any video could be: {value!r:.40}")
        return value

    def optional_pixels(self, name: str) -> int | None:
        """A small whole number (pixels, a count); an odd one is dropped, never fatal: these
        describe the item for the catalog and decide nothing about its transfer."""
        value = self._fields.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 1 << 20:
            return None
        return value

    def optional_token(self, name: str) -> str | None:
        """An opaque token that travels in a URL path: URL-safe characters only, or None
        (an item without one simply has no thumbnail)."""
        value = self._fields.get(name)
        if not isinstance(value, str) or not TOKEN_PATTERN.fullmatch(value):
            return None
        return value

    def optional_milliseconds(self, name: str) -> float | None:
        value = self._fields.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._bad(name, f"should be milliseconds, got {type(value).__name__}")
        try:
            number = float(value)
        except (ValueError, OverflowError):
            raise self._bad(name, f"should be milliseconds, got {value!r:.40}") from None
        if not 0 <= number <= DURATION_LIMIT_MS:
            raise self._bad(
                name,
                f"should be a finite, non-negative duration of at most 10 years, got {value!r:.40}",
            )
        return number / 1000.0

    def optional_time(self, name: str) -> datetime | None:
        value = self._fields.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self._bad(name, f"should be an ISO 8601 timestamp, got {type(value).__name__}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self._bad(name, f"is not an ISO 8601 timestamp: {value!r:.40}") from None
        # The contract's timestamps end in Z; one without an offset is read as UTC.
        return parsed.replace(tzinfo=UTC) if parsed.utcoffset() is None else parsed

    def required_time(self, name: str) -> datetime:
        parsed = self.optional_time(name)
        if parsed is None:
            raise self._bad(name, "is missing")
        return parsed
