"""Judge the AWS calls the functions really make against the roles the program declares.

A call (sandbox.aws_calls) becomes the IAM actions it needs on the resources it touches, in
the deployed stack's terms: the function's local settings (bucket, table, key, topic,
secret) are translated to the values the program gives that function's environment, and
those to the declared resources' ARNs. Each action is then evaluated against the
function's declared role policy. Where AWS's documentation asks more than the call's name
says, the stricter reading is encoded:

- HeadObject/GetObject answered 404 needs `s3:ListBucket` on the bucket (without it S3
  answers 403; HeadObject documentation, "Permissions").
- PutObject and the multipart upload under SSE-KMS need `kms:GenerateDataKey` and
  `kms:Decrypt` on the bucket's key (S3 User Guide, "Using SSE-KMS", multipart uploads);
  GetObject needs `kms:Decrypt`.
- PutObject or CreateMultipartUpload with tags needs `s3:PutObjectTagging`.
- Publishing to a KMS-encrypted topic needs `kms:GenerateDataKey` and `kms:Decrypt` on
  the topic's key (SNS Developer Guide, "Encryption at rest").

A call no mapping knows fails: add its mapping here. A grant no call used is reported at the
end of the session (some serve paths the tests do not reach), not failed.
"""

from __future__ import annotations

import fnmatch
import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from entrypoints.settings import Settings
from sandbox.aws_calls import AwsCall
from tests.infra.recorder import Recorder, run_program

FUNCTIONS = {
    "media-authenticator": "authenticator",
    "media-lister": "lister",
    "video-downloader": "downloader",
    "run-summary": "summary",
}


@dataclass(frozen=True)
class Need:
    """One IAM action on one resource, and why the call needs it."""

    action: str
    resource: str
    because: str


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditional: bool

    def matches(self, need: Need) -> bool:
        return any(fnmatch.fnmatch(need.action.lower(), a.lower()) for a in self.actions) and any(
            fnmatch.fnmatchcase(need.resource, r) for r in self.resources
        )


def statements(policy: Mapping[str, Any]) -> list[Statement]:
    def listed(value: Any) -> tuple[str, ...]:
        return tuple(value) if isinstance(value, list) else (str(value),)

    return [
        Statement(
            sid=str(s.get("Sid", f"#{index}")),
            effect=s["Effect"],
            actions=listed(s["Action"]),
            resources=listed(s["Resource"]),
            conditional="Condition" in s,
        )
        for index, s in enumerate(policy["Statement"])
    ]


def allowed_by(need: Need, policy: list[Statement]) -> Statement | None:
    """The statement that allows `need`, or None. A Deny wins; a conditional Allow is not
    counted (the stricter reading: the test cannot know the request's context)."""
    if any(s.effect == "Deny" and s.matches(need) for s in policy):
        return None
    return next(
        (s for s in policy if s.effect == "Allow" and not s.conditional and s.matches(need)), None
    )


@dataclass(frozen=True)
class DeclaredFunction:
    role: str
    environment: dict[str, str]
    policy: list[Statement]


@dataclass(frozen=True)
class Declared:
    """The dev stack as the program declares it, under mocks."""

    functions: dict[str, DeclaredFunction]
    arns: dict[tuple[str, str], str]
    """(resource type, name) -> ARN."""
    topic_keys: dict[str, str]
    """topic ARN -> its KMS key ARN."""

    def arn(self, kind: str, name: str) -> str:
        return self.arns.get((kind, name), f"undeclared:{kind}:{name}")


@functools.cache
def declared() -> Declared:
    recorder: Recorder = run_program("dev")
    arns = {
        (r.type, str(r.inputs["name"])): str(r.outputs["arn"])
        for r in recorder.resources
        if "name" in r.inputs and "arn" in r.outputs
    }
    topic_keys = {
        str(t.outputs["arn"]): str(t.inputs["kmsMasterKeyId"])
        for t in recorder.of_type("aws:sns/topic:Topic")
    }
    functions = {}
    for function in recorder.of_type("aws:lambda/function:Function"):
        role = next(k for base, k in FUNCTIONS.items() if function.inputs["name"].startswith(base))
        functions[role] = DeclaredFunction(
            role=role,
            environment=dict(function.inputs["environment"]["variables"]),
            policy=statements(recorder.one("aws:iam/rolePolicy:RolePolicy", f"{role}-").policy()),
        )
    return Declared(functions, arns, topic_keys)


