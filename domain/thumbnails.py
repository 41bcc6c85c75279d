"""Thumbnails: a small picture of each archived item, kept hot beside the archive so that
the archive can be looked at without a restore.

Keeping one is best effort and never touches the video: the video is archived (COMPLETED)
before its thumbnail is tried, a failure is logged and tried again on a later night, and a
record takes its thumbnail key in a conditional write of its own (a record that changed in
the meantime keeps its change, and the thumbnail waits for the next night). What the
provider answers must look like a JPEG and stay small: an error page is not kept as one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.errors import DomainError, TransientSourceError
from domain.keys import thumbnail_key
from domain.model import MediaItem, SyncRecord
from domain.ports import Clock, PreviewSource, PreviewStore, SyncTracker
from domain.status import SyncStatus

log = logging.getLogger("cloudsync.thumbnails")

THUMBNAIL_LIMIT = 2 * 1024 * 1024
"""Bytes: a ~450-pixel JPEG is tens of KB; anything far larger is not a thumbnail."""
JPEG_START = b"\xff\xd8\xff"


def wants_thumbnail(record: SyncRecord | None, item: MediaItem) -> bool:
    """An archived item without a kept thumbnail, whose listing offers one."""
    return (
        record is not None
        and record.status is SyncStatus.COMPLETED
        and record.thumbnail_key is None
        and item.preview is not None
    )


def check_thumbnail(media_id: str, data: bytes) -> None:
    """Refuse what is not a small JPEG (an HTML error page answered with 200, say)."""
    if len(data) > THUMBNAIL_LIMIT:
        raise TransientSourceError(
            f"the thumbnail of {media_id} is {len(data)} bytes, over {THUMBNAIL_LIMIT}"
        )
    if not data.startswith(JPEG_START):
        raise TransientSourceError(f"the thumbnail of {media_id} is not a JPEG")


@dataclass
class ThumbnailTally:
    """What one invocation did about thumbnails, within its budget."""

    budget: int
    """How many more it may try (each is a download and a write)."""
    kept: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"kept": self.kept, "failed": self.failed}


@dataclass
class ThumbnailKeeper:
    """Keeps archived items' thumbnails, at most `tally.budget` tries per invocation."""

    source: PreviewSource
    store: PreviewStore
    tracker: SyncTracker
    clock: Clock
    tally: ThumbnailTally

    def keep(self, record: SyncRecord, item: MediaItem) -> SyncRecord:
        """Fetch and keep the thumbnail of the archived `record`, using `item` (its latest
        listing, whose preview reference is current). Returns the record as it now
        stands; never raises for a failure: the record is then returned unchanged."""
        if not wants_thumbnail(record, item) or self.tally.budget <= 0:
            return record
        self.tally.budget -= 1
        try:
            data = self.source.preview(item)
            check_thumbnail(record.media_id, data)
            key = thumbnail_key(record.provider, record.media_id)
            self.store.put(key, data)
            kept = record.with_thumbnail(key, self.clock.now())
            self.tracker.replace(record, kept)
        except DomainError as error:
            self.tally.failed += 1
            log.warning(
                "%s: the thumbnail of %s was not kept (a later night tries again): %s",
                record.provider,
                record.media_id,
                error,
                extra={
                    "event_type": "thumbnail.failed",
                    "metadata": {"media_id": record.media_id, "reason": str(error)[:300]},
                },
            )
            return record
        self.tally.kept += 1
        return kept
