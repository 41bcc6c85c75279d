"""Noticing when the provider changes under us.

The provider's API is unofficial: it changes without notice (tokens from JWT to JWE, an
endpoint answering 200 with empty files, new `ready_to_view` values). Adapters compare
what the provider answered with the contract they are written to and note each difference
as a `Change`; here each is judged:

- **A change not seen before** raises one alert of its own, "GoPro changed: …" with what
  was expected and what came, distinct from transfer failures, and counts in a metric.
- **It is remembered** (ChangeMemory): the same change, seen again on later nights or by
  another function at once, alerts nobody again. Remembering is an atomic create, so two
  functions seeing it together send one alert between them.
- **What is harmless** (a field the contract does not name) is logged, never alerted.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from domain.errors import DomainError

if TYPE_CHECKING:  # the ports name Change: they are imported for their types only
    from domain.ports import ChangeMemory, Metrics, Notifier

log = logging.getLogger("cloudsync.drift")


class ChangeKind(StrEnum):
    TOKEN_SHAPE = "token_shape"  # noqa: S105 - a kind of change, not a secret
    LISTING_SHAPE = "listing_shape"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_READINESS = "unknown_readiness"
    FIELD_MISSING = "field_missing"
    FIELD_TYPE = "field_type"
    NO_SOURCE = "no_source"
    EMPTY_FILE = "empty_file"
    NO_LENGTH = "no_length"
    ETAG_FORM = "etag_form"
    LISTING_SHRANK = "listing_shrank"
    NEW_FIELD = "new_field"
    """Harmless: logged, not alerted."""


HARMLESS = frozenset({ChangeKind.NEW_FIELD})


@dataclass(frozen=True)
class Change:
    """One way the provider's answer differs from the contract."""

    kind: ChangeKind
    subject: str
    """What changed, short and stable across nights (`type`, `file_size`, `ETag`)."""
    expected: str
    came: str
    """What came instead; never a token or a signed URL (the adapter says the shape)."""
    detail: str = ""
    """Figures of this sighting (counts, an example id): shown, not part of its identity."""

    @property
    def harmless(self) -> bool:
        return self.kind in HARMLESS

    @property
    def identity(self) -> str:
        """The same change on any night has the same identity."""
        text = f"{self.kind.value}\n{self.subject}\n{self.came}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def line(self) -> str:
        more = f" ({self.detail})" if self.detail else ""
        return f"{self.subject}: expected {self.expected}, got {self.came}{more}"


@dataclass
class ChangeOutcome:
    new: list[Change]
    known: int
    harmless: int


def report_changes(
    provider: str,
    changes: Iterable[Change],
    memory: ChangeMemory,
    alerts: Notifier,
    metrics: Metrics,
) -> ChangeOutcome:
    """Alert once for each change not seen before; log the harmless ones. A failure to
    remember, alert or count is logged and never fails the caller's work."""
    outcome = ChangeOutcome([], 0, 0)
    unique = {change.identity: change for change in changes}
    for change in unique.values():
        if change.harmless:
            outcome.harmless += 1
            log.info("%s: %s (harmless)", provider, change.line(),
                     extra={"event_type": "provider.harmless_change"})  # fmt: skip
            continue
        try:
            if not memory.remember(provider, change):
                outcome.known += 1
                continue
            outcome.new.append(change)
            metrics.provider_changed(provider, change.kind.value)
        except DomainError as error:
            log.warning("%s: a change could not be remembered: %s", provider, error)
            continue
    if outcome.new:
        name = provider_name(provider)
        subject = f"{name} changed: " + "; ".join(c.subject for c in outcome.new)[:60]
        message = "\n".join(
            [
                f"{name} answered differently from the contract this project is written to:",
                *(f"- {c.kind.value}: {c.line()}" for c in outcome.new),
                "",
                "Each change is reported once. Check the last run and the troubleshooting "
                "page ('GoPro changed'); the archive already made is not touched.",
            ]
        )
        try:
            alerts.alert(subject[:100], message)
        except DomainError as error:
            log.warning("%s: the change alert could not be sent: %s", provider, error)
    return outcome


def provider_name(provider: str) -> str:
    return {"gopro": "GoPro"}.get(provider, provider)
