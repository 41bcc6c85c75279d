"""Run the Pulumi program under `pulumi.runtime.set_mocks` and keep every resource's inputs."""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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
    outputs: dict[str, Any]

    def policy(self, field_name: str = "policy") -> dict[str, Any]:
        value = self.inputs[field_name]
        return json.loads(value) if isinstance(value, str) else dict(value)


@dataclass
class Recorder(pulumi.runtime.Mocks):
    resources: list[Recorded] = field(default_factory=list)
    depends_on: dict[str, list[str]] = field(default_factory=dict)
    """Resource name -> the names of the resources it was declared to wait for."""
    kept: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    """Resource name -> (protect, retain_on_delete) as the program declared them."""

    def transformation(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        waits = args.opts.depends_on if args.opts else None
        listed = waits if isinstance(waits, list) else [waits] if waits else []
        self.depends_on[args.name] = [
            d.pulumi_resource_name for d in listed if isinstance(d, pulumi.Resource)
        ]
        opts = args.opts
        self.kept[args.name] = (
            bool(opts and opts.protect),
            bool(opts and opts.retain_on_delete),
        )
        return None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        name = str(args.inputs.get("name") or args.name)
        service = args.typ.split(":")[1].split("/")[0]
        # ARNs shaped as AWS shapes them, so that policies are judged on real forms.
        service, resource = {
            "aws:dynamodb/table:Table": ("dynamodb", f"table/{name}"),
            "aws:secretsmanager/secret:Secret": ("secretsmanager", f"secret:{name}-Ab12Cd"),
            "aws:kms/key:Key": ("kms", "key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
            "aws:cloudwatch/logGroup:LogGroup": ("logs", f"log-group:{name}"),
        }.get(args.typ, (service, name))
        outputs.setdefault("arn", f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}")
        if args.typ == "aws:s3/bucket:Bucket":
            outputs.setdefault("bucket", f"gopro-archive-{args.name}")
            outputs["arn"] = f"arn:aws:s3:::{outputs['bucket']}"
        if args.typ == "aws:lambda/function:Function":
            outputs["arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if args.typ == "aws:sfn/stateMachine:StateMachine":
            outputs["arn"] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        self.resources.append(Recorded(args.typ, args.name, dict(args.inputs), outputs))
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
    with event_loop():
        return _run(recorder, stack, overrides)


@contextmanager
def event_loop() -> Iterator[None]:
    """Pulumi's mocks run on the thread's event loop; Python 3.12 no longer makes one on
    demand, so each program run gets its own. The mocks also need a loop in each executor
    thread (and leave one unclosed where they make it): those threads get theirs from here,
    closed at the end."""
    loop = asyncio.new_event_loop()
    workers: list[asyncio.AbstractEventLoop] = []

    def worker_loop() -> None:
        workers.append(asyncio.new_event_loop())
        asyncio.set_event_loop(workers[-1])

    executor = ThreadPoolExecutor(initializer=worker_loop)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        # Let what the program left registering finish, so nothing is destroyed pending.
        pending = asyncio.all_tasks(loop)
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()
        executor.shutdown(wait=True)
        for worker in workers:
            worker.close()


def _run(recorder: Recorder, stack: str, overrides: dict[str, str] | None) -> Recorder:
    pulumi.runtime.set_mocks(recorder, project="cloud-sync", stack=stack, preview=False)
    pulumi.runtime.set_all_config({**stack_config(stack), **(overrides or {})})

    def program() -> None:
        pulumi.runtime.register_stack_transformation(recorder.transformation)
        runpy.run_module("infra.__main__", run_name="__main__")

    try:
        # pulumi.runtime.test returns once every resource registration has finished.
        waiting: Any = pulumi.runtime.test(program)  # type: ignore[no-untyped-call]
        waiting()
    finally:
        pulumi.runtime.set_all_config({})
    return recorder
