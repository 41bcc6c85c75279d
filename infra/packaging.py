"""The Lambda code archive and dependency layer, built for Lambda's platform at deploy time.

- Code: the project's runtime packages (`domain`, `adapters`, `entrypoints`) as a zip.
- Layer: the runtime dependencies from pyproject.toml, installed with
  `pip install --platform manylinux2014_<arch> --only-binary=:all: --python-version <runtime>
  --implementation cp --no-compile` into `python/`, so compiled wheels (dependency-injector)
  match Lambda's CPU and Python, not this machine's.

Both zips are deterministic: entries sorted, timestamps fixed, permissions normalised, so
the same sources give the same bytes and `pulumi up` updates a function only when something
changed. Layers are cached under `build/lambda/` by a hash of their inputs.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_PACKAGES = ("domain", "adapters", "entrypoints")
OPERATOR_ONLY = frozenset(
    {"entrypoints/cli.py", "entrypoints/demo.py", "entrypoints/operations.py"}
)
"""The command line runs on the operator's machine, never in Lambda."""
DEPLOY_ONLY = ("pulumi", "pulumi-aws", "rich")  # not run in Lambda
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class PackagingError(RuntimeError):
    """The layer could not be built; the message carries pip's last words."""


@dataclass(frozen=True)
class LambdaArtifacts:
    code: Path
    layer: Path


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    return match.group().replace("_", "-").lower() if match else requirement


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The project's dependencies that run in Lambda (Pulumi itself does not)."""
    dependencies: list[str] = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return sorted(d for d in dependencies if requirement_name(d) not in DEPLOY_ONLY)


def deterministic_zip(files: dict[str, Path], target: Path) -> Path:
    """Zip `files` (archive name -> source) with fixed metadata, sorted by name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].read_bytes())
    temporary.replace(target)
    return target


def build_code(out_dir: Path, root: Path = ROOT) -> Path:
    files = {
        str(path.relative_to(root)): path
        for package in CODE_PACKAGES
        for path in (root / package).rglob("*.py")
        if str(path.relative_to(root)) not in OPERATOR_ONLY
    }
    return deterministic_zip(files, out_dir / "code.zip")


def build_layer(architecture: str, python_version: str, out_dir: Path) -> Path:
    """Install the runtime requirements for Lambda's platform and zip them as a layer."""
    requirements = runtime_requirements()
    platform = PLATFORMS[architecture]
    digest = hashlib.sha256("\n".join([platform, python_version, *requirements]).encode())
    target = out_dir / f"layer-{architecture}-py{python_version}-{digest.hexdigest()[:12]}.zip"
    if target.exists():
        return target
    site = out_dir / f"layer-{architecture}-py{python_version}" / "python"
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(site), "--upgrade",
        "--platform", platform, "--only-binary=:all:", "--implementation", "cp",
        "--python-version", python_version, "--no-compile", *requirements,
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0:
        raise PackagingError(f"pip could not build the layer: {finished.stderr[-2000:]}")
    files = {
        str(Path("python") / path.relative_to(site)): path
        for path in site.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    return deterministic_zip(files, target)


def build(
    architecture: str, python_version: str, out_dir: Path = ROOT / "build" / "lambda"
) -> LambdaArtifacts:
    return LambdaArtifacts(
        code=build_code(out_dir), layer=build_layer(architecture, python_version, out_dir)
    )
