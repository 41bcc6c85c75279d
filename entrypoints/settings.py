"""Settings read once from the environment; a missing or malformed one stops start-up with
its name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.origin import DEFAULT_MAX_CANDIDATES
from domain.units import MIB, PART_SIZE, SINGLE_PUT_LIMIT


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is not set")
    return value


def _tried(env: Mapping[str, str]) -> int:
    value = _number(env, "ORIGIN_PART_SIZES_TRIED", DEFAULT_MAX_CANDIDATES)
    if value != int(value) or not 1 <= value <= 16:
        raise SettingsError(
            "environment variable ORIGIN_PART_SIZES_TRIED must be a whole number from 1 to 16"
        )
    return int(value)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be a number, not {text!r}") from None
    if value < 0:
        raise SettingsError(f"environment variable {name} must not be negative")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    text = env.get(name, str(default)).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no", ""):
        raise SettingsError(f"environment variable {name} must be true or false, not {text!r}")
    return text in ("true", "1", "yes")


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    kms_key_id: str
    alert_topic_arn: str
    credentials_secret: str = "{provider}/credentials"  # noqa: S105 - a name
    """The secret holding each provider's credentials; `{provider}` is replaced."""
    gopro_api_url: str = "https://api.gopro.com"
    gopro_allow_loopback: bool = False
    """Only for the local emulator: accept loopback http URLs."""
    metrics: str = "emf"
    """emf (stdout, inside Lambda) or api (PutMetricData)."""
    lease_seconds: float = 1200.0
    deadline_margin_seconds: float = 90.0
    """Pause a transfer when less than this much of the invocation is left."""
    media_types: str | None = None
    ready_states: str | None = None
    part_size_mib: int = PART_SIZE // MIB
    single_put_limit_mib: int = SINGLE_PUT_LIMIT // MIB
    gopro_retry_wait_seconds: float = 1.0
    """The GoPro adapter's first back-off inside one call (it doubles)."""
    retry_base_seconds: float = 30.0
    """R8.1: the first wait before a failed download is tried again; it doubles."""
    nightly_verify: bool = True
    """The summary also checks tonight's objects and a rotating slice of the archive."""
    origin_check: bool = True
    """Check each file's bytes against the source's ETag (domain.origin)."""
    origin_part_sizes_tried: int = DEFAULT_MAX_CANDIDATES
    """[guess] How many part sizes of a multipart ETag are hashed at once."""
    gopro_thumbnail_url: str | None = None
    """Where GoPro serves a thumbnail (`{token}` replaced); None: the contract's."""
    thumbnails_per_invocation: int = 100
    """Thumbnails one lister invocation catches up on (each a download and a write)."""
    restore_drill: bool = True
    """Once a month, restore one small archived object and check it (domain.drill)."""
    capture_since: str | None = None
    capture_until: str | None = None
    media_kinds: str | None = None
    cameras: str | None = None
    """The stack's choice of what to archive (domain.selection.Selection.parse)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        metrics = env.get("METRICS", "emf").strip() or "emf"
        if metrics not in ("emf", "api"):
            raise SettingsError(f"environment variable METRICS must be emf or api, not {metrics!r}")
        part = int(_number(env, "PART_SIZE_MIB", PART_SIZE // MIB))
        if part < 5:
            raise SettingsError("environment variable PART_SIZE_MIB must be at least 5 (S3)")
        secret = env.get("CREDENTIALS_SECRET", "").strip() or "{provider}/credentials"
        if "{provider}" not in secret:
            raise SettingsError(
                f"environment variable CREDENTIALS_SECRET must contain {{provider}}, not {secret!r}"
            )
        return cls(
            credentials_secret=secret,
            table_name=_required(env, "TRACKER_TABLE"),
            bucket_name=_required(env, "ARCHIVE_BUCKET"),
            kms_key_id=_required(env, "ARCHIVE_KMS_KEY"),
            alert_topic_arn=_required(env, "ALERT_TOPIC_ARN"),
            gopro_api_url=env.get("GOPRO_API_URL", "").strip() or "https://api.gopro.com",
            gopro_allow_loopback=_flag(env, "GOPRO_ALLOW_LOOPBACK"),
            metrics=metrics,
            lease_seconds=_number(env, "LEASE_SECONDS", 1200),
            deadline_margin_seconds=_number(env, "DEADLINE_MARGIN_SECONDS", 90),
            media_types=env.get("MEDIA_TYPES") or None,
            ready_states=env.get("READY_STATES") or None,
            part_size_mib=part,
            single_put_limit_mib=int(_number(env, "SINGLE_PUT_LIMIT_MIB", SINGLE_PUT_LIMIT // MIB)),
            retry_base_seconds=_number(env, "RETRY_BASE_SECONDS", 30),
            gopro_retry_wait_seconds=_number(env, "GOPRO_RETRY_WAIT_SECONDS", 1),
            nightly_verify=_flag(env, "NIGHTLY_VERIFY", default=True),
            origin_check=_flag(env, "ORIGIN_CHECK", default=True),
            origin_part_sizes_tried=_tried(env),
            gopro_thumbnail_url=env.get("GOPRO_THUMBNAIL_URL", "").strip() or None,
            thumbnails_per_invocation=int(_number(env, "THUMBNAILS_PER_INVOCATION", 100)),
            restore_drill=_flag(env, "RESTORE_DRILL", default=True),
            capture_since=env.get("CAPTURE_SINCE", "").strip() or None,
            capture_until=env.get("CAPTURE_UNTIL", "").strip() or None,
            media_kinds=env.get("MEDIA_KINDS", "").strip() or None,
            cameras=env.get("CAMERAS", "").strip() or None,
        )
