"""GoProPreviews: an item's thumbnail from GoPro's image service.

The listing's `token` field names it: `https://images-0N.gopro.com/resize/450wwp/<token>`
serves a JPEG about 450 pixels wide, with the API's Authorization (contract, revision 3).
The URL's form is a setting (`thumbnail_url`, `{token}` replaced), checked like a download
URL (https to a public address). The answer is read to at most THUMBNAIL_LIMIT + 1 bytes;
every failure is a TransientSourceError: a thumbnail is tried again on a later night.
"""

from __future__ import annotations

import httpx

from adapters.gopro.errors import UnsafeUrlError, redact
from adapters.gopro.http import api_headers
from adapters.gopro.settings import GoProSettings
from adapters.gopro.urls import check_download_url
from domain.credentials import Credentials
from domain.errors import TransientSourceError
from domain.model import MediaItem
from domain.thumbnails import THUMBNAIL_LIMIT


class GoProPreviews:
    def __init__(
        self, client: httpx.Client, settings: GoProSettings, credentials: Credentials
    ) -> None:
        self._client = client
        self._settings = settings
        self._headers = api_headers(credentials) | {"Accept": "image/jpeg"}

    def url(self, item: MediaItem) -> str:
        if item.preview is None:
            raise TransientSourceError(f"GoPro lists no thumbnail for {item.media_id}")
        return self._settings.thumbnail_url.replace("{token}", item.preview)

    def preview(self, item: MediaItem) -> bytes:
        url = self.url(item)
        where = f"thumbnail of {item.media_id}: GET {redact(url)}"
        try:
            check_download_url(url, self._settings.allow_loopback)
            with self._client.stream("GET", url, headers=self._headers) as response:
                if response.status_code != 200:
                    raise TransientSourceError(f"{where} answered HTTP {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > THUMBNAIL_LIMIT:
                        raise TransientSourceError(f"{where} served over {THUMBNAIL_LIMIT} bytes")
                return bytes(data)
        except UnsafeUrlError as error:
            raise TransientSourceError(f"thumbnail of {item.media_id}: {error}") from None
        except httpx.HTTPError as error:
            raise TransientSourceError(f"{where} failed: {type(error).__name__}") from None
