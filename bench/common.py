"""What the benchmarks share: a moto server of their own, free ports, a clock, peak RSS,
and the CPU time and peak RSS of a child process measured by the kernel."""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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


SPAWN = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
began = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - began
with open(report, "w") as out:
    json.dump({"seconds": seconds, "code": os.waitstatus_to_exitcode(status),
               "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, out)
"""
"""Runs the command from a small process of its own. Linux carries a process's peak RSS
across fork and exec, so a child forked straight from a benchmark that holds hundreds of
MB would report the benchmark's peak as its own; forked from this, it reports its own."""


def run_child(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ChildRun:
    """Run `argv` to its end and account for it with wait4: wall time, CPU time and peak
    RSS of that process only. A failure stops the benchmark with the child's own words."""
    with tempfile.TemporaryDirectory(prefix="bench-child-") as folder:
        report = Path(folder) / "usage.json"
        with subprocess.Popen(  # noqa: S603 - the benchmark's own commands
            [sys.executable, "-I", "-S", "-c", SPAWN, str(report), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
        ) as process:
            assert process.stdout is not None
            output = process.stdout.read().decode("utf-8", "replace")
        usage = json.loads(report.read_text()) if report.exists() else {"code": -1}
    if process.returncode != 0 or usage["code"] != 0:
        raise SystemExit(f"{argv[0]} {argv[1] if len(argv) > 1 else ''} failed:\n{output}")
    return ChildRun(
        seconds=usage["seconds"],
        cpu_seconds=usage["cpu"],
        peak_rss_mb=usage["maxrss_kib"] * 1024 / 1e6,
        output=output,
    )
