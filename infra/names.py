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
SYNC_FAILURES = "{provider}-sync-failures"
"""Each provider's alarm on failed transfers (R7.4); `{provider}` is replaced."""
FAILED_EXECUTIONS = "gopro-sync-failed-executions"
ALARMS = (SYNC_FAILURES.format(provider="gopro"), FAILED_EXECUTIONS, SCHEDULE_FAILED)
"""Every alarm the stack makes (before the stack's suffix): what `cloudwatch:DescribeAlarms`
may read, and what the browse page's dashboard shows as outstanding."""
FUNCTIONS = {
    "authenticator": "media-authenticator",
    "lister": "media-lister",
    "downloader": "video-downloader",
    "summary": "run-summary",
}
"""The functions' base names, by role."""
