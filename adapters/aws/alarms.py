"""CloudWatchAlarms: which of the stack's alarms are firing (DescribeAlarms by name, so
the caller needs `cloudwatch:DescribeAlarms` on those alarms only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.aws.errors import aws_call

NAMES_PER_CALL = 100
"""DescribeAlarms takes at most 100 names."""


@dataclass(frozen=True)
class FiringAlarm:
    name: str
    reason: str
    since: datetime | None
    description: str | None


class CloudWatchAlarms:
    def __init__(self, client: Any) -> None:
        self._cloudwatch = client

    def firing(self, names: tuple[str, ...]) -> list[FiringAlarm]:
        """Those of `names` in the ALARM state (an alarm that does not exist is not firing)."""
        found = []
        for start in range(0, len(names), NAMES_PER_CALL):
            chunk = list(names[start : start + NAMES_PER_CALL])
            with aws_call("CloudWatch DescribeAlarms", ", ".join(chunk)):
                answer = self._cloudwatch.describe_alarms(AlarmNames=chunk)
            for alarm in answer.get("MetricAlarms", []):
                if alarm.get("StateValue") == "ALARM":
                    found.append(
                        FiringAlarm(
                            name=str(alarm["AlarmName"]),
                            reason=str(alarm.get("StateReason", "")),
                            since=alarm.get("StateUpdatedTimestamp"),
                            description=alarm.get("AlarmDescription"),
                        )
                    )
        return found
