"""The house rule "dependencies point inward", checked on every module's imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {"domain", "adapters", "entrypoints", "infra", "sandbox"}

# What each package may import of the project's own packages.
ALLOWED = {
    "domain": {"domain"},
    "adapters": {"domain", "adapters"},
    # The command line (entrypoints/cli.py) runs the sandbox and names the stack's resources.
    "entrypoints": {"domain", "adapters", "entrypoints", "sandbox", "infra"},
    # The program reads the bucket's layout from the domain (pure, standard library only).
    "infra": {"infra", "domain"},
    # The sandbox provisions from the stack's pure builders so the two cannot drift,
    # and lays objects out as the domain does.
    "sandbox": {"sandbox", "infra", "domain"},
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_the_domain_imports_only_the_standard_library() -> None:
    files = modules("domain")
    assert files, "the domain package has no modules"
    for path in files:
        outside = imported_roots(path) - set(sys.stdlib_module_names) - {"domain", "__future__"}
        assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependencies_point_inward(package: str) -> None:
    for path in modules(package):
        own = imported_roots(path) & PROJECT_PACKAGES
        forbidden = own - ALLOWED[package]
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import httpx\nfrom adapters.gopro import client\nfrom . import sibling\n")
    assert imported_roots(sample) == {"httpx", "adapters"}


COMMAND_MODULES = [
    "cli", "operations", "restore", "verify", "cost", "stack", "exits", "letgo",
    "browse/serve", "browse/app", "browse/restores", "browse/jobs", "browse/library",
]  # fmt: skip
"""The command line's modules: they get their ports from the Operator container."""


def built_adapters(path: Path) -> set[str]:
    """Classes of `adapters` the module calls (builds), and AWS libraries it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    from_adapters: set[str] = set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("adapters"):
            from_adapters.update(alias.asname or alias.name for alias in node.names)
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            module = node.module if isinstance(node, ast.ImportFrom) else None
            for name in [*names, *([module] if module else [])]:
                if name.split(".")[0] in ("boto3", "botocore"):
                    found.add(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in from_adapters and name[:1].isupper():
                found.add(name)
    return found


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_no_command_module_imports_boto3_or_builds_an_adapter(module: str) -> None:
    assert built_adapters(ROOT / "entrypoints" / f"{module}.py") == set()


def test_the_adapter_check_sees_a_built_adapter(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import boto3\nfrom adapters.aws.archive import S3Archive, check\n"
        "S3Archive(1, 'b')\ncheck()\n"
    )
    assert built_adapters(sample) == {"boto3", "S3Archive"}
