"""Deaths at chosen moments, for the suites that prove a crash loses nothing: a Plan
kills the invocation at a numbered call to the outside (before the call, or just after it
took effect), and a Deadline makes time run out after a number of bytes read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.model import MediaItem, MediaPage, SourceVersion
from domain.ports import MediaDownload, MediaSource
from domain.transfer import TransferPorts


class Killed(BaseException):
    """The invocation died: nothing after it in this attempt runs."""


@dataclass
class Plan:
    """Where to kill: at call number `at` (0-based, over every port), before or after it."""

    at: int | None = None
    after: bool = False
    calls: list[str] = field(default_factory=list)
    fired: bool = False
    meanwhile: Callable[[], object] | None = None
    """Instead of killing: run this (another worker's attempt, say) just before call `at`."""

    def wrap(self, name: str, target: Any) -> Any:
        return Fragile(self, name, target)

    def around(self, name: str, call: Callable[[], Any]) -> Any:
        index = len(self.calls)
        self.calls.append(name)
        armed = not self.fired and index == self.at
        if armed and self.meanwhile is not None:
            self.fired = True
            self.meanwhile()
            return call()
        if armed and not self.after:
            self.fired = True
            raise Killed(f"before {name}")
        result = call()
        if armed:
            self.fired = True
            raise Killed(f"after {name}")
        return result


class Fragile:
    """A port whose every call may be the last one its invocation makes."""

    def __init__(self, plan: Plan, name: str, target: Any) -> None:
        self._plan, self._name, self._target = plan, name, target

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._plan.around(f"{self._name}.{attribute}", lambda: value(*args, **kwargs))

        return call


class Deadline:
    """Time that runs out once an invocation has read `budget` bytes of the source (None:
    never), however those bytes are used: uploaded, or re-read to check an object."""

    def __init__(
        self,
        budget: int | None,
        kill_at: int | None = None,
        meanwhile_at: int | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> None:
        self.budget, self.read = budget, 0
        self.kill_at = kill_at
        """Die mid-stream once this many bytes were read."""
        self.meanwhile_at, self.meanwhile = meanwhile_at, meanwhile
        """Once this many bytes were read, run `meanwhile` (another worker, say) and go on."""

    def __call__(self) -> bool:
        return self.budget is not None and self.read >= self.budget


class MeteredDownload:
    def __init__(self, download: MediaDownload, deadline: Deadline) -> None:
        self._download, self._deadline = download, deadline

    @property
    def expected_size(self) -> int | None:
        return self._download.expected_size

    @property
    def version(self) -> SourceVersion | None:
        return self._download.version

    def chunks(self, start: int = 0) -> Iterator[bytes]:
        deadline = self._deadline
        for chunk in self._download.chunks(start):
            deadline.read += len(chunk)
            if deadline.kill_at is not None and deadline.read >= deadline.kill_at:
                deadline.kill_at = None
                raise Killed(f"mid-stream, {deadline.read} bytes read")
            if deadline.meanwhile_at is not None and deadline.read >= deadline.meanwhile_at:
                deadline.meanwhile_at = None
                if deadline.meanwhile is not None:
                    deadline.meanwhile()
            yield chunk


class MeteredSource:
    def __init__(self, source: MediaSource, deadline: Deadline) -> None:
        self._source, self._deadline = source, deadline

    def pages(self, start: str | None = None) -> Iterator[MediaPage]:
        return self._source.pages(start)

    def unreadable_items(self) -> int:
        return self._source.unreadable_items()

    def open_chapters(self, item: MediaItem) -> Sequence[MediaDownload]:
        return [MeteredDownload(d, self._deadline) for d in self._source.open_chapters(item)]


def fragile(ports: TransferPorts, plan: Plan, deadline: Deadline) -> TransferPorts:
    """`ports` with every outside call under `plan`, and the source metered by `deadline`."""
    return TransferPorts(
        plan.wrap("source", MeteredSource(ports.source, deadline)),
        plan.wrap("tracker", ports.tracker),
        plan.wrap("store", ports.store),
        plan.wrap("metrics", ports.metrics),
        plan.wrap("notifier", ports.notifier),
        ports.clock,
        ports.verdicts,
    )
