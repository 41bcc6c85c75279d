"""The provider registry (R11.3-R11.5): which adapters serve a provider name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from adapters.gopro.auth import GoProAuth
from adapters.gopro.previews import GoProPreviews
from adapters.gopro.settings import GoProSettings
from adapters.gopro.source import GoProMediaSource
from domain.credentials import Credentials
from domain.ports import MediaSource, PreviewSource, ProviderAuth, ProviderSignIn


class UnknownProviderError(ValueError):
    """The event names a provider this deployment does not know."""


@dataclass(frozen=True)
class ProviderAdapters:
    """How to reach one provider: its auth endpoints, and its library given credentials."""

    auth: Callable[[], ProviderAuth]
    source: Callable[[Credentials], MediaSource]
    signer: Callable[[], ProviderSignIn] | None = None
    """The password sign-in a person uses once at the command line (None: it has none)."""
    previews: Callable[[Credentials], PreviewSource] | None = None
    """The items' thumbnails (None: the provider serves none)."""


class ProviderRegistry:
    def __init__(self, providers: Mapping[str, ProviderAdapters]) -> None:
        self._providers = dict(providers)

    def __getitem__(self, name: str) -> ProviderAdapters:
        adapters = self._providers.get(name)
        if adapters is None:
            known = ", ".join(sorted(self._providers))
            raise UnknownProviderError(f"unknown provider {name!r}; this deployment knows: {known}")
        return adapters

    def names(self) -> list[str]:
        return sorted(self._providers)


def gopro_adapters(client: httpx.Client, settings: GoProSettings) -> ProviderAdapters:
    return ProviderAdapters(
        auth=lambda: GoProAuth(client, settings),
        source=lambda credentials: GoProMediaSource(client, settings, credentials),
        signer=lambda: GoProAuth(client, settings),
        previews=lambda credentials: GoProPreviews(client, settings, credentials),
    )
