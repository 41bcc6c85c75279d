"""Every resource name the stack gives, in one place: the Pulumi program, the sandbox and
the command line read them here. `StackSettings.name()` adds the stack's suffix (none in
prod, `-dev` in dev)."""

from __future__ import annotations

TABLE = "gopro-sync-tracker"
TOPIC = "gopro-sync-alerts"
MACHINE = "gopro-sync-orchestrator"
SECRET_TEMPLATE = "{provider}/credentials"  # noqa: S105 - a name, not a secret
"""Each provider's credentials secret; `{provider}` is replaced (`gopro/credentials`)."""
LAYER = "cloud-sync-dependencies"
DASHBOARD = "GoPro-Sync-Operations"
SCHEDULE = "gopro-sync-nightly"
SCHEDULE_DEAD_LETTERS = "gopro-sync-schedule-dead-letters"
SCHEDULE_FAILED = "gopro-sync-schedule-failed"
FUNCTIONS = {
    "authenticator": "media-authenticator",
    "lister": "media-lister",
    "downloader": "video-downloader",
    "summary": "run-summary",
}
"""The functions' base names, by role."""
