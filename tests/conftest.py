"""Session-wide reports."""

from __future__ import annotations

import pytest

from tests.infra.iam import USAGE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Grants that no recorded call used: not failures (some serve paths the tests do not
    reach, such as the OAuth refresh), but each is a place to look."""
    if not USAGE.used:
        return
    unused = USAGE.unused()
    terminalreporter.section("IAM grants no recorded call used")
    for line in unused or ["none"]:
        terminalreporter.write_line(line)
