"""Reading one page of `GET /media/search` (HAL) into domain media items.

A page that breaks the contract (not an object, no `_embedded.media` list, a non-empty
`_embedded.errors`, a `_pages` of the wrong shape) raises GoProProtocolError naming what is
wrong. A single item that cannot be read is skipped and counted, never fatal: one odd item
must not stop a library of thousands from being archived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from adapters.gopro.contract import item_changes
from adapters.gopro.errors import GoProProtocolError
from adapters.gopro.media import media_item_from_fields
from domain.drift import Change
from domain.errors import MalformedMediaError
from domain.model import MediaItem

REASONS_KEPT = 20
FIELDS = (
    "id", "filename", "file_extension", "type", "captured_at", "created_at", "file_size",
    "source_duration", "width", "height", "ready_to_view", "camera_model", "item_count",
    "token",
)  # fmt: skip
"""The listing's `fields=`: what media_item_from_fields reads; `token` names the thumbnail."""


@dataclass(frozen=True)
class ListingPage:
    items: tuple[MediaItem, ...]
    raw_count: int
    """Entries in `media`, read or not."""
    total_pages: int | None
    per_page: int | None
    malformed: tuple[str, ...]
    """Why each skipped entry could not be read."""
    changes: tuple[Change, ...] = ()
    """How the page's items differ from the contract (adapters.gopro.contract)."""


@dataclass
class ListingReport:
    """What the last listing saw, for the logs and the run's summary."""

    pages: int = 0
    listed: int = 0
    malformed: int = 0
    short_pages: int = 0
    repeated: int = 0
    """Items listed again on a later page (a library changing during the listing)."""
    stalled_at_page: int | None = None
    """The page that brought no new item, which ended the listing (None: it ended itself)."""
    reasons: list[str] = field(default_factory=list)

    def add(self, page: ListingPage) -> None:
        self.pages += 1
        self.listed += len(page.items)
        self.malformed += len(page.malformed)
        room = REASONS_KEPT - len(self.reasons)
        self.reasons.extend(page.malformed[: max(0, room)])


def _count(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GoProProtocolError(f"{where} is not a whole number: {value!r:.40}")
    return value


def parse_search_page(provider: str, body: object, page: int) -> ListingPage:
    """Read one decoded page. Raises GoProProtocolError only, naming the page and field."""
    where = f"listing page {page}"
    if not isinstance(body, dict):
        raise GoProProtocolError(f"{where}: the answer is not a JSON object")
    embedded = body.get("_embedded")
    if not isinstance(embedded, dict):
        raise GoProProtocolError(f"{where}: '_embedded' is missing or not an object")
    errors = embedded.get("errors")
    if errors:
        shown = json.dumps(errors, default=str)[:300]
        raise GoProProtocolError(f"{where}: GoPro reported errors in '_embedded.errors': {shown}")
    media = embedded.get("media")
    if not isinstance(media, list):
        raise GoProProtocolError(f"{where}: '_embedded.media' is missing or not a list")
    pages = body.get("_pages", {})
    if not isinstance(pages, dict):
        raise GoProProtocolError(f"{where}: '_pages' is not an object")
    total_pages = _count(pages.get("total_pages"), f"{where}: '_pages.total_pages'")
    per_page = _count(pages.get("per_page"), f"{where}: '_pages.per_page'")
    items: list[MediaItem] = []
    malformed: list[str] = []
    changes: dict[str, Change] = {}
    for position, entry in enumerate(media):
        if not isinstance(entry, dict):
            malformed.append(f"{where}, entry {position}: not an object")
            continue
        for change in item_changes(entry):
            changes.setdefault(change.identity, change)
        try:
            items.append(media_item_from_fields(provider, entry))
        except MalformedMediaError as error:
            malformed.append(f"{where}, entry {position}: {error}")
    return ListingPage(
        tuple(items), len(media), total_pages, per_page, tuple(malformed), tuple(changes.values())
    )
