"""Errors of the GoPro adapters, as domain errors so the use cases can judge them."""

from __future__ import annotations

import httpx

from domain.errors import DomainError


class GoProProtocolError(DomainError):
    """GoPro answered something the contract does not allow; the message names what."""


class UnsafeUrlError(DomainError):
    """A download URL the adapter refuses to fetch (not https, or a private address)."""


def redact(url: str | httpx.URL) -> str:
    """A URL without its query string (signed URLs carry their credentials there) and
    without userinfo (`https://user:pw@host/`)."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(query=None, fragment=None, userinfo=b""))
