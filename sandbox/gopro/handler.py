"""The emulator's request handler: one method per route of the contract."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sandbox.gopro.content import iter_content
from sandbox.gopro.library import EmulatedMedia
from sandbox.gopro.thumbnails import thumbnail_jpeg, thumbnail_token

if TYPE_CHECKING:
    from sandbox.gopro.server import GoProEmulator

MEDIA_TYPES = (
    "application/vnd.gopro.jk.media+json",
    "application/vnd.gopro.jk.media.search+json",
)
"""Both Accept values working clients send (with `version=2.0.0`)."""
_DOWNLOAD = re.compile(r"/media/([^/]+)/download")
_FILE = re.compile(r"/files/([^/]+)(?:/source/default/\d+\.mp4)?")
_THUMBNAIL = re.compile(r"/resize/450wwp/([A-Za-z0-9._~=-]+)")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    range: str | None
    bearer: bool
    """The request carried an Authorization header."""
    cookie: bool
    """The request carried a gp_access_token cookie."""


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    """Answer small JSON at once: Nagle's wait on the body after the headers would cost
    every request about 40 ms of delayed ACK."""
    server_version = "GoProCloudEmulator/1"
    _half = False
    """This response closes its connection half-way (a planned one-off drop)."""

    @property
    def emulator(self) -> GoProEmulator:
        return self.server.emulator  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: object) -> None:
        """Silent: signed URLs and tokens stay out of any log."""

    # -- plumbing --------------------------------------------------------------------------
    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _token(self) -> str | None:
        authorization = self.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            return authorization.removeprefix("Bearer ").strip()
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get("gp_access_token")
        return morsel.value if morsel else None

    def _fault(self) -> bool:
        status = self.emulator.faults.take_error()
        if status is None:
            return False
        headers = {}
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            headers["Retry-After"] = f"{self.emulator.faults.retry_after_seconds:g}"
        self._json(status, {"error": HTTPStatus(status).phrase}, headers)
        return True

    def _authorised_media_call(self) -> bool:
        if not self.emulator.token_valid(self._token()):
            self._json(401, {"error": "unauthorized", "message": "token rejected"})
            return False
        accept = self.headers.get("Accept", "")
        if self.emulator.faults.require_accept and not any(t in accept for t in MEDIA_TYPES):
            self._json(406, {"error": "not acceptable"})
            return False
        return True

    def _route(self) -> None:
        url = urlsplit(self.path)
        self.emulator.log(
            LoggedRequest(
                self.command,
                url.path,
                self.headers.get("Range"),
                bearer="Authorization" in self.headers,
                cookie="gp_access_token" in self.headers.get("Cookie", ""),
            )
        )
        if self._fault():
            return
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if self.command == "POST" and url.path == "/v1/oauth2/token":
            self._token_endpoint()
        elif (match := _FILE.fullmatch(url.path)) and self.command in ("GET", "HEAD"):
            self._file(match.group(1), query)
        elif self.command != "GET":
            self._json(405, {"error": "method not allowed"})
        elif match := _THUMBNAIL.fullmatch(url.path):  # the image service: no media Accept
            if self.emulator.token_valid(self._token()):
                self._thumbnail(match.group(1))
            else:
                self._json(401, {"error": "unauthorized"})
        elif not self._authorised_media_call():
            return
        elif url.path == "/media/user":
            self._json(200, {"id": self.emulator.user_id, "email": "user@example.invalid"})
        elif url.path == "/media/search":
            self._search(query)
        elif match := _DOWNLOAD.fullmatch(url.path):
            self._download(match.group(1))
        else:
            self._json(404, {"error": "not found"})

    do_GET = do_HEAD = do_POST = _route

    # -- routes ----------------------------------------------------------------------------
    def _token_endpoint(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        emulator, faults = self.emulator, self.emulator.faults
        if (form.get("client_id"), form.get("client_secret")) not in emulator.clients():
            self._json(401, {"error": "invalid_client"})
            return
        grant = form.get("grant_type")
        if grant == "password":
            if faults.two_factor or (form.get("username"), form.get("password")) != (
                emulator.username,
                emulator.password,
            ):
                self._json(401, {"error": "invalid_grant"})
                return
        elif grant == "refresh_token":
            if faults.blacklist_refresh_tokens:
                self._json(400, {"error": "token_blacklisted"})
                return
            if form.get("refresh_token") != emulator.refresh_token:
                self._json(400, {"error": "invalid_grant"})
                return
            if faults.rotate_refresh_token:
                emulator.refresh_token = "emu-refresh-" + secrets.token_urlsafe(24)
        else:
            self._json(400, {"error": "unsupported_grant_type"})
            return
        answer: dict[str, object] = {
            "access_token": emulator.issue_token(),
            "refresh_token": emulator.refresh_token,
            "expires_in": emulator.token_lifetime_seconds,
            "token_type": "Bearer",
        }
        if not faults.omit_owner_id:
            answer["resource_owner_id"] = emulator.user_id
        self._json(200, answer)

    def _search(self, query: dict[str, str]) -> None:
        faults = self.emulator.faults
        try:
            page = max(1, int(query.get("page", "1")))
            per_page = min(faults.max_per_page, max(1, int(query.get("per_page", "30"))))
        except ValueError:
            self._json(400, {"error": "page and per_page must be numbers"})
            return
        media = [m for m in self.emulator.ordered_media() if m.id not in faults.unlisted]
        total_pages = (len(media) + per_page - 1) // per_page
        served = page
        if faults.endless_listing:  # the first page's items, whatever page was asked for
            served, total_pages = 1, 1_000_000
        items = media[(served - 1) * per_page : served * per_page]
        if items and faults.take_short_page():
            items = items[: len(items) // 2]
        fields = set(query["fields"].split(",")) if query.get("fields") else None
        listed: list[object] = [self._listed(m, fields) for m in items]
        if served == 1:
            listed += faults.raw_listing_items
        self._json(
            200,
            {
                "_pages": {
                    "current_page": page,
                    "per_page": per_page,
                    "total_items": len(media),
                    "total_pages": total_pages,
                },
                "_embedded": {"errors": list(faults.listing_errors), "media": listed},
            },
        )

    def _listed(self, media: EmulatedMedia, fields: set[str] | None) -> dict[str, object]:
        """The item's listing: only the asked `fields` (with `id`) when the call names them;
        `token` only when asked for, as GoPro gives it."""
        faults = self.emulator.faults
        found = media.listing_fields(faults.file_size_override.get(media.id, media.api_file_size))
        if media.thumbnail:
            found["token"] = thumbnail_token(media.id)
        if fields is None:
            found.pop("token", None)
            return found | faults.extra_listing_fields
        asked = {name: value for name, value in found.items() if name in fields or name == "id"}
        return asked | faults.extra_listing_fields  # added whatever was asked

    def _thumbnail(self, token: str) -> None:
        media_id = self.emulator.thumbnails.get(token)
        media = self.emulator.media.get(media_id or "")
        if media is None:
            self._json(404, {"error": "not found"})
            return
        if media.id in self.emulator.faults.failing_thumbnails:
            self._json(503, {"error": "Service Unavailable"})
            return
        captured = media.captured_at.strftime("%Y-%m-%d %H:%M")
        body = thumbnail_jpeg(media.id, media.filename or media.id, captured)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _download(self, media_id: str) -> None:
        raw = self.emulator.faults.raw_download_answers
        if media_id in raw:
            self._json(200, raw[media_id])
            return
        media = self.emulator.media.get(media_id)
        if media is None:
            self._json(404, {"error": "not found", "message": f"no media {media_id}"})
            return
        sign = self.emulator.signed_url

        def entry(content_id: str, path: str = "", **extra: object) -> dict[str, object]:
            return {
                **extra,
                "url": sign(content_id, "GET", path),
                "head": sign(content_id, "HEAD", path),
            }

        def chapter(number: int) -> dict[str, object]:
            path = f"/source/default/{number}.mp4"
            if number in media.unnumbered_chapters:
                return entry(f"{media.id}-{number}", path, label="source", type="mp4")
            return entry(
                f"{media.id}-{number}", path, label="source", item_number=number, type="mp4"
            )

        photos = [
            entry(f"{media.id}-p{n}", item_number=n, camera_position="default")
            for n in range(1, len(media.photos) + 1)
        ]
        if media.type == "MultiClipEdit":  # rendered, and no `source` at all
            sources = [entry(media.id, label="baked_source", type="mp4")]
        elif media.chapters:
            sources = [chapter(n) for n in range(1, len(media.chapters) + 1)]
            sources.append(entry(media.id, label="concat", type="mp4"))
        else:
            sources = [entry(media.id, label="source", item_number=1, type="mp4")]
        proxy = entry(f"{media.id}-proxy", label="high_res_proxy_mp4", type="mp4")
        self._json(
            200,
            {
                "filename": media.filename,
                "_embedded": {
                    "files": photos
                    or [entry(f"{media.id}-proxy", item_number=1, camera_position="default")],
                    "variations": [*sources, proxy],
                    "sidecar_files": [entry(f"{media.id}-gpmf", label="gpmf", type="1.mp4")],
                },
            },
        )

    def _file(self, content_id: str, query: dict[str, str]) -> None:
        emulator = self.emulator
        entry = emulator.files.get(content_id)
        signed = emulator.signature_valid(
            content_id, query.get("expires", ""), self.command, query.get("sig", "")
        )
        planned = emulator.faults.take_file_fault(content_id) if self.command == "GET" else None
        if (
            entry is None
            or not signed
            or query.get("method") != self.command
            or (planned == "expired")
        ):
            self._json(403, {"error": "AccessDenied", "message": "Request has expired"})
            return
        if planned == "503":
            self._json(503, {"error": "ServiceUnavailable"})
            return
        self._half = planned == "drop"
        length = entry.length
        start, end = 0, length - 1
        requested = self.headers.get("Range")
        if requested and self.command == "GET" and emulator.faults.take_ignored_range():
            requested = None  # a server that ignores Range answers the whole file
        etag = emulator.etag(entry)
        condition = self.headers.get("If-Range")
        if requested and condition is not None and condition not in (etag, entry.last_modified):
            requested = None  # the file changed since the validator: the whole new file
        if requested:
            match = _RANGE.fullmatch(requested.strip())
            if match is None or int(match.group(1)) >= length:
                self._json(
                    416, {"error": "range not satisfiable"}, {"Content-Range": f"*/{length}"}
                )
                return
            start = int(match.group(1))
            end = min(length - 1, int(match.group(2))) if match.group(2) else length - 1
        self.send_response(206 if requested else 200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        announced = end - start + 1
        if self.command == "HEAD" and not requested:
            announced = emulator.faults.head_size_override.get(content_id, announced)
        if not (self.command == "HEAD" and content_id in emulator.faults.head_without_length):
            self.send_header("Content-Length", str(announced))
        if requested:
            self.send_header("Content-Range", f"bytes {start}-{end}/{length}")
        if etag is not None:
            self.send_header("ETag", etag)
        self.send_header("Last-Modified", entry.last_modified)
        self.end_headers()
        if self.command == "GET":
            self._body(entry.content_key, start, end + 1, length - emulator.faults.short_body_bytes)
            if self._half and content_id in emulator.faults.change_on_drop:
                emulator.faults.change_on_drop.discard(content_id)
                emulator.change(content_id)

    def _body(self, content_id: str, start: int, stop: int, stored: int) -> None:
        faults = self.emulator.faults
        limit = min(stop, max(start, stored))
        drop = faults.take_drop()
        if drop is not None:
            limit = min(limit, start + drop)
        if self._half:
            limit = min(limit, start + (limit - start) // 2)
        rate = faults.throughput_bytes_per_second
        # Capped: chunks of 1/20 s each, each sent no earlier than the cap allows.
        chunk_size = max(1, int(rate / 20)) if rate else 1 << 20
        began, sent = time.monotonic(), 0
        try:
            for chunk in iter_content(content_id, start, limit, chunk_size):
                if rate:
                    early = (sent + len(chunk)) / rate - (time.monotonic() - began)
                    if early > 0:
                        time.sleep(early)
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if limit < stop:  # announced more than it sends: cut the connection
            self.close_connection = True
