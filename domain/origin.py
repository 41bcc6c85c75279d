"""Verification against the origin: the bytes the source served are the bytes it holds.

A byte count and our own CRC32 prove only that the store holds what we sent. GoPro's API
gives no checksum, but its CDN's ETag is the S3 ETag of the origin file (contract,
revision 3): a plain MD5 of the whole file for one uploaded in one part, or
`<MD5 of the parts' binary MD5s>-<N>` for one uploaded in N parts. The part size is not
given: the candidates are the round sizes (whole MiB and whole MB, at least S3's 5 MiB
minimum) that cut the length into exactly N parts, uploaders' usual sizes first. The
MD5s are computed while the bytes stream, once per candidate, and compared at the end.

The outcome of a file is one of:
- `matched`: some candidate gives the ETag;
- `mismatch`: every part size that fits was tried and none gives it (the file is refused);
- `unavailable (why)`: the ETag cannot say (absent, weak, of an unknown form, none of the
  part sizes tried gives it while more fit than are tried, or a plain MD5 interrupted by
  a pause).

Across a pause: `hashlib` cannot carry an MD5 in progress to another process, but the
digests of the origin's finished parts can be kept, and the resume re-reads the source
from the earliest candidate's last part boundary (at most one origin part), feeding those
bytes to the check only. A plain MD5 of the whole file cannot be carried: after a pause
its check is `unavailable`, and what holds the resume instead is the source's validators
(the same ETag, Last-Modified and length on every response, see `SourceVersion`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum

MIB = 1 << 20
MB = 1_000_000
S3_MIN_PART = 5 * MIB
S3_MAX_PARTS = 10_000
USUAL_PART_SIZES = (
    8 * MIB, 5 * MIB, 16 * MIB, 15 * MIB, 10 * MIB, 6 * MIB, 32 * MIB, 64 * MIB, 50 * MIB,
    100 * MIB, 128 * MIB, 8 * MB, 10 * MB, 16 * MB,
)  # fmt: skip
"""Tried first where they fit: the defaults of the AWS CLI and SDKs (8 MiB), S3's minimum
and the other sizes uploaders commonly choose."""
DEFAULT_MAX_CANDIDATES = 4
"""Part sizes hashed at once: each costs one MD5 pass over the bytes."""
MAX_CARRIED_DIGESTS = 4096
"""Finished-part digests a checkpoint carries across a pause (64 KiB): far more than a
4 GB camera chapter in 5 MiB parts needs for four candidates."""

ETAG_DISTRUST_AFTER = 3
"""Mismatches in one run, with not one match, after which a provider's ETags are judged
not to be content hashes (so that a change on its side cannot fail a whole library)."""


@dataclass(frozen=True)
class OriginPolicy:
    """Whether transfers check the origin, and how many part sizes they try at once."""

    enabled: bool = True
    max_candidates: int = DEFAULT_MAX_CANDIDATES


_PLAIN = re.compile(r"[0-9a-f]{32}")
_MULTIPART = re.compile(r"([0-9a-f]{32})-([1-9][0-9]{0,4})")


class OriginStatus(StrEnum):
    MATCHED = "matched"
    UNAVAILABLE = "unavailable"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class OriginResult:
    status: OriginStatus
    detail: str

    def __str__(self) -> str:
        return f"{self.status.value} ({self.detail})"


@dataclass(frozen=True)
class OriginTag:
    """What an ETag says of the origin file."""

    md5_hex: str
    parts: int | None
    """None: a plain MD5 of the whole file; else the number of parts it was uploaded in."""

    @property
    def text(self) -> str:
        return self.md5_hex if self.parts is None else f"{self.md5_hex}-{self.parts}"


def parse_etag(raw: str | None) -> OriginTag | str:
    """The ETag's meaning, or why it has none we can use. HTTP's quotes are not part of
    it; a weak ETag (`W/…`) promises nothing about the bytes."""
    if not raw:
        return "the source sent no ETag"
    value = raw.strip()
    if value.startswith("W/"):
        return f"the source's ETag {value[:80]!r} is weak"
    value = value.strip('"').lower()
    if _PLAIN.fullmatch(value):
        return OriginTag(value, None)
    if match := _MULTIPART.fullmatch(value):
        return OriginTag(match.group(1), int(match.group(2)))
    return f"the source's ETag {value[:80]!r} is of an unknown form"


def candidate_part_sizes(length: int, parts: int) -> list[int]:
    """The round part sizes that cut `length` bytes into exactly `parts` parts, the usual
    ones first, then the rest from the smallest."""
    if parts == 1:
        return [max(length, 1)]
    if length <= 0 or parts > S3_MAX_PARTS:
        return []
    # ceil(length / size) == parts  <=>  length / parts <= size < length / (parts - 1)
    low, high = -(-length // parts), -(-length // (parts - 1))  # size in [low, high)
    fitting: set[int] = set()
    for unit in (MIB, MB):
        first = max(-(-low // unit), -(-S3_MIN_PART // unit))
        fitting.update(k * unit for k in range(first, -(-high // unit)) if k * unit < high)
    usual = [size for size in USUAL_PART_SIZES if size in fitting]
    return usual + sorted(fitting - set(usual))


def _md5(data: bytes = b"") -> hashlib._Hash:
    """S3's ETag is an MD5: a checksum here, not a security measure."""
    return hashlib.md5(data, usedforsecurity=False)


