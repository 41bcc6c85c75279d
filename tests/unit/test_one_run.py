"""One run of a library at a time: which run holds it, whatever order they are listed in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.model import RunningExecution
from domain.one_run import holder
from tests.fakes import EPOCH


@dataclass
class Listed:
    """The workflow service's list of running executions."""

    runs: list[RunningExecution] = field(default_factory=list)

    def running(self, execution: str) -> Sequence[RunningExecution]:
        return list(self.runs)


def run(name: str, minute: int, provider: str | None = "gopro") -> RunningExecution:
    return RunningExecution(
        f"arn:x:execution:m:{name}", name, EPOCH + timedelta(minutes=minute), provider
    )


def test_a_run_started_after_another_of_its_provider_is_held_and_told_by_whom() -> None:
    first, second = run("nightly", 0), run("manual", 5)
    assert holder(Listed([second, first]), second.execution, "gopro") == first
    assert holder(Listed([second, first]), first.execution, "gopro") is None


def test_a_run_of_another_provider_holds_nothing_and_an_unreadable_input_holds() -> None:
    other, mine = run("other", 0, "another"), run("mine", 5)
    assert holder(Listed([other, mine]), mine.execution, "gopro") is None
    unknown = run("unknown", 0, None)
    assert holder(Listed([unknown, mine]), mine.execution, "gopro") == unknown


def test_a_run_not_yet_listed_goes_on() -> None:
    assert holder(Listed([run("nightly", 0)]), "arn:x:execution:m:new", "gopro") is None


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from("abcdef")), min_size=1, max_size=6,
                unique_by=lambda r: r[1]))  # fmt: skip
def test_of_runs_started_together_exactly_one_goes_on(started: list[tuple[int, str]]) -> None:
    runs = [run(name, minute) for minute, name in started]
    going_on = [r for r in runs if holder(Listed(runs), r.execution, "gopro") is None]
    assert len(going_on) == 1
    assert going_on[0] == min(runs, key=lambda r: (r.started_at, r.name))
