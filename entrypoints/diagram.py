"""The workflow's states as a Mermaid state diagram, drawn from the definition the stack
deploys (infra.asl), so the picture in docs/how-it-works/workflow.md cannot drift:

    python -m entrypoints.diagram        # rewrites the diagram in that page
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from entrypoints.cli_docs import rewrite_block
from infra.asl import WorkflowOptions, WorkflowTargets, state_machine_definition

PAGE = Path(__file__).resolve().parents[1] / "docs" / "how-it-works" / "workflow.md"
BEGIN = "<!-- states: begin -->"
END = "<!-- states: end -->"
TARGETS = WorkflowTargets(
    "authenticator", "lister", "downloader", "summary", "arn:aws:sns:region:0:alerts", "bucket"
)


def _edges(name: str, state: dict[str, Any]) -> list[str]:
    found = []
    if "Next" in state:
        found.append(f"    {name} --> {state['Next']}")
    for choice in state.get("Choices", []):
        found.append(f"    {name} --> {choice['Next']}")
    if "Default" in state:
        found.append(f"    {name} --> {state['Default']}")
    for catch in state.get("Catch", []):
        found.append(f"    {name} --> {catch['Next']}: error")
    if state.get("End") or state["Type"] in ("Succeed", "Fail"):
        found.append(f"    {name} --> [*]")
    return found


def state_diagram(definition: dict[str, Any]) -> str:
    """`stateDiagram-v2` of the top-level states (a Map is one state)."""
    lines = ["stateDiagram-v2", f"    [*] --> {definition['StartAt']}"]
    for name, state in definition["States"].items():
        lines += list(dict.fromkeys(_edges(name, state)))
    return "\n".join(lines)


def block() -> str:
    diagram = state_diagram(state_machine_definition(TARGETS, WorkflowOptions()))
    return f"{BEGIN}\n```mermaid\n{diagram}\n```\n{END}"


def main() -> int:
    rewrite_block(PAGE, BEGIN, END, block())
    print(f"wrote the states of {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