@dataclass
class _Candidate:
    part_size: int | None
    """None: the plain MD5 of the whole file."""
    digests: list[bytes] = field(default_factory=list)
    start: int = 0
    """The position of the next byte this candidate needs."""
    filled: int = 0
    md5: hashlib._Hash = field(default_factory=_md5)

    def feed(self, position: int, chunk: memoryview) -> None:
        end = position + len(chunk)
        if end <= self.start:
            return
        view = chunk[max(0, self.start - position) :]
        self.start = end
        size = self.part_size
        if size is None:
            self.md5.update(view)
            return
        while view:
            taken = min(size - self.filled, len(view))
            self.md5.update(view[:taken])
            self.filled += taken
            view = view[taken:]
            if self.filled == size:
                self.digests.append(self.md5.digest())
                self.md5, self.filled = _md5(), 0

    def etag(self) -> str:
        if self.part_size is None:
            return self.md5.hexdigest()
        digests = self.digests + ([self.md5.digest()] if self.filled else [])
        return f"{_md5(b''.join(digests)).hexdigest()}-{len(digests)}"


@dataclass(frozen=True)
class OriginProgress:
    """The origin check of a paused file, carried in its checkpoint: the finished parts'
    digests of each candidate, or why the check gave up."""

    etag: str
    part_sizes: tuple[int, ...] = ()
    digests: tuple[bytes, ...] = ()
    """Per candidate, its finished parts' binary MD5s joined (16 bytes each)."""
    unavailable: str | None = None
    untried: int = 0
    """Part sizes that fit and are not hashed."""


