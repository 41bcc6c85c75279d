"""GoProMediaSource: the media-source port over GoPro Cloud's media API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial

import httpx

from adapters.gopro.contract import token_change
from adapters.gopro.download import GoProDownload, Original, choose_originals
from adapters.gopro.errors import GoProProtocolError
from adapters.gopro.http import api_headers, send
from adapters.gopro.listing import FIELDS, ListingPage, ListingReport, parse_search_page
from adapters.gopro.media import is_photo_set
from adapters.gopro.settings import GoProSettings
from adapters.gopro.urls import check_download_url
from domain.credentials import Credentials
from domain.drift import Change, ChangeKind
from domain.errors import (
    CredentialsRejectedError,
    InvalidSettingError,
    TransferRejectedError,
    TransientSourceError,
)
from domain.model import MediaItem, MediaPage
from domain.ports import MediaDownload

PROVIDER = "gopro"
log = logging.getLogger("cloudsync.gopro")


def _page_number(token: str, max_pages: int) -> int:
    """The page a resume token names; a token this adapter never gave is refused."""
    if not token.isdigit() or not 1 <= int(token) <= max_pages:
        raise InvalidSettingError(
            "listing resume token",
            f"must be a page number from 1 to {max_pages}, not {token!r:.40}",
        )
    return int(token)


class GoProMediaSource:
    """Lists a GoPro Cloud library and resolves downloads with stored credentials.

    `report` describes the last listing: pages read, items listed, items skipped and why.
    """

    def __init__(
        self, client: httpx.Client, settings: GoProSettings, credentials: Credentials
    ) -> None:
        if not credentials.access_token:
            raise CredentialsRejectedError(
                PROVIDER, "no access token is stored yet; run the authenticator first"
            )
        self._client = client
        self._settings = settings
        self._headers = api_headers(credentials)
        self.report = ListingReport()
        self._changes: dict[str, Change] = {}
        if (token := token_change(credentials.access_token)) is not None:
            self.note(token)

    def note(self, change: Change) -> None:
        """Keep a difference from the contract (once per kind of difference)."""
        self._changes.setdefault(change.identity, change)

    def changes(self) -> list[Change]:
        """How GoPro's answers so far differed from the contract."""
        return list(self._changes.values())

    def _get_json(
        self, path: str, where: str, params: dict[str, str | int] | None = None
    ) -> object:
        """GET an API path and decode its JSON; `where` names the call in every error."""
        response = send(
            self._client, self._settings, "GET", path, params=params, headers=self._headers
        )
        if response.status_code in (401, 403):
            raise CredentialsRejectedError(
                PROVIDER,
                f"GoPro refused the stored token on {path} (HTTP {response.status_code}); "
                "renew the credentials in the gopro/credentials secret",
            )
        if response.status_code == 404:
            raise TransferRejectedError(f"{where}: GoPro has no such media (HTTP 404)")
        if response.status_code != 200:
            raise GoProProtocolError(f"{where}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise GoProProtocolError(f"{where}: the answer is not JSON") from None

    def _page(self, number: int) -> ListingPage:
        body = self._get_json(
            "/media/search",
            f"listing page {number}",
            {
                "page": number,
                "per_page": self._settings.page_size,
                "order_by": "created_at",
                "fields": ",".join(FIELDS),
            },
        )
        try:
            return parse_search_page(PROVIDER, body, number)
        except GoProProtocolError as error:
            # The page itself is not the contract's shape: the listing stops (a failure),
            # and the change is reported on its own too.
            came = str(error).split(": ", 1)[-1][:120]
            self.note(Change(ChangeKind.LISTING_SHAPE, "listing page", "the contract's HAL page",
                             came))  # fmt: skip
            raise

    def unreadable_items(self) -> int:
        return self.report.malformed

    def list_media(self) -> Iterator[MediaItem]:
        """Every item of the library, first page to last."""
        for page in self.pages():
            yield from page.items

    def pages(self, start: str | None = None) -> Iterator[MediaPage]:
        """Pages from the first, or from `start`: the number of the page to read next."""
        self.report = ListingReport()
        seen: set[str] = set()  # ids only: bounded by the library, whatever the pages say
        number = 1 if start is None else _page_number(start, self._settings.max_pages)
        while number <= self._settings.max_pages:
            page = self._page(number)
            size = page.per_page or self._settings.page_size
            if page.total_pages and number < page.total_pages and page.raw_count < size:
                self.report.short_pages += 1  # seen to come back short once: ask again
                page = self._page(number)
            self.report.add(page)
            for change in page.changes:
                self.note(change)
            fresh = [item for item in page.items if item.media_id not in seen]
            self.report.repeated += len(page.items) - len(fresh)
            seen.update(item.media_id for item in fresh)
            last = page.raw_count == 0 or (
                page.total_pages is not None and number >= page.total_pages
            )
            if not last and page.items and not fresh:
                # Nothing in the API bounds a listing: a page of nothing new means a server
                # going round in circles. End cleanly with what was listed, and say so.
                self.report.stalled_at_page = number
                last = True
            if last:
                self._log_report()
            yield MediaPage(tuple(fresh), None if last else str(number + 1))
            if last:
                return
            number += 1
        raise GoProProtocolError(f"the listing did not end within {self._settings.max_pages} pages")

    def _log_report(self) -> None:
        report = self.report
        log.log(
            logging.WARNING if report.malformed or report.stalled_at_page else logging.INFO,
            "listed %d items on %d pages, %d unreadable",
            report.listed,
            report.pages,
            report.malformed,
            extra={"event_type": "gopro.listing", "metadata": vars(report)},
        )

    def _resolve(self, item: MediaItem) -> list[Original]:
        media_id = item.media_id
        body = self._get_json(f"/media/{media_id}/download", f"download of {media_id}")
        try:
            originals = choose_originals(body, media_id, photo_set=is_photo_set(item))
        except TransferRejectedError as error:
            self.note(
                Change(ChangeKind.NO_SOURCE, "download answer", "a `source` variation",
                       "none", f"{media_id}: {error}"[:200])
            )  # fmt: skip
            raise
        for original in originals:
            check_download_url(original.url, self._settings.allow_loopback)
            check_download_url(original.head_url, self._settings.allow_loopback)
        return originals

    def _chapter(self, item: MediaItem, number: int, count: int) -> Original:
        """Chapter `number` resolved again (its signed URLs expired)."""
        originals = self._resolve(item)
        if len(originals) != count:
            raise TransientSourceError(
                f"download of {item.media_id}: GoPro now lists {len(originals)} chapters, "
                f"not {count}"
            )
        return originals[number - 1]

    def open_chapters(self, item: MediaItem) -> list[MediaDownload]:
        originals = self._resolve(item)
        return [
            GoProDownload(
                self._client, self._settings, item,
                partial(self._chapter, item, original.chapter, len(originals)),
                original, note=self.note,
            )
            for original in originals
        ]  # fmt: skip
