"""Typed stack configuration: every setting named, checked, and given the spec's default."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.errors import InvalidSettingError
from domain.selection import Selection
from infra.names import SECRET_TEMPLATE

ARCHITECTURES = ("arm64", "x86_64")
ENVIRONMENTS = ("dev", "prod")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class StackConfigError(ValueError):
    """A stack setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class StackSettings:
    environment: str
    lambda_architecture: str = "arm64"
    glacier_ir_after_days: int | None = None
    """Optional: STANDARD -> GLACIER_IR after this many days (R5.2; off by default, see
    GLACIER_IR_MINIMUM_DAYS)."""
    deep_archive_after_days: int = 14
    """R5.3: -> DEEP_ARCHIVE this many days after creation."""
    log_retention_days: int = 30
    alert_email: str | None = None
    deletion_protection: bool = False
    gopro_api_url: str = "https://api.gopro.com"
    nightly_verify: bool = True
    """After each run, check tonight's archived objects and a rotating thirtieth of the
    rest against the tracker (HeadObject only), and alert on a discrepancy."""
    origin_check: bool = True
    """Check every file's bytes against GoPro's CDN ETag (an MD5 of the origin file)."""
    downloader_reserved_concurrency: int | None = None
    """Reserve this many concurrent executions for the downloader, so that other functions
    of the account cannot throttle the downloads. Off by default: AWS refuses a
    reservation that leaves fewer than 10 unreserved executions in the account, and a new
    account may have only 10 in all."""
    restore_drill: bool = True
    """Once a month, restore one small archived object (Bulk) and check it byte for byte."""
    selection: Selection = field(default_factory=Selection)
    """What to archive (captureSince, captureUntil, mediaTypes, cameras): from the next
    listing on; it never deletes what is archived."""

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise StackConfigError(
                f"cloud-sync:environment must be one of {', '.join(ENVIRONMENTS)}, "
                f"not {self.environment!r}"
            )
        if self.lambda_architecture not in ARCHITECTURES:
            raise StackConfigError(
                f"cloud-sync:lambdaArchitecture must be one of {', '.join(ARCHITECTURES)}, "
                f"not {self.lambda_architecture!r}"
            )
        reserved = self.downloader_reserved_concurrency
        if reserved is not None and reserved < DOWNLOADS_AT_ONCE:
            raise StackConfigError(
                f"cloud-sync:downloaderReservedConcurrency ({reserved}) must be at least "
                f"{DOWNLOADS_AT_ONCE}, the downloads the workflow runs at once (fewer would "
                "throttle its own downloads); unset it to reserve nothing"
            )
        if self.deep_archive_after_days < 0:
            raise StackConfigError("cloud-sync:deepArchiveAfterDays must not be negative")
        if self.glacier_ir_after_days is not None:
            if self.glacier_ir_after_days < 0:
                raise StackConfigError("cloud-sync:glacierIrAfterDays must not be negative")
            earliest = self.glacier_ir_after_days + GLACIER_IR_MINIMUM_DAYS
            if self.deep_archive_after_days < earliest:
                raise StackConfigError(
                    f"cloud-sync:deepArchiveAfterDays ({self.deep_archive_after_days}) must be "
                    f"at least {GLACIER_IR_MINIMUM_DAYS} days after "
                    f"cloud-sync:glacierIrAfterDays ({self.glacier_ir_after_days}), so at "
                    f"least {earliest}: S3 refuses a lifecycle whose DEEP_ARCHIVE transition "
                    f"comes less than {GLACIER_IR_MINIMUM_DAYS} days after a GLACIER_IR one. "
                    "Unset glacierIrAfterDays to go straight to DEEP_ARCHIVE"
                )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise StackConfigError(
                "cloud-sync:logRetentionDays must be one CloudWatch Logs accepts "
                f"({', '.join(map(str, LOG_RETENTION_DAYS))}), not {self.log_retention_days}"
            )
        if self.alert_email is not None and not _EMAIL.fullmatch(self.alert_email):
            raise StackConfigError(
                f"cloud-sync:alertEmail is not an e-mail address: {self.alert_email!r}"
            )
        if not self.gopro_api_url.startswith("https://"):
            raise StackConfigError("cloud-sync:goproApiUrl must be an https URL")

    def name(self, base: str) -> str:
        """The reference README's names in prod; dev gets a suffix so both stacks fit one
        account."""
        return base if self.environment == "prod" else f"{base}-{self.environment}"

    @property
    def secret_name(self) -> str:
        return self.name(SECRET_TEMPLATE.format(provider="gopro"))

    @classmethod
    def read(cls, get: Callable[[str], str | None]) -> StackSettings:
        """Build from a lookup of the stack's `cloud-sync:` keys (None: not set)."""
        environment = get("environment")
        if environment is None:
            raise StackConfigError("cloud-sync:environment is not set for this stack")

        def whole(key: str, default: int) -> int:
            found = optional_whole(key)
            return default if found is None else found

        def optional_whole(key: str) -> int | None:
            text = get(key)
            if text is None or not text.strip():
                return None
            try:
                return int(text)
            except ValueError:
                raise StackConfigError(
                    f"cloud-sync:{key} must be a whole number, not {text!r}"
                ) from None

        def flag(key: str, default: bool = False) -> bool:
            text = (get(key) or str(default)).lower()
            if text not in ("true", "false"):
                raise StackConfigError(f"cloud-sync:{key} must be true or false, not {text!r}")
            return text == "true"

        try:
            selection = Selection.parse(
                get("captureSince"), get("captureUntil"), get("mediaTypes"), get("cameras")
            )
        except InvalidSettingError as error:
            raise StackConfigError(f"cloud-sync:{error.setting} {error.reason}") from None
        if any("," in camera for camera in selection.cameras):
            raise StackConfigError("cloud-sync:cameras names a camera with a comma in it")
        return cls(
            environment=environment,
            selection=selection,
            lambda_architecture=get("lambdaArchitecture") or "arm64",
            glacier_ir_after_days=optional_whole("glacierIrAfterDays"),
            deep_archive_after_days=whole("deepArchiveAfterDays", 14),
            log_retention_days=whole("logRetentionDays", 30),
            alert_email=get("alertEmail") or None,
            deletion_protection=flag("deletionProtection"),
            gopro_api_url=get("goproApiUrl") or "https://api.gopro.com",
            nightly_verify=flag("nightlyVerify", default=True),
            origin_check=flag("originCheck", default=True),
            downloader_reserved_concurrency=optional_whole("downloaderReservedConcurrency"),
            restore_drill=flag("restoreDrill", default=True),
        )


DOWNLOADS_AT_ONCE = 5
"""The Distributed Map's MaxConcurrency (infra/asl.py's WorkflowOptions; a test keeps the
two equal)."""

GLACIER_IR_MINIMUM_DAYS = 90
"""S3 refuses a DEEP_ARCHIVE transition less than this many days after a GLACIER_IR one
(API error "Days in the Transition action for StorageClass DEEP_ARCHIVE must be 90 days
more than Transition for StorageClass GLACIER_IR"); GLACIER_IR also bills 90 days at least."""

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