@dataclass(frozen=True)
class Translation:
    """Local names (the sandbox's settings) -> the stack's, for one function."""

    local: Settings
    stack: DeclaredFunction
    declared: Declared

    @property
    def bucket(self) -> str:
        return self.stack.environment["ARCHIVE_BUCKET"]

    def table_arn(self, local_name: str) -> str:
        if local_name != self.local.table_name:
            return f"undeclared:table:{local_name}"
        return self.declared.arn(
            "aws:dynamodb/table:Table", self.stack.environment["TRACKER_TABLE"]
        )

    def secret_arn(self, local_id: str, provider: str = "gopro") -> str:
        if local_id != self.local.credentials_secret.format(provider=provider):
            return f"undeclared:secret:{local_id}"
        name = self.stack.environment["CREDENTIALS_SECRET"].format(provider=provider)
        return self.declared.arn("aws:secretsmanager/secret:Secret", name)

    def topic_arn(self, local_arn: str) -> str:
        if local_arn != self.local.alert_topic_arn:
            return f"undeclared:topic:{local_arn}"
        return self.stack.environment["ALERT_TOPIC_ARN"]

    def state_machine_arn(self, local_arn: str) -> str:
        """The declared state machine of the same name as the local one."""
        name = local_arn.rsplit(":", 1)[-1]
        return self.declared.arn("aws:sfn/stateMachine:StateMachine", name)

    def execution_arn(self, local_arn: str) -> str:
        """`execution:<machine>:<name>` of the declared machine of that name."""
        head, _, rest = local_arn.partition(":execution:")
        machine, _, name = rest.rpartition(":")
        declared = self.state_machine_arn(f"{head}:stateMachine:{machine}")
        return declared.replace(":stateMachine:", ":execution:", 1) + f":{name}"

    def object_arn(self, bucket: str, key: str) -> str:
        if bucket != self.local.bucket_name:
            return f"undeclared:bucket:{bucket}/{key}"
        return f"arn:aws:s3:::{self.bucket}/{key}"

    @property
    def bucket_key(self) -> str:
        return self.stack.environment["ARCHIVE_KMS_KEY"]


S3_OBJECT_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "PutObjectTagging": "s3:PutObjectTagging",
    "GetObjectTagging": "s3:GetObjectTagging",
    "DeleteObject": "s3:DeleteObject",
    "RestoreObject": "s3:RestoreObject",
}
ENCRYPTING = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}


class UnmappedCallError(AssertionError):
    """A call this module cannot turn into IAM actions: add a mapping."""


TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def dynamodb_needs(call: AwsCall, t: Translation) -> list[Need]:
    """The action of the call's name on each table it names. TransactWriteItems has no
    action of its own: each action in it needs its own (the DynamoDB guide, "Using IAM
    with DynamoDB transactions")."""
    p, op = call.parameters, call.operation
    if op != "TransactWriteItems":
        tables = list(p["RequestItems"]) if "RequestItems" in p else [p["TableName"]]
        return [Need(f"dynamodb:{op}", t.table_arn(table), f"dynamodb:{op}") for table in tables]
    found: dict[tuple[str, str], Need] = {}
    for entry in call.parameters["TransactItems"]:
        for kind, body in entry.items():
            action = f"dynamodb:{TRANSACTION_ACTIONS[kind]}"
            arn = t.table_arn(body["TableName"])
            found.setdefault(
                (action, arn), Need(action, arn, f"dynamodb:{call.operation} ({kind})")
            )
    return list(found.values())


STATES_CALLS: dict[str, tuple[str, Callable[[Translation, str], str]]] = {
    "ListExecutions": ("stateMachineArn", Translation.state_machine_arn),
    "DescribeExecution": ("executionArn", Translation.execution_arn),
}
"""Step Functions calls a function makes: the parameter naming the resource, and how the
local resource becomes the declared one."""


def s3_object_needs(call: AwsCall, t: Translation) -> list[Need]:
    """An object call's action, and the listing and key it may need besides."""
    p, op = call.parameters, call.operation
    why = f"{call.service}:{op}"
    resource = t.object_arn(p["Bucket"], p["Key"])
    found = [Need(S3_OBJECT_ACTIONS[op], resource, why)]
    bucket = resource.split("/", 1)[0]
    if op in ("HeadObject", "GetObject") and call.status == 404:
        found.append(Need("s3:ListBucket", bucket, f"{why} of a missing key answers 404"))
    if op in ENCRYPTING:
        found += [
            Need(a, t.bucket_key, f"{why} under SSE-KMS")
            for a in ("kms:GenerateDataKey", "kms:Decrypt")
        ]
    if op == "GetObject":
        found.append(Need("kms:Decrypt", t.bucket_key, f"{why} of an SSE-KMS object"))
    if op in ("PutObject", "CreateMultipartUpload") and p.get("Tagging"):
        found.append(Need("s3:PutObjectTagging", resource, f"{why} with tags"))
    return found


