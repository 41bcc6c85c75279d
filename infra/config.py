"""Typed stack configuration: every setting named, checked, and given the spec's default."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ARCHITECTURES = ("arm64", "x86_64")
ENVIRONMENTS = ("dev", "prod")


class StackConfigError(ValueError):
    """A stack setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class StackSettings:
    environment: str
    lambda_architecture: str = "arm64"
    glacier_ir_after_days: int = 7
    """R5.2: STANDARD -> GLACIER_IR after this many days."""
    deep_archive_after_days: int = 14
    """R5.3: -> DEEP_ARCHIVE this many days after creation."""

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
        if self.glacier_ir_after_days < 0:
            raise StackConfigError("cloud-sync:glacierIrAfterDays must not be negative")
        # S3 requires an object to stay in Glacier IR for 90 days' worth of billing, and a
        # lifecycle rule's later transition to come at least a day after the earlier one.
        if self.deep_archive_after_days <= self.glacier_ir_after_days:
            raise StackConfigError(
                "cloud-sync:deepArchiveAfterDays must be later than glacierIrAfterDays "
                f"({self.deep_archive_after_days} <= {self.glacier_ir_after_days})"
            )

    @classmethod
    def read(cls, get: Callable[[str], str | None]) -> StackSettings:
        """Build from a lookup of the stack's `cloud-sync:` keys (None: not set)."""
        environment = get("environment")
        if environment is None:
            raise StackConfigError("cloud-sync:environment is not set for this stack")

        def whole(key: str, default: int) -> int:
            text = get(key)
            if text is None:
                return default
            try:
                return int(text)
            except ValueError:
                raise StackConfigError(
                    f"cloud-sync:{key} must be a whole number of days, not {text!r}"
                ) from None

        return cls(
            environment=environment,
            lambda_architecture=get("lambdaArchitecture") or "arm64",
            glacier_ir_after_days=whole("glacierIrAfterDays", 7),
            deep_archive_after_days=whole("deepArchiveAfterDays", 14),
        )
