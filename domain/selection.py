"""What the owner chose to archive: a capture-date range, kinds of media, cameras.

A choice applies from the next listing on and never deletes what is archived: it only
decides what discovery picks. Dates are whole days in UTC, both ends included; an item
without a capture time is placed by its upload time (as its key is). Cameras compare
without case; with cameras chosen, an item that names no camera (a phone upload, an edit)
is left out. Each setting's error names it, in the words the stack uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.errors import InvalidSettingError
from domain.keys import placement_time

MEDIA_KINDS = ("videos", "photos", "time-lapse", "bursts")
"""videos: every recording (what is archived by default); photos: single photos;
time-lapse and bursts: photo sets, archived photo by photo."""
DEFAULT_KINDS = frozenset({"videos"})


def _date(setting: str, text: str | None) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidSettingError(setting, f"must be a date as YYYY-MM-DD, not {text!r}") from None


def setting_list(setting: str, text: str | None) -> list[str] | None:
    """A list setting as the stack holds it: a JSON list of text, or comma-separated text
    (None: unset)."""
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except ValueError:
            raise InvalidSettingError(setting, f"is not a JSON list: {text!r}") from None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InvalidSettingError(setting, f"must be a list of text, not {text!r}")
    else:
        values = stripped.split(",")
    found = [v.strip() for v in values if v.strip()]
    if not found:
        raise InvalidSettingError(setting, f"names nothing: {text!r}")
    return found


@dataclass(frozen=True)
class Selection:
    captured_since: date | None = None
    captured_until: date | None = None
    kinds: frozenset[str] = DEFAULT_KINDS
    cameras: frozenset[str] = frozenset()
    """As the stack names them (compared without case); empty: every camera."""
    _folded: frozenset[str] = field(init=False, repr=False, compare=False)
    """The cameras casefolded, once: every listed item is compared with them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_folded", frozenset(c.casefold() for c in self.cameras))
        unknown = sorted(self.kinds - set(MEDIA_KINDS))
        if unknown or not self.kinds:
            raise InvalidSettingError(
                "mediaTypes", f"must name some of {', '.join(MEDIA_KINDS)}, not {unknown}"
            )
        if (
            self.captured_since
            and self.captured_until
            and self.captured_since > self.captured_until
        ):
            raise InvalidSettingError(
                "captureUntil",
                f"({self.captured_until}) is before captureSince ({self.captured_since})",
            )

    @classmethod
    def parse(
        cls,
        since: str | None = None,
        until: str | None = None,
        kinds: str | None = None,
        cameras: str | None = None,
    ) -> Selection:
        """From the settings' text; each error names the stack setting."""
        chosen = setting_list("mediaTypes", kinds)
        return cls(
            captured_since=_date("captureSince", since),
            captured_until=_date("captureUntil", until),
            kinds=DEFAULT_KINDS if chosen is None else frozenset(k.lower() for k in chosen),
            cameras=frozenset(setting_list("cameras", cameras) or ()),
        )

    def date_allows(self, captured_at: datetime | None, uploaded_at: datetime) -> bool:
        day = placement_time(captured_at, uploaded_at).date()
        if self.captured_since is not None and day < self.captured_since:
            return False
        return self.captured_until is None or day <= self.captured_until

    def camera_allows(self, camera: str | None) -> bool:
        if not self.cameras:
            return True
        return camera is not None and camera.casefold() in self._folded

    def describe(self) -> str:
        """One line: what the selection archives."""
        parts = [" and ".join(k for k in MEDIA_KINDS if k in self.kinds)]
        if self.captured_since or self.captured_until:
            since = self.captured_since.isoformat() if self.captured_since else "the first"
            until = self.captured_until.isoformat() if self.captured_until else "today"
            parts.append(f"captured from {since} to {until}")
        if self.cameras:
            parts.append("from cameras " + ", ".join(sorted(self.cameras)))
        return ", ".join(parts)

    @property
    def everything(self) -> bool:
        """The default: every video, whenever and however shot."""
        return self == Selection()
