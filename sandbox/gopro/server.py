"""The GoPro Cloud emulator: a threaded HTTP server on loopback that follows
shared/spec/gopro-cloud-api.md: token endpoint, /media/user, /media/search (HAL pages),
/media/{id}/download (expiring signed URLs), and file URLs with HEAD and Range."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from http.server import ThreadingHTTPServer
from types import TracebackType

from sandbox.gopro.content import iter_content, sha256_of
from sandbox.gopro.faults import Faults
from sandbox.gopro.handler import EmulatorHandler, LoggedRequest
from sandbox.gopro.library import EmulatedMedia, original_files
from sandbox.gopro.thumbnails import thumbnail_token


@dataclass(frozen=True)
class FileEntry:
    """A downloadable file: which content it serves, how long it is, and which version of
    it (GoPro reprocesses media: the same URL then serves other bytes)."""

    content_id: str
    length: int
    version: int = 0

    @property
    def content_key(self) -> str:
        """What its bytes are generated from (sandbox.gopro.content)."""
        return self.content_id if not self.version else f"{self.content_id}~v{self.version}"

    @property
    def last_modified(self) -> str:
        """An HTTP date, one day later for each version."""
        return formatdate(EPOCH_SECONDS + 86_400 * self.version, usegmt=True)


@lru_cache(maxsize=256)
def s3_etag(content_key: str, size: int, part_size: int | None) -> str:
    """The ETag S3 gives the content uploaded in one part (`part_size` None: the MD5) or
    in parts of `part_size` (the MD5 of the parts' MD5s, `-N`)."""
    if part_size is None:
        whole = hashlib.md5(usedforsecurity=False)
        for chunk in iter_content(content_key, 0, size):
            whole.update(chunk)
        return whole.hexdigest()
    digests = []
    for start in range(0, max(size, 1), part_size):
        part = hashlib.md5(usedforsecurity=False)
        for chunk in iter_content(content_key, start, min(size, start + part_size)):
            part.update(chunk)
        digests.append(part.digest())
    joined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{joined}-{len(digests)}"


JWE_HEADER = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0"
"""`{"alg":"dir","enc":"A256GCM"}`: GoPro's tokens are JWE since late 2024 (contract)."""


def jwe_like() -> str:
    """A token of the shape GoPro issues: five base64url parts (the second empty, as a
    JWE with direct encryption has no encrypted key); random, never a real one."""
    return ".".join([JWE_HEADER, "", *(secrets.token_urlsafe(n) for n in (12, 48, 16))])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: GoProEmulator

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (a reset, a closed pipe) is no fault of the server's, as
        for any web server; anything else is printed as socketserver does."""
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


EPOCH_SECONDS = 1_704_067_200
"""2024-01-01, when every emulated file was first uploaded."""

WEB_APP_CLIENT = (
    "71611e67ea968cfacf45e2b6936c81156fcf5dbe553a2bf2d342da1562d05f46",
    "3863c9b438c07b82f39ab3eeeef9c24fefa50c6856253e3f1d37e0e3b1ead68d",
)
"""GoPro's web-app OAuth client (public constants, shared/spec/gopro-cloud-api.md)."""


class GoProEmulator:
    """Hosts a library on 127.0.0.1. Use as a context manager, or start() and stop()."""

    def __init__(
        self,
        library: Iterable[EmulatedMedia] = (),
        *,
        faults: Faults | None = None,
        client_id: str = "emulator-client",
        client_secret: str | None = None,
        refresh_token: str | None = None,
        session_token: str | None = None,
        user_id: str = "emulated-user",
        username: str = "user@example.invalid",
        password: str | None = None,
        token_lifetime_seconds: int = 86_400,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.faults = faults or Faults()
        self.client_id = client_id
        # Credentials nobody can know in advance, unless a test chooses them.
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.refresh_token = refresh_token or "emu-refresh-" + secrets.token_urlsafe(24)
        self.session_token = session_token or jwe_like()
        self.user_id = user_id
        # The account's sign-in, for the password grant (a test chooses or reads them).
        self.username = username
        self.password = password or secrets.token_urlsafe(16)
        self.token_lifetime_seconds = token_lifetime_seconds
        self.media: dict[str, EmulatedMedia] = {}
        self.files: dict[str, FileEntry] = {}
        self.thumbnails: dict[str, str] = {}
        """Thumbnail token -> media id."""
        self.requests: list[LoggedRequest] = []
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)
        self._server = _Server((host, port), EmulatorHandler)
        self._server.emulator = self
        self._thread: threading.Thread | None = None
        for media in library:
            self.add(media)

    # -- library ---------------------------------------------------------------------------
    def add(self, media: EmulatedMedia) -> None:
        with self._lock:
            self.media[media.id] = media
            self.files[media.id] = FileEntry(media.id, media.size)
            for number, size in enumerate(media.chapters, start=1):
                self.files[f"{media.id}-{number}"] = FileEntry(f"{media.id}-{number}", size)
            for number, size in enumerate(media.photos, start=1):
                self.files[f"{media.id}-p{number}"] = FileEntry(f"{media.id}-p{number}", size)
            if media.thumbnail:
                self.thumbnails[thumbnail_token(media.id)] = media.id
            proxy = f"{media.id}-proxy"
            self.files[proxy] = FileEntry(proxy, max(1, media.size // 10))
            self.files[f"{media.id}-gpmf"] = FileEntry(f"{media.id}-gpmf", 1_000)

    def change(self, content_id: str, length: int | None = None) -> FileEntry:
        """GoPro reprocesses the file: from now on its URLs serve other bytes, `length` of
        them (by default as many as before), with a new ETag and Last-Modified; the
        listing's `file_size` of a media of one file follows."""
        with self._lock:
            entry = self.files[content_id]
            changed = FileEntry(content_id, length or entry.length, entry.version + 1)
            self.files[content_id] = changed
            media = self.media.get(content_id)
            if media is not None and not media.chapters:
                media.size = changed.length
            return changed

    def etag(self, entry: FileEntry) -> str | None:
        """The file's ETag, as the origin's S3 upload made it (`faults.etag_form`), quoted."""
        faults = self.faults
        form, part = faults.etag_form, faults.etag_part_size
        if form == "none":
            return None
        served = entry.length - faults.short_body_bytes
        if form == "multipart" or (form == "auto" and served > part):
            value = s3_etag(entry.content_key, served, part)
        else:
            value = s3_etag(entry.content_key, served, None)
        if entry.content_id in faults.wrong_etags:
            value = "0" * 32 + value[32:]
        if faults.weak_etags:
            return f'W/"{value}"'
        return f'"{value}"'

    def ordered_media(self) -> list[EmulatedMedia]:
        """The listing's order: newest upload first, as the web app shows it."""
        with self._lock:
            return sorted(self.media.values(), key=lambda m: (m.created_at, m.id), reverse=True)

    def original_sha256(self, media_id: str) -> str:
        """SHA-256 of the bytes an archive of this media must hold (one file: for chaptered
        media, see `original_files`), as its file is now."""
        entry = self.files[media_id]
        return sha256_of(entry.content_key, entry.length - self.faults.short_body_bytes)

    def original_files(self, media_id: str) -> list[tuple[str, int]]:
        """(content id, size) of each original an archive must hold, in chapter order."""
        return original_files(self.media[media_id])

    def file_sha256(self, content_id: str, size: int) -> str:
        entry = self.files.get(content_id)
        key = entry.content_key if entry is not None else content_id
        return sha256_of(key, size - self.faults.short_body_bytes)

    # -- tokens ----------------------------------------------------------------------------
    def clients(self) -> set[tuple[str, str]]:
        """The OAuth clients the token endpoint knows: this emulator's own, and GoPro's
        web-app client whose id and secret are public."""
        return {(self.client_id, self.client_secret), WEB_APP_CLIENT}

    def issue_token(self) -> str:
        token = jwe_like()
        with self._lock:
            self._tokens[token] = time.time() + self.token_lifetime_seconds
        return token

    def token_valid(self, token: str | None) -> bool:
        if token is None or self.faults.reject_tokens:
            return False
        if hmac.compare_digest(token, self.session_token):
            return True
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and time.time() < expires

    # -- signed URLs -----------------------------------------------------------------------
    def _signature(self, content_id: str, expires: int, method: str) -> str:
        message = f"{content_id}|{expires}|{method}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def signed_url(self, content_id: str, method: str = "GET", path: str = "") -> str:
        """A pre-signed URL of one file; `path` (e.g. `/source/default/2.mp4`) is appended
        to it as GoPro's CDN paths carry the chapter number."""
        expires = int(time.time() + self.faults.url_ttl_seconds)
        sig = self._signature(content_id, expires, method)
        base = self.faults.url_base or self.base_url
        return f"{base}/files/{content_id}{path}?expires={expires}&method={method}&sig={sig}"

    def signature_valid(self, content_id: str, expires: str, method: str, sig: str) -> bool:
        try:
            deadline = int(expires)
        except ValueError:
            return False
        expected = self._signature(content_id, deadline, method)
        return hmac.compare_digest(expected, sig) and time.time() < deadline

    # -- server ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    def start(self) -> GoProEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="gopro-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GoProEmulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
