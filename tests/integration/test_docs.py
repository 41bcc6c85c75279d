"""The walk-throughs, run as written: the sandbox in one process (Getting started's
terminal 1), every command of its terminal 2 in order, then the commands of Getting videos
back, each checked against what its page says."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "getting-started.md"
RESTORE_PAGE = ROOT / "docs" / "restore.md"
RESTORE_SECONDS = "8"
"""The sandbox's restores take this long here (the page's default is 30 s)."""


def block(terminal: str, page: Path = PAGE) -> list[str]:
    """The commands of the page's code block marked `walkthrough: <terminal>`."""
    text = page.read_text()
    found = re.search(rf"<!-- walkthrough: {terminal} -->\n```bash\n(.*?)\n```", text, re.DOTALL)
    assert found, f"no walkthrough block for {terminal} on {PAGE.name}"
    return [line.split("  #")[0].strip() for line in found.group(1).splitlines() if line]


def environment(venv_bin: Path, sourced: Path | None = None) -> dict[str, str]:
    """What `. .venv/bin/activate` (and `. ./.sandbox.env`) give a shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDSYNC_"))}
    env["PATH"] = f"{venv_bin}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv_bin.parent)
    for line in sourced.read_text().splitlines() if sourced else []:
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    return env


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Path]:
    """Terminal 1, as the page writes it; its environment file, once written."""
    commands = block("terminal 1")
    assert commands[:2] == ["make install", ". .venv/bin/activate"]
    started = commands[2].split()
    assert started[:2] == ["cloudsync", "sandbox"], commands
    env_file = tmp_path / ".sandbox.env"
    argv = [*started, "--restore-seconds", RESTORE_SECONDS]
    argv[argv.index("--env-file") + 1] = str(env_file)
    venv_bin = Path(sys.executable).parent
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=environment(venv_bin), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        ends = time.monotonic() + 120
        while not env_file.exists():
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < ends, "the sandbox wrote no environment file"
            time.sleep(0.1)
        yield env_file
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C, as the page says
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    assert "Traceback" not in out


def run(command: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(  # noqa: S602 - the page's commands, as a shell runs them
        command, shell=True, env=env, cwd=cwd, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


EXPECTED = [
    ("cloudsync start --follow", 0, r"SUCCEEDED .* (\d+) of \1 videos archived, 0 not"),
    ("cloudsync status", 0, r"COMPLETED\s+│\s+\d+"),
    ("cloudsync runs", 0, r"manual-\S+\s+SUCCEEDED"),
    ("cloudsync verify", 0, r"^0 discrepancies"),
    ("python -m sandbox.age", 0, r"\d+ objects moved to DEEP_ARCHIVE"),
    ("cloudsync restore --dry-run --name 'GX01*'", 0, r"dry run: nothing was requested"),
    ("cloudsync restore --name 'GX01*'", 0, r"\d+ restores started"),
    ("cloudsync restore status --name 'GX01*'", 3, r"pending of"),
    ("cloudsync restore fetch --to /tmp/gopro --name 'GX01*'", 3, r"not readable yet"),
]
"""Each command of terminal 2 after the two `.` lines, what it exits with and says."""


def test_the_walk_through_runs_as_written(sandbox: Path, tmp_path: Path) -> None:
    commands = block("terminal 2")
    assert commands[:2] == [". .venv/bin/activate", ". ./.sandbox.env"]
    assert commands[2:] == [command for command, _, _ in EXPECTED]
    env = environment(Path(sys.executable).parent, sandbox)
    target = tmp_path / "gopro"
    for command, code, says in EXPECTED:
        typed = command.replace("/tmp/gopro", str(target))  # noqa: S108 - the page's folder
        got, out = run(typed, env, tmp_path)
        assert got == code, (command, out)
        assert re.search(says, out, re.MULTILINE), (command, out)
    # The page: after the restore time, status says ready until … and fetch downloads them
    ends = time.monotonic() + 120
    while (ready := run(EXPECTED[-2][0], env, tmp_path))[0] == 3 and time.monotonic() < ends:
        time.sleep(1)
    assert (ready[0], "ready until" in ready[1]) == (0, True), ready
    fetch = EXPECTED[-1][0].replace("/tmp/gopro", str(target))  # noqa: S108 - as above
    got, out = run(fetch, env, tmp_path)
    assert got == 0, out
    assert "downloaded and verified" in out
    assert list(target.rglob("GX01*"))
    restore_the_season(env, tmp_path)


RESTORES = [
    ("restore --dry-run", 0, r"would be restored \(bulk\)[\s\S]*dry run: nothing was requested"),
    ("restore --since", 0, r"\d+ restores started"),
    ("restore status", 3, r"pending"),
    ("restore fetch", 3, r"downloaded and verified[\s\S]*not readable yet"),
]
"""Getting videos back's commands, after the walk-through restored the GX01 videos: what
each exits with and says (the season's other videos are still in Deep Archive)."""


def restore_the_season(env: dict[str, str], cwd: Path) -> None:
    commands = block("restore", RESTORE_PAGE)
    assert len(commands) == len(RESTORES)
    home = cwd / "home"
    home.mkdir()
    for command, (start, code, says) in zip(commands, RESTORES, strict=True):
        assert command.startswith(f"cloudsync {start}"), command
        got, out = run(command, {**env, "HOME": str(home)}, cwd)
        assert got == code, (command, out)
        assert re.search(says, out), (command, out)
    assert list((home / "GoPro").rglob("*.MP4"))  # ~/GoPro, as the page writes it
