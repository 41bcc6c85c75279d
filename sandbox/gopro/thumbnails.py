"""The emulator's thumbnails: a real JPEG per item, about 450 pixels wide, drawn from the
item (a colour of its own, its name and capture date), as GoPro's image service serves
them under `/resize/450wwp/<token>`."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 450, 253


def thumbnail_token(media_id: str) -> str:
    """An opaque token per item, as the listing's `token` field gives it."""
    return "thumb-" + hashlib.sha256(media_id.encode()).hexdigest()[:40]


@lru_cache(maxsize=4096)
def thumbnail_jpeg(media_id: str, filename: str, captured: str) -> bytes:
    digest = hashlib.sha256(media_id.encode()).digest()
    sky = (digest[0] // 2 + 60, digest[1] // 2 + 90, digest[2] // 2 + 120)
    ground = (digest[3] // 3 + 40, digest[4] // 3 + 80, digest[5] // 3 + 40)
    image = Image.new("RGB", (WIDTH, HEIGHT), sky)
    draw = ImageDraw.Draw(image)
    horizon = HEIGHT // 2 + digest[6] % 60
    draw.polygon(
        [(0, horizon), (WIDTH // 3, horizon - 40 - digest[7] % 50), (WIDTH, horizon),
         (WIDTH, HEIGHT), (0, HEIGHT)],
        fill=ground,
    )  # fmt: skip
    draw.rectangle((0, HEIGHT - 36, WIDTH, HEIGHT), fill=(0, 0, 0))
    draw.text((10, HEIGHT - 30), filename[:60], fill=(255, 255, 255))
    draw.text((10, HEIGHT - 16), captured, fill=(200, 200, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()