class OriginCheck:
    """The running origin check of one file, fed every byte in order from `resume_from`."""

    def __init__(
        self,
        etag: str | None,
        length: int,
        *,
        max_candidates: int = DEFAULT_MAX_CANDIDATES,
        progress: OriginProgress | None = None,
        offset: int = 0,
    ) -> None:
        self._unavailable: str | None = None
        self._candidates: list[_Candidate] = []
        self._tag: OriginTag | None = None
        self._untried = 0
        """Part sizes that fit but are not hashed (beyond `max_candidates`)."""
        tag = parse_etag(etag)
        if isinstance(tag, str):
            self._unavailable = tag
            return
        self._tag = tag
        if progress is not None and offset:
            self._resume(progress, tag, offset)
            return
        if tag.parts is None:
            self._candidates = [_Candidate(None)]
            return
        sizes = candidate_part_sizes(length, tag.parts)
        if not sizes:
            self._unavailable = f"no part size cuts {length} bytes into {tag.parts} parts"
        else:  # the usual sizes first; a match among them is a match
            self._candidates = [_Candidate(size) for size in sizes[:max_candidates]]
            self._untried = len(sizes) - len(self._candidates)

    def _resume(self, progress: OriginProgress, tag: OriginTag, offset: int) -> None:
        if progress.unavailable is not None:
            self._unavailable = progress.unavailable
        elif progress.etag != tag.text or not progress.part_sizes:
            self._unavailable = "the checkpoint's origin check is of another ETag"
        else:
            self._untried = progress.untried
            for size, joined in zip(progress.part_sizes, progress.digests, strict=True):
                digests = [joined[i : i + 16] for i in range(0, len(joined), 16)]
                if len(digests) * size > offset:
                    self._unavailable = "the checkpoint's origin check runs past its offset"
                    self._candidates = []
                    return
                self._candidates.append(_Candidate(size, digests, start=len(digests) * size))

    @property
    def resume_from(self) -> int | None:
        """The first byte the check still needs; None when it needs none."""
        starts = [candidate.start for candidate in self._candidates]
        return min(starts) if starts else None

    def feed(self, position: int, chunk: bytes | memoryview) -> None:
        view = memoryview(chunk)
        for candidate in self._candidates:
            candidate.feed(position, view)

    def progress(self, offset: int) -> OriginProgress:
        """The check's state for a checkpoint at `offset`: the digests of the parts that
        end at or before it (bytes past it may have been fed; they are read again)."""
        etag = self._tag.text if self._tag else ""
        if self._unavailable is not None:
            return OriginProgress(etag, unavailable=self._unavailable)
        if any(c.part_size is None for c in self._candidates):
            return OriginProgress(
                etag,
                unavailable=(
                    f"paused at byte {offset}: an MD5 of the whole file cannot be carried "
                    "across invocations; the resume was held to the source's validators"
                ),
            )
        kept: list[tuple[int, list[bytes]]] = []
        carried = 0
        for candidate in self._candidates:  # the usual sizes first
            size = candidate.part_size or 1
            digests = candidate.digests[: offset // size]
            if carried + len(digests) <= MAX_CARRIED_DIGESTS:
                kept.append((size, digests))
                carried += len(digests)
        if len(kept) < len(self._candidates):
            dropped = len(self._candidates) - len(kept)
            return OriginProgress(
                etag,
                unavailable=(
                    f"paused at byte {offset}: {dropped} part sizes' digests are too many "
                    "to carry across invocations"
                ),
            )
        return OriginProgress(
            etag,
            tuple(size for size, _ in kept),
            tuple(b"".join(digests) for _, digests in kept),
            untried=self._untried,
        )

    def result(self) -> OriginResult:
        """The verdict, once every byte was fed."""
        if self._unavailable is not None or self._tag is None:
            return OriginResult(OriginStatus.UNAVAILABLE, self._unavailable or "no ETag")
        tag = self._tag
        for candidate in self._candidates:
            if candidate.etag() == tag.text:
                how = (
                    "MD5 of the whole file"
                    if candidate.part_size is None
                    else f"{tag.parts} parts of {_size(candidate.part_size)}"
                )
                return OriginResult(OriginStatus.MATCHED, f"ETag {tag.text}: {how}")
        tried = ", ".join(
            "the whole file" if c.part_size is None else _size(c.part_size)
            for c in self._candidates
        )
        if self._untried:  # the part size may be one not tried: no verdict on the bytes
            return OriginResult(
                OriginStatus.UNAVAILABLE,
                f"none of the part sizes tried ({tried}) gives the ETag {tag.text}, and "
                f"{self._untried} more fit",
            )
        return OriginResult(
            OriginStatus.MISMATCH,
            f"the bytes served do not give the source's ETag {tag.text} (tried {tried})",
        )


def _size(size: int) -> str:
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % MB == 0:
        return f"{size // MB} MB"
    return f"{size} bytes"
