"""What the benchmarks share: a moto server of their own, free ports, a clock, peak RSS,
and the CPU time and peak RSS of a child process measured by the kernel."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

REGION: Literal["eu-central-1"] = "eu-central-1"


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], what: str, verify: str | bool) -> None:
    """Wait until `url` answers at all (any status), or stop with `what` named."""
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode} before it answered")
        try:
            httpx.get(url, timeout=1, verify=verify)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{what} did not answer at {url}")


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto's server in a process of its own, with the sandbox's TransactWriteItems."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - moto's own server, fixed arguments
        [sys.executable, "-m", "sandbox.moto_server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url, process, "moto's server", verify=False)
    return process, url


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class ChildRun:
    """One child process, as the kernel accounted for it."""

    seconds: float
    cpu_seconds: float
    """User plus system time of the child alone."""
    peak_rss_mb: float
    """Its largest resident set, in MB (10^6 bytes)."""
    output: str


def run_child(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ChildRun:
    """Run `argv` to its end and account for it with wait4: wall time, CPU time and peak
    RSS of that process only. A failure stops the benchmark with the child's own words."""
    began = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - the benchmark's own commands
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{argv[0]} {argv[1] if len(argv) > 1 else ''} failed:\n{output}")
    return ChildRun(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss * 1024 / 1e6,
        output=output,
    )
