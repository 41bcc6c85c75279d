"""Resolving and streaming one original from GoPro Cloud.

**What is archived.** The `source` variation, never `files[]` or a proxy; a multi-clip
edit, which has no `source`, is archived from its rendered `baked_source`. A chaptered
recording has one `source` per chapter (`item_number` 1..N, or, where that is missing, the
number that ends the URL's path): each chapter is one original, the camera's own file.
The server-side `concat` is derived and is not archived.

**The size** is the one GoPro serves: the `head` URL's Content-Length (and a `206`'s total
must agree with it). The listing's `file_size` is only a hint: on reprocessed media it is a
few KB off, and a transfer checked against it would fail forever. The domain records the
listing's size beside the served one and reports when they differ.

**One version.** The HEAD's validators (ETag, Last-Modified) and length are the file's
version. Every later answer is held to it: a ranged GET carries `If-Range` (so a server
whose file changed answers the whole new file with a `200`), and each answer's own
validators and length must equal the version's. An answer of another version raises
SourceChangedError, never splices two versions into one stream; a `200` of the same
version to a ranged GET is a server ignoring Range, and its leading bytes are passed over.

**The stream** resumes with `Range` from the last byte received when a connection drops,
resolves the download again when a signed URL has expired (403), backs off on 5xx and 429
(a Retry-After longer than a call may wait ends the attempt, as for API calls), and gives
up after a bounded number of failures without progress. It holds one network read (at
most 64 KiB) at a time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from adapters.gopro.contract import etag_change
from adapters.gopro.errors import GoProProtocolError, redact
from adapters.gopro.http import RetryableStatus, backoff, check_retry_after, send
from adapters.gopro.settings import GoProSettings
from domain.drift import Change, ChangeKind
from domain.errors import SourceChangedError, TransferRejectedError, TransientSourceError
from domain.model import MediaItem, SourceVersion

log = logging.getLogger("cloudsync.gopro")
BAKED_SOURCE = "baked_source"
"""A multi-clip edit's rendered video: such media has no `source` (contract, revision 2)."""
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_PATH_NUMBER = re.compile(r"/(\d+)\.[0-9A-Za-z]+$")


@dataclass(frozen=True)
class Original:
    url: str
    head_url: str
    chapter: int
    """1-based; 1 for media of one file."""


def _chapter_number(variation: dict[str, object], where: str) -> int:
    """`item_number`, or, where it is missing, the trailing number of the URL's path
    (`…/source/default/2.mp4`)."""
    number = variation.get("item_number")
    if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
        return number
    match = _PATH_NUMBER.search(httpx.URL(str(variation.get("url", ""))).path)
    if match is None:
        raise GoProProtocolError(
            f"{where}: a source chapter has no item_number and no number in its URL"
        )
    return int(match.group(1))


def choose_originals(body: object, media_id: str, photo_set: bool = False) -> list[Original]:
    """The originals in a `/media/{id}/download` answer, in chapter order (see the module
    docstring): every `source` chapter, or a multi-clip edit's `baked_source`; of a photo
    set, every photo in `files[]` (its `source` is only a cover)."""
    where = f"download of {media_id}"
    embedded = body.get("_embedded") if isinstance(body, dict) else None
    if photo_set:
        return _photos(embedded, where)
    variations = embedded.get("variations") if isinstance(embedded, dict) else None
    if not isinstance(variations, list):
        raise GoProProtocolError(f"{where}: '_embedded.variations' is missing or not a list")
    entries = [v for v in variations if isinstance(v, dict)]
    chosen = [v for v in entries if v.get("label") == "source"]
    if not chosen:
        chosen = [v for v in entries if v.get("label") == BAKED_SOURCE][:1]
    if not chosen:
        labels = sorted({str(v.get("label")) for v in entries})
        raise TransferRejectedError(f"{where}: no source variation, only {labels}")
    originals = []
    for variation in chosen:
        url, head = variation.get("url"), variation.get("head")
        if not isinstance(url, str) or not isinstance(head, str):
            raise GoProProtocolError(f"{where}: a source variation lacks 'url' or 'head'")
        number = _chapter_number(variation, where) if len(chosen) > 1 else 1
        originals.append(Original(url, head, number))
    return _in_order(originals, f"{where}: the source chapters")


