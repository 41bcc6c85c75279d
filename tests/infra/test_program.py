"""The Pulumi program runs under mocks (no CLI, no provider plugin) and checks its config."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
import yaml

from infra.config import StackConfigError, StackSettings
from tests.infra.recorder import event_loop


class NoCloud(pulumi.runtime.Mocks):
    """Answers for resources without creating anything."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, object]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, object], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def stack_config() -> Iterator[dict[str, str]]:
    values: dict[str, str] = {}
    with event_loop():
        pulumi.runtime.set_mocks(NoCloud(), project="cloud-sync", stack="dev", preview=False)
        pulumi.runtime.set_all_config(values)
        yield values
        pulumi.runtime.set_all_config({})


def run_program() -> dict[str, object]:
    return runpy.run_module("infra.__main__", run_name="__pulumi__")


def test_the_program_reads_the_stack_settings(stack_config: dict[str, str]) -> None:
    stack_config.update(
        {"cloud-sync:environment": "prod", "cloud-sync:lambdaArchitecture": "x86_64"}
    )
    pulumi.runtime.set_all_config(stack_config)
    namespace = run_program()
    settings = namespace["settings"]
    assert isinstance(settings, StackSettings)
    assert settings.environment == "prod"
    assert settings.lambda_architecture == "x86_64"


def test_a_stack_without_an_environment_is_refused_by_name(stack_config: dict[str, str]) -> None:
    with pytest.raises(StackConfigError, match="cloud-sync:environment is not set"):
        run_program()


ROOT = Path(__file__).resolve().parents[2]


def test_the_project_file_points_at_the_program() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "cloud-sync"
    assert project["main"] == "infra/"
    assert project["runtime"]["name"] == "python"
    assert (ROOT / "infra" / "__main__.py").is_file()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_file_holds_valid_settings(stack: str) -> None:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    prefix = "cloud-sync:"
    values = {
        key[len(prefix) :]: str(value) for key, value in config.items() if key.startswith(prefix)
    }
    settings = StackSettings.read(values.get)
    assert settings.environment == stack
