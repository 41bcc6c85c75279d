"""The Lambda code archive and dependency layer, built for Lambda's platform at deploy time.

- Code: the project's runtime packages (`domain`, `adapters`, `entrypoints`) as a zip.
- Layer: the `lambda` dependency group at exactly the versions and hashes `uv.lock` holds
  (`uv export --only-group lambda`), installed with `uv pip install --target python/
  --python-platform <arch>-manylinux2014 --python-version 3.12 --only-binary :all:
  --require-hashes --no-deps`, so compiled wheels (dependency-injector) match Lambda's CPU
  and Python, not this machine's, and nothing is resolved on the day of the build.

Both carry bytecode compiled by Python 3.12 (Lambda's runtime) as unchecked-hash `.pyc`:
no cold start compiles, and the bytes depend on the sources only (no timestamps). Source
paths inside the bytecode are the ones Lambda uses (`/var/task`, `/opt/python`). Both zips
are deterministic: entries sorted, timestamps fixed, permissions normalised, so the same
sources give the same bytes and `pulumi up` updates a function only when something
changed. Layers are cached under `build/lambda/` by a hash of the locked requirements.
"""

from __future__ import annotations

import hashlib
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib.util import cache_from_source
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_PACKAGES = ("domain", "adapters", "entrypoints")
OPERATOR_ONLY = frozenset(
    {"entrypoints/cli.py", "entrypoints/demo.py", "entrypoints/operations.py"}
)
"""The command line runs on the operator's machine, never in Lambda."""
DATA_FILES = ("entrypoints/prices.json",)
"""Files of the code packages the functions read (the restore drill prices its restore)."""
LAMBDA_GROUP = "lambda"
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
UV_PLATFORMS = {"arm64": "aarch64-manylinux2014", "x86_64": "x86_64-manylinux2014"}
CODE_ROOT = "/var/task"
LAYER_ROOT = "/opt"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
LAMBDA_UNZIPPED_LIMIT = 262_144_000
"""Lambda's limit on a function's code and layers together, unzipped (250 MB)."""
LAMBDA_ZIPPED_LIMIT = 52_428_800
"""Lambda's limit on a zip uploaded directly, as `pulumi up` uploads the code and the
layer (50 MB; larger ones must go through S3)."""


class PackagingError(RuntimeError):
    """The artifacts could not be built; the message says why."""


@dataclass(frozen=True)
class LambdaArtifacts:
    code: Path
    layer: Path


def uv_command() -> str:
    """uv: `$UV`, the one on the PATH, or the project's own (`make install` puts it in
    `.tools/`)."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools/bin/uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise PackagingError(
        "building the Lambda layer needs uv (the lock's tool): `pip install uv`, or run "
        "`make install`, or set UV to its path"
    )


def _run(command: list[str], what: str) -> str:
    finished = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0:
        raise PackagingError(f"{what} failed: {finished.stderr[-2000:]}")
    return finished.stdout


def locked_requirements(root: Path = ROOT) -> str:
    """The `lambda` group and everything it needs, pinned with hashes, from uv.lock."""
    return _run(
        [
            uv_command(), "export", "--project", str(root), "--frozen",
            "--only-group", LAMBDA_GROUP, "--no-emit-project",
            "--format", "requirements-txt", "--no-header",
        ],
        "uv export of the lambda group",
    )  # fmt: skip


def _check_python(python_version: str) -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != python_version:
        raise PackagingError(
            f"the Lambda runtime is Python {python_version}, but this is Python {running}: "
            f"bytecode must be compiled by {python_version} (run Pulumi from the project's "
            "virtual environment, made by `make install`)"
        )


def _with_bytecode(files: dict[str, Path], cache_dir: Path, runtime_root: str) -> dict[str, Path]:
    """`files` plus unchecked-hash bytecode for each module, named and placed as Lambda's
    Python looks for it; `runtime_root` is where Lambda unpacks the archive."""
    compiled = dict(files)
    for name, source in files.items():
        if not name.endswith(".py"):
            continue
        bytecode = cache_from_source(name)  # e.g. domain/__pycache__/keys.cpython-312.pyc
        py_compile.compile(
            str(source),
            cfile=str(cache_dir / bytecode),
            dfile=f"{runtime_root}/{name}",
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        compiled[bytecode] = cache_dir / bytecode
    return compiled


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


def build_code(out_dir: Path, root: Path = ROOT, python_version: str = "3.12") -> Path:
    _check_python(python_version)
    files = {
        str(path.relative_to(root)): path
        for package in CODE_PACKAGES
        for path in (root / package).rglob("*.py")
        if str(path.relative_to(root)) not in OPERATOR_ONLY
    } | {name: root / name for name in DATA_FILES}
    with tempfile.TemporaryDirectory() as cache:
        return deterministic_zip(
            _with_bytecode(files, Path(cache), CODE_ROOT), out_dir / "code.zip"
        )


def build_layer(architecture: str, python_version: str, out_dir: Path) -> Path:
    """Install the locked `lambda` group for Lambda's platform and zip it as a layer."""
    _check_python(python_version)
    requirements = locked_requirements()
    platform = PLATFORMS[architecture]
    digest = hashlib.sha256("\n".join([platform, python_version, requirements]).encode())
    target = out_dir / f"layer-{architecture}-py{python_version}-{digest.hexdigest()[:16]}.zip"
    if target.exists():
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        listed = Path(work) / "requirements.txt"
        listed.write_text(requirements)
        site = Path(work) / "python"
        _run(
            [
                uv_command(), "pip", "install", "--quiet", "--target", str(site),
                "--python-platform", UV_PLATFORMS[architecture],
                "--python-version", python_version, "--only-binary", ":all:",
                "--require-hashes", "--no-deps", "--no-config", "-r", str(listed),
            ],
            "installing the layer's locked requirements",
        )  # fmt: skip
        files = {
            str(Path("python") / path.relative_to(site)): path
            for path in site.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        compiled = _with_bytecode(files, Path(work) / "bytecode", LAYER_ROOT)
        return deterministic_zip(compiled, target)


def unzipped_size(*archives: Path) -> int:
    """What Lambda counts against its 250 MB: every member's uncompressed size."""
    return sum(
        member.file_size for archive in archives for member in zipfile.ZipFile(archive).infolist()
    )


def build(
    architecture: str, python_version: str, out_dir: Path = ROOT / "build" / "lambda"
) -> LambdaArtifacts:
    artifacts = LambdaArtifacts(
        code=build_code(out_dir, python_version=python_version),
        layer=build_layer(architecture, python_version, out_dir),
    )
    check_sizes(artifacts)
    return artifacts


def check_sizes(
    artifacts: LambdaArtifacts,
    zipped_limit: int = LAMBDA_ZIPPED_LIMIT,
    unzipped_limit: int = LAMBDA_UNZIPPED_LIMIT,
) -> None:
    """Refuse artifacts Lambda would: each zip over the direct-upload limit, or the code and
    layer together over the unzipped limit."""
    for what, archive in (("code", artifacts.code), ("layer", artifacts.layer)):
        zipped = archive.stat().st_size
        if zipped > zipped_limit:
            raise PackagingError(
                f"the {what} zip is {zipped:,} bytes; Lambda accepts at most "
                f"{zipped_limit:,} uploaded directly, as pulumi up uploads it"
            )
    size = unzipped_size(artifacts.code, artifacts.layer)
    if size > unzipped_limit:
        raise PackagingError(
            f"the code and layer unzip to {size:,} bytes; Lambda accepts at most "
            f"{unzipped_limit:,} (250 MB)"
        )
