"""Session-wide reports."""

from __future__ import annotations

import pytest

from sandbox.moto_dynamodb import install
from tests.infra.iam import USAGE


@pytest.fixture(autouse=True, scope="session")
def _emulated_transactions() -> None:
    """moto's TransactWriteItems at DynamoDB's cost (sandbox.moto_dynamodb), as the
    sandbox runs it; tests/integration/test_moto_shims.py holds it to moto's answers."""
    install()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Grants that no recorded call used: not failures (some serve paths the tests do not
    reach, such as the OAuth refresh), but each is a place to look."""
    if not USAGE.used:
        return
    unused = USAGE.unused()
    terminalreporter.section("IAM grants no recorded call used")
    for line in unused or ["none"]:
        terminalreporter.write_line(line)
