"""A year of cost for an example library, drawn from `cloudsync cost`'s own estimate, so the
chart on docs/cost.md cannot drift from the prices:

    python -m entrypoints.cost_chart        # rewrites the chart in that page

The example: 100 GB in 400 videos, 10 GB (40 videos) more each month. Month 1 is the first
import; each later month is the ongoing cost of the archive as it stands that month.
"""

from __future__ import annotations

import sys
from pathlib import Path

from entrypoints.cli_docs import rewrite_block
from entrypoints.cost import Usage, estimate, load_prices

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cost.md"
BEGIN = "<!-- year: begin -->"
END = "<!-- year: end -->"
ARCHIVE_GB, VIDEOS, MONTHLY_GB, MONTHLY_VIDEOS = 100.0, 400, 10.0, 40


def months() -> list[float]:
    """Twelve months' cost in USD at list prices."""
    prices = load_prices()
    found = []
    for month in range(12):
        usage = Usage(
            ARCHIVE_GB + MONTHLY_GB * month, VIDEOS + MONTHLY_VIDEOS * month,
            MONTHLY_GB, MONTHLY_VIDEOS,
        )  # fmt: skip
        priced = estimate(usage, prices)
        found.append(priced.first_month if month == 0 else priced.ongoing)
    return found


def block() -> str:
    costs = months()
    bars = ", ".join(f"{c:.2f}" for c in costs)
    top = max(costs) * 1.2
    rows = "\n".join(f"| {n} | ${c:.2f} |" for n, c in enumerate(costs, start=1))
    return (
        f"{BEGIN}\n```mermaid\nxychart-beta\n"
        f'    title "A year: {ARCHIVE_GB:g} GB, then {MONTHLY_GB:g} GB more a month (USD)"\n'
        f"    x-axis [{', '.join(str(n) for n in range(1, 13))}]\n"
        f'    y-axis "USD a month" 0 --> {top:.2f}\n'
        f"    bar [{bars}]\n```\n\n"
        f"| month | cost |\n|---|---|\n{rows}\n\n"
        f"In all ${sum(costs):.2f} for the year.\n{END}"
    )


def main() -> int:
    rewrite_block(PAGE, BEGIN, END, block())
    print(f"wrote the year's chart of {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
