"""The emulator's media library: generated from a seed, awkward cases included."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class EmulatedMedia:
    """One item of the library. Its bytes come from sandbox.gopro.content, by content id."""

    id: str
    filename: str
    """May be "": the contract's edits and multi-clip items have none."""
    file_extension: str
    type: str
    captured_at: datetime
    created_at: datetime
    size: int
    """The true length of the original (for chaptered media: of the server-side concat)."""
    ready_to_view: str = "ready"
    chapters: list[int] = field(default_factory=list)
    """Sizes of the `source` chapters of chaptered media; empty for a single source."""
    unnumbered_chapters: tuple[int, ...] = ()
    """Chapters whose `source` variation lacks `item_number`: their number is then only in
    the URL's path (`…/source/default/2.mp4`), as GoPro serves some."""
    duration_ms: int = 60_000
    photos: list[int] = field(default_factory=list)
    """Sizes of a photo set's photos (`files[]`); empty for anything else."""
    thumbnail: bool = True
    """The listing gives a thumbnail `token` (an item still processing may not)."""

    @property
    def api_file_size(self) -> int | None:
        """What the listing says: null while the item is still processing, and always for
        edits."""
        if self.ready_to_view != "ready" or self.type in ("MultiClipEdit", "Edit"):
            return None
        return self.size

    def listing_fields(self, file_size: int | None) -> dict[str, object]:
        return {
            "id": self.id,
            "filename": self.filename,
            "file_extension": self.file_extension,
            "type": self.type,
            "captured_at": self.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "file_size": file_size,
            "source_duration": None if self.type == "Photo" else str(self.duration_ms),
            "width": self.width,
            "height": self.width * 9 // 16,
            "resolution": f"{self.width * 9 // 16}p",
            "ready_to_view": self.ready_to_view,
            "camera_model": "HERO12 Black",
            "item_count": max(1, len(self.chapters), len(self.photos)),
            "gopro_user_id": "emulated-user",
        }

    @property
    def width(self) -> int:
        """One of the cameras' widths, fixed per item."""
        return (3840, 2704, 1920, 5312)[sum(self.id.encode()) % 4]


def original_files(media: EmulatedMedia) -> list[tuple[str, int]]:
    """(content id, size) of each original an archive of `media` must hold, in order: the
    one file, or every chapter (never the server-side concat)."""
    if media.photos:
        return [(f"{media.id}-p{n}", size) for n, size in enumerate(media.photos, start=1)]
    if not media.chapters:
        return [(media.id, media.size)]
    return [(f"{media.id}-{n}", size) for n, size in enumerate(media.chapters, start=1)]


def media_id(rng: random.Random) -> str:
    """A 13-character base62 id, the common shape."""
    return "".join(rng.choice(ID_ALPHABET) for _ in range(13))


def hex_media_id(rng: random.Random) -> str:
    """A 24-character lowercase hex id, the shape seen since 2026."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(24))


def plain_library(
    count: int, *, start: datetime, size: int, prefix: str = "v"
) -> list[EmulatedMedia]:
    """`count` ready MP4 videos and nothing awkward, for figures at scale: one captured a
    minute from `start` and uploaded an hour later, ids `{prefix}{n:09d}`, video n of
    `size + n` bytes."""
    return [
        EmulatedMedia(
            f"{prefix}{n:09d}",
            f"GX{n:06d}.MP4",
            "MP4",
            "Video",
            start + timedelta(minutes=n),
            start + timedelta(minutes=n, hours=1),
            size + n,
        )
        for n in range(count)
    ]


def generate_library(
    seed: int, videos: int, size_range: tuple[int, int] = (50_000, 500_000)
) -> list[EmulatedMedia]:
    """`videos` ready videos plus photos, one item still processing, a multi-clip edit
    (no filename, `json`, no size, `baked_source` only), an edit, chaptered media, a
    24-hex id, phone uploads, same-named videos across and within months, and Unicode
    names. The same seed gives the same library."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = datetime(2023, 1, 1, tzinfo=UTC)
    low, high = size_range

    def when(index: int) -> tuple[datetime, datetime]:
        captured = start + timedelta(days=index * 3 % 700, seconds=rng.randrange(86_400))
        return captured, captured + timedelta(hours=rng.randrange(1, 48))

    def item(index: int, filename: str, kind: str = "Video", **extra: object) -> EmulatedMedia:
        captured, created = when(index)
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "MP4"
        media = EmulatedMedia(
            id=media_id(rng),
            filename=filename,
            file_extension=extension,
            type=kind,
            captured_at=captured,
            created_at=created,
            size=rng.randrange(low, high + 1),
            duration_ms=rng.randrange(1_000, 600_000),
        )
        for name, value in extra.items():
            setattr(media, name, value)
        return media

    library: list[EmulatedMedia] = []
    specials = [
        lambda i: item(i, "GX010123.MP4"),  # repeats across months (and cards)
        lambda i: item(i, "PXL_20240612_101500123.mp4"),  # a phone upload
        lambda i: item(i, "Skitour Zürich 🎿 Gipfel.mp4"),
        lambda i: item(i, "", "MultiClipEdit", file_extension="json"),  # baked_source only
        lambda i: item(i, "GH010777.MP4", "Chaptered"),
        lambda i: item(i, "GX010456.MP4", id=hex_media_id(rng)),
        lambda i: item(i, "", "Edit"),
    ]
    for index in range(videos - 1 if videos >= 2 else videos):
        if index % 10 < len(specials):
            library.append(specials[index % 10](index))
        else:
            library.append(item(index, f"GX01{index % 10_000:04d}.MP4"))
    if videos >= 2:  # a second GX010123.MP4 shot in the same month as the first
        twin = item(0, "GX010123.MP4")
        twin.captured_at = library[0].captured_at + timedelta(hours=5)
        library.append(twin)
    for media in library:
        if media.type == "Chaptered":
            parts, rest = divmod(media.size, 3)
            media.chapters = [parts + (1 if n < rest else 0) for n in range(3)]
            media.unnumbered_chapters = (2,)
    library.append(item(videos, "GX019999.MP4", ready_to_view="transcoding"))
    for index in range(max(1, videos // 5)):
        library.append(
            item(index, f"GOPR{index:04d}.JPG", "Photo", size=rng.randrange(1_000, 5_000))
        )
    timelapse = item(1, "G0010001.JPG", "TimeLapse", size=rng.randrange(1_000, 5_000))
    timelapse.photos = [timelapse.size + n for n in range(3)]
    library.append(timelapse)
    return library
