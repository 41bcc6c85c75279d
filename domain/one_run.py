"""One run of a library at a time.

A first run of a large library lasts longer than a night; the next night's schedule (or a
manual start) must not set a second execution on the same pending videos: more
downloaders for nothing, "busy" answers, throttling counted as failures. An execution that
finds another one running for the same provider, started before it, ends at once as
skipped, naming the run that holds the library. Of two started at the same instant, the
one whose name sorts first holds it, so exactly one goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.model import RunningExecution
from domain.ports import Runs


def _order(run: RunningExecution) -> tuple[datetime, str]:
    return run.started_at, run.name


def first_of(running: Iterable[RunningExecution], provider: str) -> RunningExecution | None:
    """Of `running`, the run that holds `provider`'s library: the first started of those
    serving it (or whose provider cannot be read); None when there is none."""
    serving = [run for run in running if run.provider in (provider, None)]
    return min(serving, key=_order, default=None)


def holder(runs: Runs, execution: str, provider: str) -> RunningExecution | None:
    """The run that holds `provider`'s library before `execution`, or None: go on."""
    running = list(runs.running(execution))
    mine = next((run for run in running if run.execution == execution), None)
    if mine is None:
        return None  # not listed yet (the listing is eventually consistent): go on
    return first_of((run for run in running if _order(run) < _order(mine)), provider)
