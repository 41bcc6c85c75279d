"""What the stack deploys, as plain data shared by the Pulumi program and the local sandbox,
so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.keys import ARCHIVE_PREFIX, CATALOG_PREFIX, RUNS_PREFIX, THUMBNAILS_PREFIX
from domain.selection import DEFAULT_KINDS, MEDIA_KINDS, Selection
from infra.config import StackSettings
from infra.names import FUNCTIONS, SECRET_TEMPLATE

RUNTIME = "python3.12"
PYTHON = "3.12"
ABORT_INCOMPLETE_UPLOADS_DAYS = 7
RUNS_KEPT_DAYS = 14
"""How long a run's working files stay (old versions: a day), for looking into a run."""
CATALOG_VERSIONS_KEPT_DAYS = 30
"""A replaced catalog stays this long as an old version; the current one stays."""


@dataclass(frozen=True)
class FunctionSpec:
    base_name: str
    handler: str
    memory_mb: int
    timeout_seconds: int


SPECS = {
    "authenticator": FunctionSpec(FUNCTIONS["authenticator"], "authenticator", 256, 60),
    "lister": FunctionSpec(FUNCTIONS["lister"], "lister", 512, 300),
    "downloader": FunctionSpec(FUNCTIONS["downloader"], "downloader", 512, 900),  # R10.5
    "summary": FunctionSpec(FUNCTIONS["summary"], "summary", 512, 300),
}


@dataclass(frozen=True)
class Tier:
    days: int
    storage_class: str


def archive_tiers(settings: StackSettings) -> list[Tier]:
    """R5.3: STANDARD -> DEEP_ARCHIVE, for current and old versions; with GLACIER_IR between
    them when the stack sets glacierIrAfterDays (R5.2; StackSettings keeps the two 90 days
    apart, as S3 requires)."""
    glacier_ir = settings.glacier_ir_after_days
    return [
        *([Tier(glacier_ir, "GLACIER_IR")] if glacier_ir is not None else []),
        Tier(settings.deep_archive_after_days, "DEEP_ARCHIVE"),
    ]


def lifecycle_configuration(settings: StackSettings) -> dict[str, Any]:
    """The stack's lifecycle rules, in S3's API shape (the sandbox puts them as they are;
    the Pulumi program converts them): R5.1-R5.3 on `gopro-videos/`, plus: old versions
    follow the same tiers, unfinished multipart uploads are removed after 7 days (longer
    than any paused transfer waits), and the runs' working files under `runs/` expire
    after 14 days; the catalog (`catalog/`, STANDARD, outside the archive tiers) keeps its
    replaced versions for 30 days, and so do the thumbnails (`thumbnails/`, STANDARD, hot:
    no rule moves them to an archive tier)."""
    tiers = archive_tiers(settings)
    return {
        "Rules": [
            {
                "ID": "archive-tiers",
                "Status": "Enabled",
                "Filter": {"Prefix": ARCHIVE_PREFIX},
                "Transitions": [{"Days": t.days, "StorageClass": t.storage_class} for t in tiers],
                "NoncurrentVersionTransitions": [
                    {"NoncurrentDays": t.days, "StorageClass": t.storage_class} for t in tiers
                ],
            },
            {
                "ID": "abort-incomplete-uploads",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {
                    "DaysAfterInitiation": ABORT_INCOMPLETE_UPLOADS_DAYS
                },
            },
            {
                "ID": "expire-run-files",
                "Status": "Enabled",
                "Filter": {"Prefix": RUNS_PREFIX},
                "Expiration": {"Days": RUNS_KEPT_DAYS},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
            },
            {
                "ID": "expire-old-catalogs",
                "Status": "Enabled",
                "Filter": {"Prefix": CATALOG_PREFIX},
                "NoncurrentVersionExpiration": {"NoncurrentDays": CATALOG_VERSIONS_KEPT_DAYS},
            },
            {
                "ID": "expire-old-thumbnails",
                "Status": "Enabled",
                "Filter": {"Prefix": THUMBNAILS_PREFIX},
                "NoncurrentVersionExpiration": {"NoncurrentDays": CATALOG_VERSIONS_KEPT_DAYS},
            },
        ]
    }


def handler_environment(settings: StackSettings) -> dict[str, str]:
    """The functions' settings that come from the stack rather than from other resources."""
    return {
        "CREDENTIALS_SECRET": settings.name(SECRET_TEMPLATE),
        "GOPRO_API_URL": settings.gopro_api_url,
        "METRICS": "emf",
        "NIGHTLY_VERIFY": "true" if settings.nightly_verify else "false",
        "ORIGIN_CHECK": "true" if settings.origin_check else "false",
        "RESTORE_DRILL": "true" if settings.restore_drill else "false",
        **selection_environment(settings.selection),
    }


def selection_environment(selection: Selection) -> dict[str, str]:
    """The stack's choice of what to archive, as the functions read it (only what is set)."""
    found = {
        "CAPTURE_SINCE": selection.captured_since.isoformat() if selection.captured_since else "",
        "CAPTURE_UNTIL": selection.captured_until.isoformat() if selection.captured_until else "",
        "MEDIA_KINDS": ""
        if selection.kinds == DEFAULT_KINDS
        else ",".join(k for k in MEDIA_KINDS if k in selection.kinds),
        "CAMERAS": ",".join(sorted(selection.cameras)),
    }
    return {name: value for name, value in found.items() if value}