def _in_order(originals: list[Original], what: str) -> list[Original]:
    """The originals by number, which must run 1 to N."""
    originals.sort(key=lambda o: o.chapter)
    if [o.chapter for o in originals] != list(range(1, len(originals) + 1)):
        raise GoProProtocolError(
            f"{what} are numbered {[o.chapter for o in originals]}, not 1 to {len(originals)}"
        )
    return originals


def _photos(embedded: object, where: str) -> list[Original]:
    """A photo set's photos, `files[]` in `item_number` order (1..N)."""
    files = embedded.get("files") if isinstance(embedded, dict) else None
    if not isinstance(files, list) or not files:
        raise GoProProtocolError(f"{where}: a photo set without '_embedded.files'")
    originals = []
    for position, entry in enumerate(files, start=1):
        if not isinstance(entry, dict):
            raise GoProProtocolError(f"{where}: files[{position - 1}] is not an object")
        url, head = entry.get("url"), entry.get("head")
        if not isinstance(url, str) or not isinstance(head, str):
            raise GoProProtocolError(f"{where}: a photo of the set lacks 'url' or 'head'")
        number = entry.get("item_number")
        chapter = number if isinstance(number, int) and not isinstance(number, bool) else position
        originals.append(Original(url, head, chapter))
    return _in_order(originals, f"{where}: the photos")


class GoProDownload:
    """One resolved original: its expected size, and a resumable stream of its bytes."""

    def __init__(
        self,
        client: httpx.Client,
        settings: GoProSettings,
        item: MediaItem,
        resolve: Callable[[], Original],
        original: Original | None = None,
        *,
        note: Callable[[Change], None] = lambda change: None,
    ) -> None:
        self._note = note
        self._client = client
        self._settings = settings
        self._item = item
        self._resolve = resolve
        self._original = original or resolve()
        self._version = self._head()
        self._size = self._version.length

    @property
    def expected_size(self) -> int:
        """What GoPro serves (HEAD), not what the listing says."""
        return self._size

    @property
    def version(self) -> SourceVersion:
        """The HEAD's validators and length: every byte streamed is of this version."""
        return self._version

    def _signed(self) -> Iterator[Original]:
        """The original's signed URLs to try, the first as they are and each next one
        resolved anew (the caller goes on only after a 403: they expired), a bounded
        number of times."""
        for refresh in range(self._settings.url_refreshes + 1):
            if refresh:
                self._original = self._resolve()
            yield self._original
        raise TransientSourceError(f"the download URLs of {self._item.media_id} kept expiring")

    def _head(self) -> SourceVersion:
        for original in self._signed():
            response = send(self._client, self._settings, "HEAD", original.head_url)
            if response.status_code == 403:
                continue
            length = response.headers.get("Content-Length", "")
            where = f"HEAD of {self._item.media_id}"
            if response.status_code == 200 and not length.isdigit():
                self._note(Change(ChangeKind.NO_LENGTH, "served length", "a Content-Length",
                                  "none", where))  # fmt: skip
            if response.status_code != 200 or not length.isdigit():
                raise GoProProtocolError(
                    f"HEAD {redact(original.head_url)} answered HTTP "
                    f"{response.status_code} without a usable Content-Length"
                )
            if int(length) == 0:
                # As the zip endpoint's empty 200s: a file of nothing is not the video.
                self._note(Change(ChangeKind.EMPTY_FILE, "served length", "the file's bytes",
                                  "a length of 0", where))  # fmt: skip
                raise GoProProtocolError(f"{where}: GoPro serves it as 0 bytes")
            version = _version_of(response, int(length))
            if (odd := etag_change(version.etag)) is not None:
                self._note(odd)
            return version
        raise AssertionError("unreachable: _signed raises when it runs out")  # pragma: no cover

    def chunks(self, start: int = 0) -> Iterator[bytes]:
        """The bytes from `start`, over as many GETs as it takes: each try goes on from the
        last byte received; tries are bounded by how many in a row bring no byte."""
        settings = self._settings
        position = _Position(start, self._size)
        retrying = Retrying(
            retry=retry_if_exception_type((httpx.TransportError, RetryableStatus)),
            after=lambda state: position.settle(),
            wait=lambda state: backoff(settings, max(1, position.stalled), _waited(state)),
            stop=lambda state: position.stalled >= settings.stream_attempts,
            retry_error_callback=lambda state: self._give_up(position, state),
            before_sleep=lambda state: self._log_break(position, state),
            sleep=settings.sleep,
        )
        for attempt in retrying:
            with attempt:
                position.began_at = position.offset
                yield from self._read(position)

    def _read(self, position: _Position) -> Iterator[bytes]:
        """One GET from the position's offset, its body handed on as it arrives."""
        with self._open(position.offset) as response:
            total, skip = _check_start(response, position.offset, self._size, self._item.media_id)
            differences = self._version.differences(_version_of(response, total))
            if differences:
                raise SourceChangedError(self._item.media_id, differences)
            position.total = total
            # Chunks as they arrive (one network read each): a re-chunking buffer would
            # lose its partial chunk when the connection drops.
            for chunk in response.iter_bytes():
                if skip:  # the Range was ignored: pass over what we have
                    dropped = min(skip, len(chunk))
                    skip -= dropped
                    chunk = chunk[dropped:]  # noqa: PLW2901
                    if not chunk:
                        continue
                position.offset += len(chunk)
                yield chunk
        if position.offset < position.total:
            raise httpx.RemoteProtocolError(
                f"the body ended at byte {position.offset} of {position.total}"
            )

    @contextmanager
    def _open(self, offset: int) -> Iterator[httpx.Response]:
        """The GET's answer, ready to stream: an expired URL (403) is resolved again (a
        bounded number of times), a 5xx or 429 raised as RetryableStatus, a 404 refused."""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        validator = self._version.etag or self._version.last_modified
        if offset and validator:
            headers["If-Range"] = validator
        for original in self._signed():
            with self._client.stream("GET", original.url, headers=headers) as response:
                status = response.status_code
                if status == 403:
                    continue
                if status >= 500 or status == 429:
                    retryable = RetryableStatus(response)
                    what = f"the download of {self._item.media_id}"
                    check_retry_after(self._settings, retryable.retry_after, what)
                    raise retryable
                if status == 404:
                    raise TransferRejectedError(f"GoPro no longer serves {self._item.media_id}")
                yield response
                return

    def _give_up(self, position: _Position, state: RetryCallState) -> None:
        raise TransientSourceError(
            f"download of {self._item.media_id} stopped at byte {position.offset} of "
            f"{position.total}: {position.stalled} tries in a row made no progress "
            f"({_problem(state)})"
        )

    def _log_break(self, position: _Position, state: RetryCallState) -> None:
        log.warning(
            "download of %s broke at byte %d: %s",
            self._item.media_id,
            position.offset,
            _problem(state),
            extra={
                "event_type": "gopro.resume",
                "metadata": {"media_id": self._item.media_id, "offset": position.offset},
            },
        )


