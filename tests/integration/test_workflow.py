"""The real state machine definition, run on moto with the real handlers."""

from __future__ import annotations

from domain.status import SyncStatus
from tests.integration.workflow import Workflow, workflow

__all__ = ["workflow"]


def test_a_library_is_archived_and_a_second_run_downloads_nothing(workflow: Workflow) -> None:
    result = workflow.run()
    assert result["status"] == "SUCCEEDED", result
    records = workflow.records()
    ready = {
        m.id
        for m in workflow.emulator.media.values()
        if m.ready_to_view == "ready" and m.type not in ("Photo", "TimeLapse")
    }
    assert set(records) == ready
    assert {r.status for r in records.values()} == {SyncStatus.COMPLETED}
    assert len(workflow.objects()) == len(ready)
