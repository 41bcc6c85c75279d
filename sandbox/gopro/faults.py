"""The emulator's fault knobs. Tests set them on a running emulator; each takes effect at
the next request. Where the contract marks a behaviour [guess], a knob chooses it."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    server_error_rate: float = 0.0
    """Share of requests (API and file) answered 503, drawn from a seeded generator."""
    server_errors_next: int = 0
    """The next N requests answer 503."""
    too_many_requests_next: int = 0
    """The next N requests answer 429 with Retry-After."""
    retry_after_seconds: float = 1.0
    drop_after_bytes: int | None = None
    """Close each file response after this many body bytes (a dropped connection)."""
    drops_left: int | None = None
    """How many responses to drop; None: every one."""
    short_body_bytes: int = 0
    """The stored files lack their last N bytes, while lengths announce them whole."""
    file_size_override: dict[str, int | None] = field(default_factory=dict)
    """Media id -> the `file_size` the listing claims, whatever the bytes are (reprocessed
    media: the listing is a few KB off while the download serves the true size)."""
    head_size_override: dict[str, int] = field(default_factory=dict)
    """File id (a media id, or `<id>-<chapter>`) -> the Content-Length its `head` URL
    announces, whatever GET then serves: a served length that changes between the two."""
    ignore_range_next: int = 0
    """The next N ranged GETs are answered with the whole file and a 200."""
    url_ttl_seconds: float = 3600.0
    url_base: str | None = None
    """Hand out signed URLs on this base instead of the emulator's own (a hostile answer)."""
    throughput_bytes_per_second: float | None = None
    reject_tokens: bool = False
    """Answer 401 to every bearer of a token, valid or not."""
    require_accept: bool = True
    """Answer 406 to media calls without the GoPro media type in Accept."""
    rotate_refresh_token: bool = True
    """[guess] Whether a refresh answers with a new refresh token."""
    blacklist_refresh_tokens: bool = False
    """Refuse every refresh with 400 `token_blacklisted`, as GoPro does to a revoked one."""
    omit_owner_id: bool = False
    """Token answers without `resource_owner_id` (seen after refreshes)."""
    two_factor: bool = False
    """[guess] The account signs in with a second factor: the password grant answers 401."""
    max_per_page: int = 100
    """[guess] The largest page the search returns."""
    raw_listing_items: list[object] = field(default_factory=list)
    """Appended as they are to the first listing page: any JSON a hostile server sends."""
    unlisted: set[str] = field(default_factory=set)
    """Media left out of the listing, yet served for download (a raw listing item of the
    same id then stands for them)."""
    raw_download_answers: dict[str, object] = field(default_factory=dict)
    """Media id -> the JSON its download endpoint answers with (200), as it is."""
    failing_thumbnails: set[str] = field(default_factory=set)
    """Media ids whose thumbnail answers 503 (its video is served as ever)."""
    endless_listing: bool = False
    """Every listing page is page 1 again, with a `total_pages` of a million."""
    short_pages_next: int = 0
    """The next N listing pages come back with half their items."""
    listing_errors: list[dict[str, object]] = field(default_factory=list)
    """Returned in `_embedded.errors` of every listing page while non-empty."""
    file_faults: dict[str, str] = field(default_factory=dict)
    """File id -> one fault its next GET meets, then never again: "drop" (the connection
    closes half-way), "503" (a server error), "expired" (the signed URL is refused as
    expired, as one past its lifetime is)."""
    etag_form: str = "auto"
    """[guess] The ETag file URLs carry, as the origin's S3 upload made it: "auto" (a plain
    MD5 up to `etag_part_size`, the multipart form in parts of it above), "md5" (always
    plain), "multipart" (always in parts of `etag_part_size`), "none" (no ETag)."""
    etag_part_size: int = 8 << 20
    weak_etags: bool = False
    """File URLs answer with a weak ETag (`W/"…"`), a form the contract does not describe."""
    head_without_length: set[str] = field(default_factory=set)
    """File ids whose HEAD answers without a Content-Length."""
    extra_listing_fields: dict[str, object] = field(default_factory=dict)
    """Fields added to every listing item, whatever `fields=` asked (GoPro adding a field)."""
    """The part size of the origin's multipart upload (the AWS CLI's default)."""
    wrong_etags: set[str] = field(default_factory=set)
    """File ids whose ETag does not match their bytes (a CDN whose ETag is no content hash)."""
    change_on_drop: set[str] = field(default_factory=set)
    """File ids GoPro reprocesses (GoProEmulator.change) the moment a planned "drop" of
    `file_faults` cuts their connection: the resume then meets another version."""
    seed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def take_error(self) -> int | None:
        """The status to answer instead of serving, if a fault says so: 503 or 429."""
        with self._lock:
            if self.too_many_requests_next > 0:
                self.too_many_requests_next -= 1
                return 429
            if self.server_errors_next > 0:
                self.server_errors_next -= 1
                return 503
            if self.server_error_rate and self._rng.random() < self.server_error_rate:
                return 503
        return None

    def take_drop(self) -> int | None:
        """How many body bytes to send before dropping this response; None: send it all."""
        with self._lock:
            if self.drop_after_bytes is None:
                return None
            if self.drops_left is not None:
                if self.drops_left <= 0:
                    return None
                self.drops_left -= 1
            return self.drop_after_bytes

    def take_file_fault(self, file_id: str) -> str | None:
        with self._lock:
            return self.file_faults.pop(file_id, None)

    def take_ignored_range(self) -> bool:
        with self._lock:
            if self.ignore_range_next > 0:
                self.ignore_range_next -= 1
                return True
        return False

    def take_short_page(self) -> bool:
        with self._lock:
            if self.short_pages_next > 0:
                self.short_pages_next -= 1
                return True
        return False
