"""How the GoPro adapters talk to the API: base URL, paging, timeouts and retry bounds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from domain.errors import InvalidSettingError

MEDIA_ACCEPT = "application/vnd.gopro.jk.media+json; version=2.0.0"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def gopro_url(text: str) -> httpx.URL:
    """`text` as a URL, or the setting's error naming what is wrong with it."""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as error:
        raise InvalidSettingError("gopro base_url", f"is not a URL ({error}): {text!r}") from None
    if not url.host:
        raise InvalidSettingError("gopro base_url", f"has no host: {text!r}")
    return url


@dataclass(frozen=True)
class GoProSettings:
    base_url: str = "https://api.gopro.com"
    allow_loopback: bool = False
    """Accept http and loopback addresses for the API and download URLs: the emulator."""
    page_size: int = 100
    user_agent: str = BROWSER_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    api_attempts: int = 4
    """Tries of one API call: the first and three retries."""
    retry_wait: float = 1.0
    """First back-off; it doubles each try."""
    retry_max_wait: float = 30.0
    """No single wait is longer; a Retry-After above it ends the call instead."""
    retry_budget: float = 120.0
    """No call keeps retrying past this many seconds."""
    stream_attempts: int = 6
    """Consecutive failed reads of a download, without a byte of progress, before giving up."""
    url_refreshes: int = 3
    """Times an expired download URL is resolved anew within one stream."""
    max_pages: int = 10_000
    thumbnail_url: str = "https://images-01.gopro.com/resize/450wwp/{token}"
    """Where an item's thumbnail is served; `{token}` is the listing's `token` field."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        url = gopro_url(self.base_url)
        loopback = url.host in LOOPBACK_HOSTS
        if url.scheme != "https" and not (self.allow_loopback and loopback):
            raise InvalidSettingError(
                "gopro base_url", f"must be https (http only for a loopback emulator): {url}"
            )
        if "{token}" not in self.thumbnail_url:
            raise InvalidSettingError(
                "gopro thumbnail_url", f"must contain {{token}}: {self.thumbnail_url!r}"
            )
        if not 1 <= self.page_size <= 100:
            raise InvalidSettingError("gopro page_size", "must be between 1 and 100")
        for name in ("api_attempts", "stream_attempts", "url_refreshes", "max_pages"):
            if getattr(self, name) < 1:
                raise InvalidSettingError(f"gopro {name}", "must be at least 1")

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout, read=self.read_timeout, write=60.0, pool=10.0
        )


def make_client(settings: GoProSettings) -> httpx.Client:
    """One client for API calls and downloads. It carries no credentials: API calls add
    them per request, so a download URL on another host never receives a token."""
    return httpx.Client(
        base_url=settings.base_url,
        timeout=settings.timeout(),
        headers={"User-Agent": settings.user_agent},
        follow_redirects=False,
    )
