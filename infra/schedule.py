"""When the nightly sync runs (R6.1: daily at 02:00 Central European Time).

`cron(0 2 * * ? *)` in `Europe/Berlin` never fires on the spring daylight-saving day: that
night the clocks jump from 02:00 to 03:00. Central European Time proper is UTC+1 all year,
the zone `Etc/GMT-1` (the sign is inverted in the Etc names), so the schedule fires at
02:00 CET every day: 02:00 in winter and 03:00 local summer time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DailySchedule:
    expression: str
    timezone: str
    hour: int


NIGHTLY = DailySchedule(expression="cron(0 2 * * ? *)", timezone="Etc/GMT-1", hour=2)
