"""Video bytes made on the fly: deterministic per media id, no disk, no memory per byte.

Each media id owns a pseudo-random block whose length is a prime (1,048,573 bytes), and its
content is that block repeated. A prime period means no chunk size, part size or resume
offset lines up with it, so a skipped or repeated range changes the bytes that arrive.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from functools import lru_cache

PERIOD = 1_048_573


@lru_cache(maxsize=64)
def _block(media_id: str) -> bytes:
    seed = int.from_bytes(hashlib.sha256(media_id.encode("utf-8")).digest()[:8], "big")
    block = random.Random(seed).randbytes(PERIOD)  # noqa: S311 - test data, not secrets
    return block * 2  # doubled, so any window of up to PERIOD bytes is one slice


def iter_content(
    media_id: str, start: int, stop: int, chunk_size: int = 1 << 20
) -> Iterator[memoryview]:
    """Bytes [start, stop) of the media's content, in chunks of at most `chunk_size`."""
    view = memoryview(_block(media_id))
    position = start
    step = min(chunk_size, PERIOD)
    while position < stop:
        length = min(step, stop - position)
        offset = position % PERIOD
        yield view[offset : offset + length]
        position += length


def content(media_id: str, start: int, stop: int) -> bytes:
    return b"".join(iter_content(media_id, start, stop))


def sha256_of(media_id: str, size: int) -> str:
    """The SHA-256 of a whole video's content, for byte-for-byte comparisons."""
    digest = hashlib.sha256()
    for chunk in iter_content(media_id, 0, size):
        digest.update(chunk)
    return digest.hexdigest()
