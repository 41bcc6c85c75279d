"""What shared/spec/gopro-cloud-api.md says GoPro answers, as data, and the comparison of an
answer with it: each difference is a domain.drift.Change. The values are the contract's;
a value GoPro adds later is a change until the contract (and this file) knows it.

A Change never carries a token or a signed URL: a token is described by its shape, a URL
not at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from domain.drift import Change, ChangeKind

TYPES = frozenset({
    "Photo", "Video", "TimeLapse", "TimeLapseVideo", "Burst", "BurstVideo", "Chaptered",
    "Livestream", "Looped", "LoopedVideo", "Continuous", "ExternalVideo", "Session",
    "MultiClipEdit", "Audio", "Edit",
})  # fmt: skip
READINESS = frozenset({
    "ready", "failure", "loading", "registered", "transcoding", "processing", "uploading",
    "pretranscoding", "updating", "live", "rendering", "stabilizing", "unknown",
})  # fmt: skip
FIELDS = frozenset({
    "id", "filename", "file_extension", "type", "captured_at", "created_at", "file_size",
    "source_duration", "width", "height", "resolution", "ready_to_view", "camera_model",
    "item_count", "gopro_user_id", "token", "captured_at_timezone", "content_title",
    "composition", "available_labels", "reprocessed_at", "moments_count", "fov", "stabilized",
    "submitted_at",
})  # fmt: skip
RELIED: Mapping[str, tuple[type, ...]] = {
    "id": (str,),
    "created_at": (str,),
    "type": (str,),
    "ready_to_view": (str,),
    "file_size": (int, type(None)),
    "source_duration": (str, type(None)),
    "filename": (str, type(None)),
    "captured_at": (str, type(None)),
}
"""Fields the sync reads, and the JSON types the contract gives them."""
ALWAYS = frozenset({"id", "created_at", "type", "ready_to_view"})
"""Fields every item carries."""
_PART = re.compile(r"[A-Za-z0-9_-]*")
_PLAIN_ETAG = re.compile(r'"?[0-9a-f]{32}"?')
_MULTIPART_ETAG = re.compile(r'"?[0-9a-f]{32}-[0-9]{1,5}"?')
TOKEN_SHAPES = frozenset({"JWE"})
"""Since late 2024 GoPro's access tokens are JWE (five dot-separated parts) [seen]."""


def token_shape(token: str) -> str:
    """How a token looks, never what it says: JWE (five base64url parts), JWT (three), or
    opaque."""
    parts = token.split(".")
    if all(_PART.fullmatch(p) for p in parts):
        if len(parts) == 5:
            return "JWE"
        if len(parts) == 3:
            return "JWT"
    return "opaque"


def token_change(token: str) -> Change | None:
    shape = token_shape(token)
    if shape in TOKEN_SHAPES:
        return None
    return Change(ChangeKind.TOKEN_SHAPE, "access token", "a JWE (five parts)", f"a {shape} token")


def item_changes(entry: Mapping[str, object]) -> list[Change]:
    """One listing item against the contract: unknown enums, relied fields missing or of
    another type, and (harmless) fields the contract does not name."""
    found = []
    example = f"item {str(entry.get('id'))[:40]}"
    kind, ready = entry.get("type"), entry.get("ready_to_view")
    if isinstance(kind, str) and kind not in TYPES:
        found.append(Change(ChangeKind.UNKNOWN_TYPE, "type", "a type the contract lists",
                            repr(kind[:40]), example))  # fmt: skip
    if isinstance(ready, str) and ready not in READINESS:
        found.append(Change(ChangeKind.UNKNOWN_READINESS, "ready_to_view",
                            "a value the contract lists", repr(ready[:40]), example))  # fmt: skip
    for name, types in RELIED.items():
        if name not in entry:
            if name in ALWAYS:
                found.append(Change(ChangeKind.FIELD_MISSING, name, "present", "missing", example))
            continue
        value = entry[name]
        if isinstance(value, bool) or not isinstance(value, types):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            found.append(Change(ChangeKind.FIELD_TYPE, name, wanted, type(value).__name__,
                                example))  # fmt: skip
    for name in sorted(set(entry) - FIELDS)[:5]:
        found.append(Change(ChangeKind.NEW_FIELD, name[:40], "not named", "present", example))
    return found


def etag_change(etag: str | None) -> Change | None:
    """An ETag of a form the contract does not describe (none at all is allowed)."""
    if etag is None or _PLAIN_ETAG.fullmatch(etag) or _MULTIPART_ETAG.fullmatch(etag):
        return None
    shape = "weak" if etag.startswith("W/") else f"{len(etag)} characters"
    return Change(ChangeKind.ETAG_FORM, "ETag", "an MD5 (32 hex), or one with -N parts",
                  f"another form ({shape})")  # fmt: skip
