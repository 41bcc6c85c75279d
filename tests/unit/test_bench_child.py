"""bench.common.run_child accounts for the child alone: its peak RSS is not the benchmark's
own, which Linux would otherwise carry into a child across fork and exec."""

from __future__ import annotations

import sys

import pytest

from bench.common import run_child

HELD_MIB = 300


def test_a_childs_peak_rss_is_its_own_while_the_parent_holds_hundreds_of_mb() -> None:
    held = bytearray(HELD_MIB << 20)
    for at in range(0, len(held), 4096):  # resident, not just reserved
        held[at] = 1
    run = run_child([sys.executable, "-c", "print('done')"])
    assert run.output.strip() == "done"
    assert run.peak_rss_mb < HELD_MIB / 2
    grown = run_child([sys.executable, "-c", f"b = b'x' * ({2 * HELD_MIB} << 20); print(len(b))"])
    assert grown.peak_rss_mb > 2 * HELD_MIB  # and a child's own growth is seen
    assert len(held) == HELD_MIB << 20


def test_a_failing_child_stops_the_benchmark_with_its_words() -> None:
    with pytest.raises(SystemExit, match="went wrong"):
        run_child([sys.executable, "-c", "import sys; sys.exit('went wrong')"])
