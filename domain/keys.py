"""Object keys: where a video lands in the archive, and how same-named videos stay apart.

Layout (R11.1): `{provider}-videos/{yyyy}/{mm}/{filename}`.

- **Which month.** The year and month are those of the capture time in UTC (when the
  footage was shot, the date a person looks for), or of the upload time when the provider
  gives no capture time. The key is chosen once, at transfer, and kept in the sync record.
- **Filenames come from outside.** They are NFC-normalised and keep their Unicode; control
  and format characters (and line/paragraph separators) are dropped; `/` and `\\` become
  `_`; a run of dots becomes one dot; leading and trailing dots and spaces go. A name left
  empty becomes the media id. The name is cut to 255 UTF-8 bytes (what most file systems
  accept on restore), keeping its extension, so a key stays far below S3's 1,024 bytes.
- **Collisions.** `~` is reserved: it is turned into `_` in every filename, and only the
  disambiguated form uses it: `{stem}~{media_id}{.ext}`. A video first tries its plain key;
  when an object of another video already sits there, it takes its disambiguated key.
  Media ids are unique and never contain `~`, so a disambiguated key can equal neither a
  plain key nor another video's disambiguated key: two candidates always suffice.
- **Chapters.** Each chapter of a chaptered recording is its own object, named as the
  camera named it (`chapter_filename`), and placed and disambiguated like a video. What
  tells a chapter apart (`_ch02`) is added after the cut to 255 bytes, so N chapters of
  a name of any length get N keys.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from domain.model import MediaItem

KEY_LIMIT_BYTES = 1024
FILENAME_LIMIT_BYTES = 255
DISAMBIGUATION_MARK = "~"

_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_EXTENSION = re.compile(r"\.[0-9A-Za-z]{1,10}\Z")
_DOT_RUNS = re.compile(r"\.{2,}")


def archive_time(item: MediaItem) -> datetime:
    """The instant whose UTC year and month place the video in the archive."""
    return placement_time(item.captured_at, item.uploaded_at)


def placement_time(captured_at: datetime | None, uploaded_at: datetime) -> datetime:
    """The capture time in UTC, or the upload time when there is none. At the edges of the
    calendar (year 1 or 9999 with an offset) UTC cannot express it: its own wall-clock
    date is used."""
    when = captured_at or uploaded_at
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return when.replace(tzinfo=UTC)


def _cut_utf8(text: str, limit: int) -> str:
    """The longest prefix of `text` that fits in `limit` UTF-8 bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _tidy(text: str) -> str:
    return _DOT_RUNS.sub(".", text).strip(" .")


def safe_filename(raw: str, fallback: str) -> str:
    """A filename that is safe as the last segment of a key (see the module's rules)."""
    name = unicodedata.normalize("NFC", raw)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    for separator in ("/", "\\", DISAMBIGUATION_MARK):
        name = name.replace(separator, "_")
    name = _tidy(name)
    if not name:
        name = fallback
    return _fit(name, "", FILENAME_LIMIT_BYTES)


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], match.group()


def _fit(name: str, suffix: str, limit: int) -> str:
    """`stem + suffix + extension`, the stem cut so that the whole fits in `limit` bytes."""
    stem, extension = _split_extension(name)
    room = limit - len(suffix.encode("utf-8")) - len(extension.encode("utf-8"))
    cut = _tidy(_cut_utf8(stem, room))
    return f"{cut}{suffix}{extension}"


def archive_prefix(provider: str) -> str:
    """`{provider}-videos/`: everything the provider's archive holds is under it."""
    return f"{provider}-videos/"


# The bucket's layout, in one place: the Pulumi program's lifecycle and policies, the
# adapters and the command line all read it here.
ARCHIVE_PREFIX = archive_prefix("gopro")
"""GoPro's videos, in the archive tiers."""
RUNS_PREFIX = "runs/"
"""The runs' working files (not archive): the lister's run lists and the Map's results."""
RESULTS_PREFIX = f"{RUNS_PREFIX}results/"
CATALOG_PREFIX = "catalog/"
"""The archive's catalog, `catalog/{provider}.csv` (STANDARD, outside the archive tiers),
and the judgement of each provider's ETags, `catalog/{provider}-etag.json`."""


