"""Which deployment a command talks to.

A setting comes from, in this order: the command's flag, its environment variable, the
stack, a default. The stack is a Pulumi stack's configuration (`Pulumi.<stack>.yaml` of
the project the command runs in: its `cloud-sync:` settings and `aws:region`) and what the
deployed stack says about itself: its lister function's environment names the bucket, the
table, the key, the topic and the secret, and its ARN gives the account and region of the
state machine (one GetFunctionConfiguration, made only when a setting is not given).

Nothing here calls AWS: `Target.deployed` is handed the call.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from entrypoints.exits import UserError
from infra.config import ENVIRONMENTS, StackConfigError, StackSettings
from infra.names import ALARMS, FUNCTIONS, MACHINE

DEFAULT_STACK = "prod"
PROJECT_FILE = "Pulumi.yaml"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class StackFile:
    """A stack's configuration as the project's `Pulumi.<stack>.yaml` writes it."""

    name: str
    settings: StackSettings
    region: str | None = None
    path: Path | None = None
    """None: no project here; a stack named dev or prod then has that environment's names."""


def find_project(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding a Pulumi.yaml."""
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # a `secure:` value: no stack setting of ours is secret
        return None
    if isinstance(value, list):  # as Pulumi hands a list to the program: JSON
        return json.dumps(value)
    return str(value)


def read_stack(name: str, start: Path | None = None) -> StackFile:
    """The stack `name`'s configuration, from the project at or above `start` (the working
    folder); without a project, only `dev` and `prod` are known."""
    import yaml  # noqa: PLC0415 - only when a command needs a stack

    project = find_project(start or Path.cwd())
    if project is None:
        if name in ENVIRONMENTS:
            return StackFile(name, StackSettings(environment=name))
        raise UserError(
            f"stack {name!r}: no {PROJECT_FILE} in this folder or above it; run cloudsync "
            "in the project's folder, or name the resources with --bucket, --table and "
            "--state-machine"
        )
    path = project / f"Pulumi.{name}.yaml"
    if not path.is_file():
        known = sorted(p.name.split(".")[1] for p in project.glob("Pulumi.*.yaml"))
        raise UserError(
            f"stack {name!r} has no {path.name} in {project}; known stacks: "
            f"{', '.join(known) or 'none'} (pick one with --stack or CLOUDSYNC_STACK)"
        )
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UserError(f"cannot read {path}: {error}") from None
    config = loaded.get("config") if isinstance(loaded, dict) else None
    if not isinstance(config, dict):
        config = {}
    ours = {key.removeprefix("cloud-sync:"): _text(v) for key, v in config.items()}
    try:
        settings = StackSettings.read(ours.get)
    except StackConfigError as error:
        raise UserError(f"{path.name}: {error}") from None
    return StackFile(name, settings, _text(config.get("aws:region")), path)


@dataclass(frozen=True)
class Deployed:
    """What the deployed stack says about itself."""

    bucket: str
    table: str
    kms_key: str
    topic: str
    secret_template: str
    gopro_api_url: str
    state_machine: str
    function_arn: str
    """The lister's ARN: the stack's partition, region and account."""


@dataclass
class Target:
    """The stack a command talks to, with the settings its flags and environment gave
    (None: not given); `deployed` asks the stack for the rest, once, when first needed."""

    stack: StackFile
    bucket_given: str | None = None
    table_given: str | None = None
    state_machine_given: str | None = None
    gopro_url_given: str | None = None
    region_given: str | None = None
    deployed: Callable[[Target], Deployed] | None = field(default=None, repr=False)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)

    @property
    def settings(self) -> StackSettings:
        return self.stack.settings

    @property
    def region(self) -> str:
        """--region, else AWS_REGION or AWS_DEFAULT_REGION, else the stack's aws:region."""
        for found in (self.region_given, *(self.environ.get(v) for v in REGION_VARIABLES)):
            if found:
                return found
        if self.stack.region:
            return self.stack.region
        where = self.stack.path.name if self.stack.path else f"Pulumi.{self.stack.name}.yaml"
        raise UserError(
            "which AWS region? pass --region, set AWS_REGION, or set aws:region in " + where
        )

    @cached_property
    def _deployment(self) -> Deployed:
        if self.deployed is None:
            raise UserError(f"stack {self.stack.name!r}: its resources cannot be looked up here")
        return self.deployed(self)

    @property
    def function_name(self) -> str:
        """The function whose environment describes the deployment."""
        return self.settings.name(FUNCTIONS["lister"])

    @property
    def machine_name(self) -> str:
        return self.settings.name(MACHINE)

    @property
    def alarm_names(self) -> tuple[str, ...]:
        return tuple(self.settings.name(alarm) for alarm in ALARMS)

    @property
    def deployment(self) -> Deployed:
        """What the deployed stack says about itself (asked of AWS once)."""
        return self._deployment

    @property
    def bucket(self) -> str:
        return self.bucket_given or self._deployment.bucket

    @property
    def table_name(self) -> str:
        return self.table_given or self._deployment.table

    @property
    def state_machine(self) -> str:
        return self.state_machine_given or self._deployment.state_machine

    @property
    def secret_template(self) -> str:
        if self.bucket_given and self.table_given:  # named by hand: the stack's own names
            return self.settings.name("{provider}/credentials")
        return self._deployment.secret_template

    def secret_name(self, provider: str) -> str:
        return self.secret_template.format(provider=provider)

    @property
    def gopro_url(self) -> str:
        """--gopro-url, else GOPRO_API_URL, else what the deployed stack uses, else the
        stack's goproApiUrl."""
        if self.gopro_url_given:
            return self.gopro_url_given
        if self.deployed is not None:
            return self._deployment.gopro_api_url
        return self.settings.gopro_api_url
