"""Which download URLs the adapter fetches: https to public addresses only.

Signed URLs come from the API's answer; a tampered or buggy answer must not turn the
downloader into a client of the Lambda's own network (metadata service, VPC hosts). The
emulator's loopback http URLs pass only when the adapter is configured for it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import httpx

from adapters.gopro.errors import UnsafeUrlError, redact
from adapters.gopro.settings import LOOPBACK_HOSTS
from domain.errors import TransientSourceError

Resolver = Callable[[str], list[str]]


def resolve_host(host: str) -> list[str]:
    """Every address the host resolves to."""
    infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def check_download_url(url: str, allow_loopback: bool, resolve: Resolver = resolve_host) -> None:
    parsed = httpx.URL(url)
    host = parsed.host
    if allow_loopback and host in LOOPBACK_HOSTS and parsed.scheme in ("http", "https"):
        return
    if parsed.scheme != "https":
        raise UnsafeUrlError(f"download URL {redact(url)} is not https")
    if not host:
        raise UnsafeUrlError(f"download URL {redact(url)} names no host")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve(host)
        except OSError as error:
            raise TransientSourceError(f"cannot resolve download host {host}: {error}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise UnsafeUrlError(
                f"download URL {redact(url)} points at {ip}, which is not a public address"
            )
