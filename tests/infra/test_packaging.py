"""The Lambda artifacts are the tested build: the lock's versions, Lambda's bytecode, and
within Lambda's size limit."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

from infra.packaging import (
    LAMBDA_GROUP,
    LAMBDA_UNZIPPED_LIMIT,
    LAMBDA_ZIPPED_LIMIT,
    ROOT,
    LambdaArtifacts,
    PackagingError,
    build,
    check_sizes,
    locked_requirements,
    unzipped_size,
)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
LOCKED = {package["name"]: package["version"] for package in LOCK["package"]}
_DIST_INFO = re.compile(r"python/([^/]+)-([^/-]+)\.dist-info/METADATA")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def layer_versions(layer: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in zipfile.ZipFile(layer).namelist():
        if match := _DIST_INFO.fullmatch(name):
            found[normalise(match.group(1))] = match.group(2)
    return found


def test_the_lambda_group_is_the_runtime_part_of_the_dependencies() -> None:
    dependencies = {
        normalise(re.split(r"[<>=!~\[ ]", d)[0]): d for d in PYPROJECT["project"]["dependencies"]
    }
    group = PYPROJECT["dependency-groups"][LAMBDA_GROUP]
    assert group, "the layer would be empty"
    for requirement in group:
        name = normalise(re.split(r"[<>=!~\[ ]", requirement)[0])
        assert dependencies.get(name) == requirement, f"{requirement} differs from the project's"
    assert not {normalise(r.split("[")[0].split(">")[0]) for r in group} & {
        "pulumi",
        "pulumi-aws",
        "rich",
    }


def test_the_locked_requirements_carry_hashes_for_every_pin() -> None:
    text = locked_requirements()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^ \\;]+)", text, flags=re.MULTILINE)
    assert pins
    for name, version in pins:
        assert LOCKED[normalise(name)] == version
    assert text.count("==") == len(pins)
    assert all("--hash=sha256:" in block for block in text.split("\n\n") if "==" in block)


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_the_layer_holds_exactly_the_locked_versions_the_tests_ran_on(architecture: str) -> None:
    artifacts = build(architecture, "3.12")
    shipped = layer_versions(artifacts.layer)
    assert {"boto3", "botocore", "httpx", "dependency-injector", "tenacity"} <= set(shipped)
    for name, version in shipped.items():
        assert LOCKED[name] == version, f"{name} {version} is not the locked {LOCKED[name]}"
        assert importlib.metadata.version(name) == version, f"the tests ran on another {name}"
    assert unzipped_size(artifacts.code, artifacts.layer) < LAMBDA_UNZIPPED_LIMIT
    for archive in (artifacts.code, artifacts.layer):  # uploaded directly by pulumi up
        assert archive.stat().st_size < LAMBDA_ZIPPED_LIMIT
    check_sizes(artifacts)


def test_a_zip_over_the_direct_upload_limit_or_an_unzip_over_250_mb_is_refused(
    tmp_path: Path,
) -> None:
    code, layer = tmp_path / "code.zip", tmp_path / "layer.zip"
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "x" * 1_000)
    with zipfile.ZipFile(layer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("python/big.bin", b"\0" * 100_000)  # compresses to ~100 bytes
    artifacts = LambdaArtifacts(code=code, layer=layer)
    check_sizes(artifacts, zipped_limit=5_000, unzipped_limit=200_000)
    with pytest.raises(PackagingError, match=r"the code zip is [\d,]+ bytes"):
        check_sizes(artifacts, zipped_limit=layer.stat().st_size, unzipped_limit=200_000)
    with pytest.raises(PackagingError, match="unzip to 101,000 bytes"):
        check_sizes(artifacts, zipped_limit=5_000, unzipped_limit=100_000)


def bytecode_name(source: str) -> str:
    folder, _, file = source.rpartition("/")
    return f"{folder}/__pycache__/{file.removesuffix('.py')}.cpython-312.pyc".lstrip("/")


@pytest.mark.parametrize("which", ["code", "layer"])
def test_every_module_ships_with_unchecked_hash_bytecode_for_python_3_12(which: str) -> None:
    artifacts = build("arm64", "3.12")
    archive = zipfile.ZipFile(getattr(artifacts, which))
    names = set(archive.namelist())
    sources = [n for n in names if n.endswith(".py")]
    assert sources
    for source in sources:
        assert bytecode_name(source) in names, f"{source} has no bytecode"
        header = archive.read(bytecode_name(source))[:8]
        assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source unchecked
    assert all(archive.getinfo(n).date_time == (1980, 1, 1, 0, 0, 0) for n in names)
