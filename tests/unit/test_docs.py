"""The documentation says what the code does: every stack setting and every function
setting the program reads is on the Configuration page and nothing else is, and the
command reference is the command line's own help."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from domain.restore import HOURS, Tier
from entrypoints import cost_chart, diagram
from entrypoints.cli_docs import reference
from entrypoints.settings import Settings
from infra.components.monitoring import dashboard_body
from infra.config import StackSettings

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs" / "configuration.md"


def stack_keys_on_the_page() -> set[str]:
    return set(re.findall(r"^\| `(\w+)` \|", CONFIGURATION.read_text(), re.MULTILINE))


def stack_keys_the_program_reads() -> set[str]:
    asked: set[str] = set()

    def get(key: str) -> str | None:
        asked.add(key)
        return "dev" if key == "environment" else None

    StackSettings.read(get)
    return asked


class Recording(Mapping[str, str]):
    """An environment that remembers every name read from it."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values, self.asked = values, set[str]()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self._values[name]

    def get(self, name: str, default: object = None) -> str | None:  # type: ignore[override]
        self.asked.add(name)
        return self._values.get(name, default)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def function_settings_the_program_reads() -> set[str]:
    required = {"TRACKER_TABLE": "t", "ARCHIVE_BUCKET": "b", "ARCHIVE_KMS_KEY": "k",
                "ALERT_TOPIC_ARN": "a"}  # fmt: skip
    env = Recording(required)
    Settings.from_env(env)
    return env.asked


def test_every_stack_setting_the_program_reads_is_documented_and_no_other() -> None:
    assert stack_keys_on_the_page() == stack_keys_the_program_reads()


def test_every_function_setting_the_program_reads_is_documented_and_no_other() -> None:
    text = CONFIGURATION.read_text()
    paragraph = text[text.index("The functions read their settings") :]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", paragraph))
    assert documented == function_settings_the_program_reads()


def test_the_command_reference_is_the_command_lines_own_help() -> None:
    """`python -m entrypoints.cli_docs` writes it; run it after changing an option."""
    assert (ROOT / "docs" / "commands.md").read_text() == reference()


def test_the_workflow_picture_is_the_deployed_definitions() -> None:
    """`python -m entrypoints.diagram` draws it; run it after changing the workflow."""
    page = (ROOT / "docs" / "how-it-works" / "workflow.md").read_text()
    assert diagram.block() in page
    assert "Summarize --> Summarized" in diagram.block()


def test_the_year_of_cost_is_the_estimates() -> None:
    """`python -m entrypoints.cost_chart` draws it; run it after changing the prices."""
    page = (ROOT / "docs" / "cost.md").read_text()
    assert cost_chart.block() in page
    first, *later = cost_chart.months()
    assert first > later[0] > 0  # the import month costs the most
    assert later == sorted(later)  # the archive only grows


def test_the_dashboard_page_names_every_widget_the_stack_deploys() -> None:
    page = (ROOT / "docs" / "operating.md").read_text()
    body = dashboard_body("eu-central-1", "arn:aws:states:eu-central-1:0:stateMachine:m")
    widgets = body["widgets"]
    assert isinstance(widgets, list)
    titles = [w["properties"]["title"] for w in widgets]
    documented = re.findall(r"^\| ([A-Z][\w ]+) \| `(?:CloudSync|AWS/States)`", page, re.M)
    assert documented == titles


def test_the_restore_pages_hours_are_s3s_bounds() -> None:
    page = (ROOT / "docs" / "restore.md").read_text()
    bulk, standard = HOURS[("DEEP_ARCHIVE", Tier.BULK)], HOURS[("DEEP_ARCHIVE", Tier.STANDARD)]
    assert f"within {bulk} hours : S3 makes the copy" in page
    assert f"Standard: ready within {standard} hours" in page
    assert f"| `bulk` (default) | {bulk} hours |" in page
    assert f"| `standard` | {standard} hours |" in page