def needs(call: AwsCall, t: Translation) -> list[Need]:  # noqa: PLR0911 - one branch a service
    p, op = call.parameters, call.operation
    why = f"{call.service}:{op}"
    if call.service == "s3" and op in S3_OBJECT_ACTIONS:
        return s3_object_needs(call, t)
    if call.service == "s3" and op in ("ListObjectsV2", "ListObjects"):
        return [Need("s3:ListBucket", t.object_arn(p["Bucket"], "").rstrip("/"), why)]
    if call.service == "dynamodb":
        return dynamodb_needs(call, t)
    if call.service == "secretsmanager":
        return [Need(f"secretsmanager:{op}", t.secret_arn(p["SecretId"]), why)]
    if call.service == "sns" and op == "Publish":
        topic = t.topic_arn(p["TopicArn"])
        key = t.declared.topic_keys.get(topic)
        keys = (
            [
                Need(a, key, f"{why} to an encrypted topic")
                for a in ("kms:GenerateDataKey", "kms:Decrypt")
            ]
            if key
            else []
        )
        return [Need("sns:Publish", topic, why), *keys]
    if call.service == "stepfunctions" and op in STATES_CALLS:
        parameter, translate = STATES_CALLS[op]
        return [Need(f"states:{op}", translate(t, p[parameter]), why)]
    if call.service == "cloudwatch" and op == "PutMetricData":
        return [Need("cloudwatch:PutMetricData", "*", why)]
    raise UnmappedCallError(
        f"no IAM mapping for {why} (made by {call.function}); add one to tests/infra/iam.py"
    )


@dataclass
class Usage:
    """Which declared grants some call used, across the session."""

    used: set[tuple[str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, role: str, statement: Statement) -> None:
        with self._lock:
            self.used.add((role, statement.sid))

    def unused(self) -> list[str]:
        found = []
        for role, function in declared().functions.items():
            for s in function.policy:
                if all(a.startswith("logs:") for a in s.actions):
                    continue  # the Lambda runtime writes the function's logs, not its code
                if s.effect == "Allow" and (role, s.sid) not in self.used:
                    found.append(f"{role}: {s.sid} ({', '.join(s.actions)})")
        return found


USAGE = Usage()
PERSON = "person:"
"""Calls of a person's commands (tests/integration/test_operator_iam.py judges them
against the policies `cloudsync policy` publishes), not of a function."""
SANDBOX_ONLY_METRICS = "cloudwatch:PutMetricData"
"""The sandbox publishes metrics through the API (METRICS=api) so the demo can read them;
the stack sets METRICS=emf and grants nothing for it. Judged only where both agree."""


def refusals(calls: Iterable[AwsCall], local: Settings, stack: Declared | None = None) -> list[str]:
    """One line per call the declared role would refuse: function, action, resource, why."""
    stack = stack or declared()
    found: list[str] = []
    for call in calls:
        if call.function.startswith(PERSON):
            continue
        role = next((r for base, r in FUNCTIONS.items() if call.function.startswith(base)), None)
        if role is None:
            found.append(f"{call.function}: not a function the stack declares")
            continue
        function = stack.functions[role]
        translation = Translation(local, function, stack)
        for need in needs(call, translation):
            if (
                need.action == SANDBOX_ONLY_METRICS
                and local.metrics != function.environment["METRICS"]
            ):
                continue
            statement = allowed_by(need, function.policy)
            if statement is None:
                found.append(
                    f"{role} may not {need.action} on {need.resource} (needed by {need.because})"
                )
            elif stack is declared():
                USAGE.note(role, statement)
    return sorted(set(found))


def assert_granted(calls: Iterable[AwsCall], env: Mapping[str, str]) -> None:
    listed = list(calls)
    refused = refusals(listed, Settings.from_env(env))
    assert not refused, "calls the deployed roles would refuse:\n" + "\n".join(refused)


def policy_without(role: str, action: str) -> Declared:
    """The declared stack with `action` taken out of `role`'s policy (for mutation tests)."""
    stack = declared()
    function = stack.functions[role]
    trimmed = [
        Statement(
            s.sid, s.effect, tuple(a for a in s.actions if a != action), s.resources, s.conditional
        )
        for s in function.policy
    ]
    return Declared(
        {**stack.functions, role: DeclaredFunction(role, function.environment, trimmed)},
        stack.arns,
        stack.topic_keys,
    )
