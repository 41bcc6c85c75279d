"""Run the Pulumi program under `pulumi.runtime.set_mocks` and keep every resource's inputs."""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "eu-central-1"


@dataclass(frozen=True)
class Recorded:
    type: str
    name: str
    inputs: dict[str, Any]

    def policy(self, field_name: str = "policy") -> dict[str, Any]:
        value = self.inputs[field_name]
        return json.loads(value) if isinstance(value, str) else dict(value)


@dataclass
class Recorder(pulumi.runtime.Mocks):
    resources: list[Recorded] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(Recorded(args.typ, args.name, dict(args.inputs)))
        outputs = dict(args.inputs)
        name = str(args.inputs.get("name") or args.name)
        service = args.typ.split(":")[1].split("/")[0]
        outputs.setdefault("arn", f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}")
        if args.typ == "aws:s3/bucket:Bucket":
            outputs.setdefault("bucket", f"gopro-archive-{args.name}")
            outputs["arn"] = f"arn:aws:s3:::{outputs['bucket']}"
        if args.typ == "aws:lambda/function:Function":
            outputs["arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if args.typ == "aws:sfn/stateMachine:StateMachine":
            outputs["arn"] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            identity = {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "userId": "u"}
            return identity, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION}, []
        return {}, []

    def of_type(self, kind: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == kind]

    def one(self, kind: str, name_part: str = "") -> Recorded:
        found = [r for r in self.of_type(kind) if name_part in r.name]
        assert len(found) == 1, f"{kind} {name_part!r}: {[r.name for r in found]}"
        return found[0]


def stack_config(stack: str) -> dict[str, str]:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in config.items()
    }


def run_program(stack: str, overrides: dict[str, str] | None = None) -> Recorder:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="cloud-sync", stack=stack, preview=False)
    pulumi.runtime.set_all_config({**stack_config(stack), **(overrides or {})})

    def program() -> None:
        runpy.run_module("infra.__main__", run_name="__main__")

    try:
        # pulumi.runtime.test returns once every resource registration has finished.
        waiting: Any = pulumi.runtime.test(program)  # type: ignore[no-untyped-call]
        waiting()
    finally:
        pulumi.runtime.set_all_config({})
    return recorder
