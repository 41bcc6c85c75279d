"""The project as an operator installs it: the locked runtime dependencies, no extras.

The operator's commands must work without the sandbox (moto) and the test tools; only
`cloudsync demo` and `cloudsync sandbox` need the `sandbox` extra, and say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.packaging import ROOT, uv_command
from sandbox.world import free_port


def run(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        command, capture_output=True, text=True, timeout=600, check=False, **options
    )


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    uv = uv_command()
    requirements = venv.parent / "requirements.txt"
    exported = run([uv, "export", "--project", str(ROOT), "--frozen", "--no-emit-project",
                    "--format", "requirements-txt", "-o", str(requirements)])  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    for command in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"),
         "--require-hashes", "-r", str(requirements)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"), "--no-deps",
         str(ROOT)],
    ):  # fmt: skip
        done = run(command, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
        assert done.returncode == 0, f"{command}: {done.stderr}"
    return venv


def cloudsync(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(Path.home()),
        "AWS_ACCESS_KEY_ID": "operator",
        "AWS_SECRET_ACCESS_KEY": "operator",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ENDPOINT_URL": closed,
        "AWS_MAX_ATTEMPTS": "1",
    }
    # From /, so the checkout itself is not importable: only what was installed is.
    return run([str(venv / "bin/cloudsync"), *args], env=environment, cwd="/")


def test_the_runtime_install_has_no_test_or_sandbox_packages(runtime_venv: Path) -> None:
    probe = run([str(runtime_venv / "bin/python"), "-c",
                 "import importlib.util as u; print([m for m in ('moto', 'pytest', 'hypothesis')"
                 " if u.find_spec(m)])"], cwd="/")  # fmt: skip
    assert probe.stdout.strip() == "[]", probe.stdout + probe.stderr


def test_help_works_without_the_extras(runtime_venv: Path) -> None:
    finished = cloudsync(runtime_venv, "--help")
    assert finished.returncode == 0, finished.stderr
    for command in ("demo", "sandbox", "start", "status", "credentials"):
        assert command in finished.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["status", "--stack", "dev"], "cannot reach AWS at http://127.0.0.1:"),
        (["start", "--stack", "dev"], "cannot reach AWS at http://127.0.0.1:"),
        (
            ["demo"],
            "cloudsync: error: `cloudsync demo` and `cloudsync sandbox` need the 'sandbox' extra",
        ),
        (["sandbox"], "pip install 'cloud-sync[sandbox]'"),
    ],
)
def test_each_command_fails_with_one_clear_line(
    runtime_venv: Path, args: list[str], expected: str
) -> None:
    finished = cloudsync(runtime_venv, *args)
    assert finished.returncode == 1
    assert "Traceback" not in finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("cloudsync: error: ")
    assert expected in lines[0]