CHANGES_PREFIX = f"{CATALOG_PREFIX}changes/"
"""The provider's changes already reported (domain.drift), one object each."""
THUMBNAILS_PREFIX = "thumbnails/"
"""Each archived item's thumbnail, `thumbnails/{provider}/{media_id}.jpg`: STANDARD, hot,
outside the archive tiers, so the archive can be seen without a restore."""


def thumbnail_key(provider: str, media_id: str) -> str:
    return f"{THUMBNAILS_PREFIX}{provider}/{media_id}.jpg"


def month_prefix(provider: str, when: datetime) -> str:
    """`{provider}-videos/{yyyy}/{mm}/` for an instant, in UTC."""
    utc = when.astimezone(UTC)
    return f"{provider}-videos/{utc.year:04d}/{utc.month:02d}/"


def candidate_keys(item: MediaItem, chapter: int | None = None) -> tuple[str, str]:
    """The plain key first, then the disambiguated one used when the plain one is taken;
    of the video, or of chapter `chapter` (1-based) of a chaptered recording.

    A chapter's distinguishing part (`_ch02`, `~{media_id}`) is added after the name is cut
    to fit, never before: a cut can shorten the name, never remove what tells chapters and
    videos apart."""
    prefix = month_prefix(item.provider, archive_time(item))
    name, suffix = _chapter_parts(safe_filename(item.filename, item.media_id), chapter)
    plain = prefix + _fit(name, suffix, FILENAME_LIMIT_BYTES)
    disambiguated = prefix + _fit(
        name, suffix + DISAMBIGUATION_MARK + item.media_id, FILENAME_LIMIT_BYTES
    )
    return plain, disambiguated


_GOPRO_CHAPTER = re.compile(r"(G[XH])01(\d{4})(\.[0-9A-Za-z]{1,10})", re.IGNORECASE)
_GOPRO_LEGACY = re.compile(r"(GOPR)(\d{4})(\.[0-9A-Za-z]{1,10})", re.IGNORECASE)
CHAPTER_SUFFIX = "_ch{number:02d}"


def _chapter_parts(filename: str, number: int | None) -> tuple[str, str]:
    """(name, suffix to insert before its extension) of chapter `number` of a recording
    listed as `filename` (None: a video of one file). The camera's renames give names too
    short ever to be cut; any other name keeps itself and takes a suffix."""
    if number is None:
        return filename, ""
    if number < 1:
        raise ValueError(f"chapters count from 1, not {number}")
    if match := _GOPRO_CHAPTER.fullmatch(filename):
        prefix, digits, extension = match.groups()
        return f"{prefix}{number:02d}{digits}{extension}", ""
    if match := _GOPRO_LEGACY.fullmatch(filename):
        prefix, digits, extension = match.groups()
        if number == 1:
            return filename, ""
        gp = "GP" if prefix.isupper() else "gp"
        return f"{gp}{number - 1:02d}{digits}{extension}", ""
    return filename, "" if number == 1 else CHAPTER_SUFFIX.format(number=number)


def chapter_filename(filename: str, number: int) -> str:
    """The name of chapter `number` (1-based) of a recording listed as `filename`.

    The camera's own rules where the name follows them: HERO6 and later `GX010123.MP4`,
    `GX020123.MP4`, … (`GH` likewise); HERO5 and earlier `GOPR0123.MP4`, then
    `GP010123.MP4`, `GP020123.MP4`, …. Any other name keeps itself for chapter 1 and takes
    `_ch02`, `_ch03`, … before its extension after that, which sorts after chapter 1.
    """
    name, suffix = _chapter_parts(filename, number)
    stem, extension = _split_extension(name)
    return f"{stem}{suffix}{extension}"