@dataclass
class _Position:
    """Where a stream stands: its next byte, its length, and the failed tries in a row
    that brought no byte."""

    offset: int
    total: int
    stalled: int = 0
    began_at: int = 0
    """The offset the current try began at."""

    def settle(self) -> None:
        """After a failed try: count it, unless it moved the stream on."""
        self.stalled = 0 if self.offset > self.began_at else self.stalled + 1


def _problem(state: RetryCallState) -> str:
    error = state.outcome.exception() if state.outcome else None
    return (str(error) or type(error).__name__) if error else "no answer"


def _waited(state: RetryCallState) -> float | None:
    """The Retry-After of the answer that failed the try, if it gave one."""
    error = state.outcome.exception() if state.outcome else None
    return error.retry_after if isinstance(error, RetryableStatus) else None


def _version_of(response: httpx.Response, length: int) -> SourceVersion:
    return SourceVersion(
        response.headers.get("ETag"), response.headers.get("Last-Modified"), length
    )


def _check_start(
    response: httpx.Response, offset: int, served: int, media_id: str
) -> tuple[int, int]:
    """(the stream's total length, how many leading body bytes to pass over), after
    checking the answer starts where it was asked to. A server may ignore `Range` and
    answer a whole `200`: its first `offset` bytes are then passed over."""
    if response.status_code == 200:
        length = response.headers.get("Content-Length", "")
        return (int(length) if length.isdigit() else served), offset
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != offset:
            raise GoProProtocolError(
                f"download of {media_id}: asked for bytes from {offset}, got "
                f"{response.headers.get('Content-Range')!r}"
            )
        return int(match.group(3)), 0
    raise GoProProtocolError(
        f"download of {media_id}: HTTP {response.status_code} to a request from byte {offset}"
    )
