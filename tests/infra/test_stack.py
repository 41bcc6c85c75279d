"""The Pulumi program under mocks, for both stacks: every requirement it carries, read from
the recorded resources' inputs."""

from __future__ import annotations

import itertools
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.aws.metrics import EmfMetrics
from infra.config import StackConfigError
from infra.packaging import PLATFORMS, build, build_code
from infra.policies import WILDCARD_EXCEPTIONS
from infra.schedule import NIGHTLY
from tests.infra.aws_rules import lifecycle_violations, statelint
from tests.infra.recorder import Recorder, run_program

STACKS = ["dev", "prod"]
LAMBDA = "aws:lambda/function:Function"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@pytest.fixture(scope="module", params=STACKS)
def stack(request: pytest.FixtureRequest) -> tuple[str, Recorder]:
    return request.param, run_program(request.param)


def name_for(stack: str, base: str) -> str:
    return base if stack == "prod" else f"{base}-dev"


def statements(recorded: Any) -> list[dict[str, Any]]:
    return list(recorded.policy()["Statement"])


def actions_on(recorded: Any) -> dict[str, set[str]]:
    """Resource -> the actions allowed on it."""
    allowed: dict[str, set[str]] = {}
    for statement in statements(recorded):
        for resource in statement["Resource"]:
            allowed.setdefault(resource, set()).update(statement["Action"])
    return allowed


def test_the_bucket_is_encrypted_private_versioned_and_tls_only(
    stack: tuple[str, Recorder],
) -> None:
    _, r = stack
    encryption = r.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    rule = encryption.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms")
    assert rule["bucketKeyEnabled"] is True
    key = r.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True  # R9.2
    block = r.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[flag]
        for flag in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    versioning = r.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"  # R9.4
    denies = {s["Sid"]: s for s in r.one("aws:s3/bucketPolicy:BucketPolicy").policy()["Statement"]}
    assert denies["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert denies["DenyOldTls"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert all(s["Effect"] == "Deny" for s in denies.values())


def test_the_lifecycle_moves_videos_straight_to_deep_archive(
    stack: tuple[str, Recorder],
) -> None:
    _, r = stack
    rules = {
        rule["id"]: rule
        for rule in r.one(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        ).inputs["rules"]
    }
    tiers = rules["archive-tiers"]
    assert tiers["filter"] == {"prefix": "gopro-videos/"}  # R5.1
    assert [(t["storageClass"], t["days"]) for t in tiers["transitions"]] == [("DEEP_ARCHIVE", 14)]
    assert [
        (t["storageClass"], t["noncurrentDays"]) for t in tiers["noncurrentVersionTransitions"]
    ] == [("DEEP_ARCHIVE", 14)]
    assert (
        rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
        == 7
    )
    runs = rules["expire-run-files"]
    assert runs["filter"] == {"prefix": "runs/"}  # never the archive's videos
    assert runs["expiration"] == {"days": 14}
    assert runs["noncurrentVersionExpiration"] == {"noncurrentDays": 1}
    assert lifecycle_violations(list(rules.values())) == []


def test_the_buckets_configuration_is_applied_one_change_at_a_time(
    stack: tuple[str, Recorder],
) -> None:
    # S3 answers concurrent configuration changes of one bucket with 409 OperationAborted
    _, r = stack
    chain = [
        "archive-encryption",
        "archive-public-access",
        "archive-versioning",
        "archive-policy",
        "archive-lifecycle",
    ]
    for before, after in itertools.pairwise(chain):
        assert r.depends_on[after] == [before], (after, r.depends_on[after])


def test_transition_days_come_from_the_stack_config() -> None:
    r = run_program(
        "dev", {"cloud-sync:glacierIrAfterDays": "30", "cloud-sync:deepArchiveAfterDays": "120"}
    )
    rules = r.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
    ]
    assert [(t["storageClass"], t["days"]) for t in rules[0]["transitions"]] == [
        ("GLACIER_IR", 30),
        ("DEEP_ARCHIVE", 120),
    ]
    assert lifecycle_violations(rules) == []


def test_a_glacier_ir_too_close_to_deep_archive_stops_the_program_naming_both() -> None:
    with pytest.raises(StackConfigError, match=r"deepArchiveAfterDays.*glacierIrAfterDays"):
        run_program("dev", {"cloud-sync:glacierIrAfterDays": "7"})


def test_a_bad_stack_setting_stops_the_program_with_its_name() -> None:
    with pytest.raises(StackConfigError, match="lambdaArchitecture"):
        run_program("dev", {"cloud-sync:lambdaArchitecture": "sparc"})


def test_the_tracker_table(stack: tuple[str, Recorder]) -> None:
    name, r = stack
    table = r.one("aws:dynamodb/table:Table").inputs
    assert table["hashKey"] == "media_id"  # R4.1
    assert table["attributes"] == [{"name": "media_id", "type": "S"}]
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True}
    assert "ttl" not in table  # R4.4
    assert table["deletionProtectionEnabled"] is (name == "prod")
    assert table["name"] == name_for(name, "gopro-sync-tracker")


def test_the_secret_exists_without_a_value(stack: tuple[str, Recorder]) -> None:
    name, r = stack
    secret = r.one("aws:secretsmanager/secret:Secret").inputs
    assert secret["name"] == name_for(name, "gopro/credentials")
    assert not r.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    # Its name is fixed: a dev stack destroyed and brought up again must be able to create
    # it at once (no recovery window); prod keeps it restorable for 30 days
    assert secret["recoveryWindowInDays"] == (30 if name == "prod" else 0)


def test_alarms_may_use_the_key_of_the_topic_as_aws_documents_it(
    stack: tuple[str, Recorder],
) -> None:
    _, r = stack
    statements = r.one("aws:kms/key:Key").policy()["Statement"]
    alarms = [
        s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    # The form of AWS's Knowledge Center for alarms to a KMS-encrypted topic: a condition
    # AWS does not document for this flow would silently drop every alarm's message
    assert alarms == [
        {
            "Sid": "AlarmsPublishToTheTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
    ]
    # The topic's own policy is where the account is named
    topic = r.one("aws:sns/topicPolicy:TopicPolicy").policy()["Statement"]
    assert topic[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_the_key_that_encrypts_the_archive_outlives_a_prod_destroy(
    stack: tuple[str, Recorder],
) -> None:
    name, r = stack
    key = r.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    bucket = r.one("aws:s3/bucket:Bucket")
    # As protected as the bucket whose objects it encrypts, and kept on a destroy
    assert r.kept[key.name][0] == r.kept[bucket.name][0] == (name == "prod")
    assert r.kept[key.name][1] is (name == "prod")


def test_the_reference_functions_and_the_summary_with_their_sizes(
    stack: tuple[str, Recorder],
) -> None:
    name, r = stack
    functions = {f.inputs["name"]: f.inputs for f in r.of_type(LAMBDA)}
    assert set(functions) == {
        name_for(name, n)
        for n in ("media-authenticator", "media-lister", "video-downloader", "run-summary")
    }
    summary = functions[name_for(name, "run-summary")]
    assert summary["handler"] == "entrypoints.handlers.summary.handler"
    downloader = functions[name_for(name, "video-downloader")]
    assert (downloader["memorySize"], downloader["timeout"]) == (512, 900)  # R10.5
    for function in functions.values():
        assert function["runtime"] == "python3.12"
        assert function["architectures"] == ["arm64"]
        assert function["handler"].startswith("entrypoints.handlers.")
        assert len(function["layers"]) == 1
        env = function["environment"]["variables"]
        assert env["CREDENTIALS_SECRET"] == name_for(name, "{provider}/credentials")
        assert env["METRICS"] == "emf"
        assert not any("token" in k.lower() or "password" in k.lower() for k in env)
    retention = {
        g.inputs["name"]: g.inputs["retentionInDays"]
        for g in r.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    expected = 90 if name == "prod" else 14
    assert retention[f"/aws/lambda/{name_for(name, 'video-downloader')}"] == expected
    assert set(retention.values()) == {expected}


def test_the_architecture_comes_from_the_stack_config() -> None:
    r = run_program("dev", {"cloud-sync:lambdaArchitecture": "x86_64"})
    assert {tuple(f.inputs["architectures"]) for f in r.of_type(LAMBDA)} == {("x86_64",)}


def test_the_authenticator_may_only_read_and_write_its_secret(stack: tuple[str, Recorder]) -> None:
    _, r = stack
    allowed = actions_on(r.one(ROLE_POLICY, "authenticator"))
    secret = [res for res in allowed if ":secretsmanager:" in res]
    assert len(secret) == 1
    assert allowed[secret[0]] == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
    }  # R9.5
    others = {a for res, acts in allowed.items() if res not in secret for a in acts}
    assert others == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_the_downloader_writes_only_under_gopro_videos(stack: tuple[str, Recorder]) -> None:
    _, r = stack
    allowed = actions_on(r.one(ROLE_POLICY, "downloader"))
    objects = [res for res in allowed if res.startswith("arn:aws:s3:::") and "/" in res]
    archive = [res for res in objects if res.endswith("/gopro-videos/*")]  # R9.6
    assert len(archive) == 1
    # Beyond the archive: reading the ETag judgement; writing thumbnails and GoPro's changes
    (verdicts,) = {res for res in objects if res.endswith("/catalog/*-etag.json")}
    assert allowed[verdicts] == {"s3:GetObject"}
    writes = {res.partition("/")[2]: allowed[res]
              for res in set(objects) - set(archive) - {verdicts}}  # fmt: skip
    assert writes == {"thumbnails/*": {"s3:PutObject"}, "catalog/changes/*": {"s3:PutObject"}}
    # The bucket itself: only listing, so that a missing key answers 404 rather than 403
    bucket = archive[0].removesuffix("/gopro-videos/*")
    assert allowed[bucket] == {"s3:ListBucket"}
    listing = next(
        s for s in statements(r.one(ROLE_POLICY, "downloader")) if bucket in s["Resource"]
    )
    assert "Condition" not in listing
    assert allowed[archive[0]] == {
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:ListMultipartUploadParts",
    }
    key = [res for res in allowed if ":kms:" in res]
    assert allowed[key[0]] == {"kms:GenerateDataKey", "kms:Decrypt"}
    table = [res for res in allowed if ":dynamodb:" in res]
    assert allowed[table[0]] == {"dynamodb:GetItem", "dynamodb:PutItem"}
    topic = [res for res in allowed if ":sns:" in res]
    assert allowed[topic[0]] == {"sns:Publish"}
    all_actions = {a for acts in allowed.values() for a in acts}
    assert "s3:DeleteObject" not in all_actions
    assert "secretsmanager:PutSecretValue" not in all_actions


def by_prefix(s3: dict[str, set[str]]) -> dict[str, set[str]]:
    """S3 grants by the key prefix they cover ("" for the bucket itself)."""
    return {
        res.split(":::", 1)[1].split("/", 1)[-1] if "/" in res else "": acts
        for res, acts in s3.items()
    }


def test_the_lister_writes_run_lists_and_nothing_of_the_archive(
    stack: tuple[str, Recorder],
) -> None:
    name, r = stack
    allowed = actions_on(r.one(ROLE_POLICY, "lister"))
    all_actions = {a for acts in allowed.values() for a in acts}
    assert all_actions == {
        "secretsmanager:GetSecretValue",
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "s3:PutObject",
        "s3:GetObject",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "states:ListExecutions",
        "states:DescribeExecution",
        "sns:Publish",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    # One run at a time: its own workflow's runs, and nothing else of Step Functions
    machine_name = name_for(name, "gopro-sync-orchestrator")
    machine = f"arn:aws:states:eu-central-1:123456789012:stateMachine:{machine_name}"
    executions = machine.replace(":stateMachine:", ":execution:") + ":*"
    assert allowed[machine] == {"states:ListExecutions"}
    assert allowed[executions] == {"states:DescribeExecution"}
    s3 = {res: acts for res, acts in allowed.items() if any(a.startswith("s3:") for a in acts)}
    prefixes = by_prefix(s3)
    assert prefixes == {
        "runs/*": {"s3:PutObject", "s3:GetObject"},
        "thumbnails/*": {"s3:PutObject"},
        "catalog/changes/*": {"s3:PutObject"},
    }, s3


def test_the_summary_reads_the_run_and_the_archive_and_writes_only_the_catalog(
    stack: tuple[str, Recorder],
) -> None:
    _, r = stack
    allowed = actions_on(r.one(ROLE_POLICY, "summary"))
    all_actions = {a for acts in allowed.values() for a in acts}
    assert all_actions == {
        "dynamodb:BatchGetItem",
        "dynamodb:Scan",  # the catalog is rewritten from every record
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "sns:Publish",
        "s3:RestoreObject",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    s3 = {res: acts for res, acts in allowed.items() if any(a.startswith("s3:") for a in acts)}
    prefixes = by_prefix(s3)
    assert prefixes == {
        "runs/*": {"s3:GetObject"},
        "catalog/*": {"s3:PutObject"},
        "catalog/*-etag.json": {"s3:GetObject"},  # the ETag judgement, read before written
        "catalog/drill-*.json": {"s3:GetObject"},  # the restore drill's state
        # the nightly check's HeadObject, and the drill's restore and read-back; never a write
        "gopro-videos/*": {"s3:GetObject", "s3:RestoreObject"},
        "": {"s3:ListBucket"},
    }, s3
    (key,) = [res for res in allowed if ":kms:" in res]
    assert allowed[key] == {"kms:GenerateDataKey", "kms:Decrypt"}


def test_no_wildcard_beyond_the_documented_exceptions(stack: tuple[str, Recorder]) -> None:
    _, r = stack
    policies = r.of_type(ROLE_POLICY)
    assert len(policies) == 6
    for policy in policies:
        for statement in statements(policy):
            assert statement["Effect"] == "Allow"
            assert all("*" not in action for action in statement["Action"]), statement
            if any(resource == "*" for resource in statement["Resource"]):
                assert statement["Sid"] in WILDCARD_EXCEPTIONS, statement


def test_no_role_can_delete_or_rewrite_an_archived_object_and_only_the_drill_restores(
    stack: tuple[str, Recorder],
) -> None:
    """Restores bill per GB: a person's own act (`cloudsync restore`, with their
    credentials), but for the monthly drill's one small object, which only the summary
    may restore; the archive is never rewritten."""
    _, r = stack
    granted = {
        action
        for policy in r.of_type(ROLE_POLICY)
        for statement in statements(policy)
        for action in statement["Action"]
    }
    assert len(granted) > 10
    forbidden = {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl"}
    assert not granted & forbidden
    restorers = {
        policy.name
        for policy in r.of_type(ROLE_POLICY)
        if any("s3:RestoreObject" in s["Action"] for s in statements(policy))
    }
    assert len(restorers) == 1
    assert "summary" in next(iter(restorers))


def test_the_state_machine_runs_the_definition_traced_and_logged(
    stack: tuple[str, Recorder],
) -> None:
    name, r = stack
    machine = r.one("aws:sfn/stateMachine:StateMachine").inputs
    assert machine["name"] == name_for(name, "gopro-sync-orchestrator")
    assert machine["type"] == "STANDARD"
    assert machine["tracingConfiguration"] == {"enabled": True}
    assert machine["loggingConfiguration"]["includeExecutionData"] is False
    definition = json.loads(machine["definition"])
    assert statelint(definition) == []
    functions = {f.inputs["name"]: f for f in r.of_type(LAMBDA)}
    resources = json.dumps(definition)
    for function_name in functions:
        assert f"function:{function_name}" in resources
    allowed = actions_on(r.one(ROLE_POLICY, "workflow"))
    invocable = {res for res, acts in allowed.items() if "lambda:InvokeFunction" in acts}
    assert {res.rstrip(":*") for res in invocable} == {
        f"arn:aws:lambda:eu-central-1:123456789012:function:{n}" for n in functions
    }
    assert any(
        res.endswith(f"stateMachine:{machine['name']}") and acts == {"states:StartExecution"}
        for res, acts in allowed.items()
    )


def test_the_nightly_schedule(stack: tuple[str, Recorder]) -> None:
    name, r = stack
    schedule = r.one("aws:scheduler/schedule:Schedule").inputs
    assert schedule["scheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["scheduleExpressionTimezone"] == "Etc/GMT-1"
    assert json.loads(schedule["target"]["input"]) == {"provider": "gopro"}
    assert schedule["target"]["arn"].endswith(
        r.one("aws:sfn/stateMachine:StateMachine").inputs["name"]
    )
    assert schedule["target"]["retryPolicy"]["maximumRetryAttempts"] == 3
    # A start that keeps failing lands in an encrypted queue whose alarm alerts the topic
    queue = r.one("aws:sqs/queue:Queue").inputs
    assert queue["name"] == name_for(name, "gopro-sync-schedule-dead-letters")
    assert queue["sqsManagedSseEnabled"] is True
    dead_letters = schedule["target"]["deadLetterConfig"]["arn"]
    assert dead_letters.endswith(queue["name"])
    allowed = actions_on(r.one(ROLE_POLICY, "schedule"))
    assert allowed == {
        schedule["target"]["arn"]: {"states:StartExecution"},
        dead_letters: {"sqs:SendMessage"},
    }
    alarms = {
        a.inputs["name"]: a.inputs for a in r.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    start_failed = alarms[name_for(name, "gopro-sync-schedule-failed")]
    assert (start_failed["namespace"], start_failed["metricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert start_failed["dimensions"] == {"QueueName": queue["name"]}
    topic = r.one("aws:sns/topic:Topic").inputs["name"]
    assert start_failed["alarmActions"] == [f"arn:aws:sns:eu-central-1:123456789012:{topic}"]


def test_the_schedule_fires_at_two_cet_on_every_day_of_a_year() -> None:
    zone, cet = ZoneInfo(NIGHTLY.timezone), ZoneInfo("Europe/Berlin")
    day, skipped_in_berlin = date(2027, 1, 1), []
    while day.year == 2027:
        run = datetime(day.year, day.month, day.day, NIGHTLY.hour, tzinfo=zone)
        assert run.astimezone(UTC).replace(tzinfo=None) == datetime(day.year, day.month, day.day, 1)
        assert run.astimezone(UTC).astimezone(zone) == run  # the instant exists, once
        local = datetime(day.year, day.month, day.day, 2, tzinfo=cet)
        if local.astimezone(UTC).astimezone(cet).hour != 2:
            skipped_in_berlin.append(day)
        day += timedelta(days=1)
    assert skipped_in_berlin == [date(2027, 3, 28)]  # why Europe/Berlin would not do


def test_the_alarm_sees_what_the_functions_publish(stack: tuple[str, Recorder]) -> None:
    name, r = stack
    alarms = {
        a.inputs["name"]: a.inputs for a in r.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    failures = alarms[name_for(name, "gopro-sync-failures")]
    assert (failures["namespace"], failures["metricName"]) == ("CloudSync", "SyncFailures")
    assert (failures["statistic"], failures["period"], failures["threshold"]) == (
        "Sum",
        300,
        3,
    )  # R7.4
    assert failures["comparisonOperator"] == "GreaterThanThreshold"
    topic = r.one("aws:sns/topic:Topic").inputs
    assert topic["name"] == name_for(name, "gopro-sync-alerts")  # R7.5
    assert failures["alarmActions"] == [f"arn:aws:sns:eu-central-1:123456789012:{topic['name']}"]
    # Given a failure as the downloader publishes it
    lines: list[str] = []
    EmfMetrics(write=lines.append).sync_failed("gopro", "TransientSourceError")
    (record,) = [json.loads(line) for line in lines]
    directive = record["_aws"]["CloudWatchMetrics"][0]
    published = {tuple(sorted(dims)) for dims in directive["Dimensions"]}
    # Then one of its series has exactly the alarm's dimensions and values
    assert tuple(sorted(failures["dimensions"])) in published
    assert all(record[k] == v for k, v in failures["dimensions"].items())
    assert directive["Namespace"] == failures["namespace"]
    executions = alarms[name_for(name, "gopro-sync-failed-executions")]
    assert executions["threshold"] == 0
    assert executions["alarmActions"] == failures["alarmActions"]
    # It watches every unsuccessful end, not only failures
    queries = {q["id"]: q for q in executions["metricQueries"]}
    watched = {q["metric"]["metricName"]: q["id"] for q in queries.values() if "metric" in q}
    assert set(watched) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert all(
        q["metric"]["dimensions"]["StateMachineArn"].endswith(
            name_for(name, "gopro-sync-orchestrator")
        )
        for q in queries.values()
        if "metric" in q
    )
    (returned,) = [q for q in queries.values() if q.get("returnData")]
    assert all(f"FILL({m}, 0)" in returned["expression"] for m in watched.values())


def test_the_topic_is_encrypted_and_takes_an_optional_email(stack: tuple[str, Recorder]) -> None:
    _, r = stack
    assert r.one("aws:sns/topic:Topic").inputs["kmsMasterKeyId"].startswith("arn:aws:kms")
    assert r.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    with_email = run_program("dev", {"cloud-sync:alertEmail": "ops@example.com"})
    subscription = with_email.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "ops@example.com")


def test_the_dashboard_shows_the_three_metrics_and_executions(stack: tuple[str, Recorder]) -> None:
    name, r = stack
    dashboard = r.one("aws:cloudwatch/dashboard:Dashboard").inputs
    assert dashboard["dashboardName"] == name_for(name, "GoPro-Sync-Operations")
    body = json.dumps(json.loads(dashboard["dashboardBody"]))
    for metric in ("VideosSynced", "BytesTransferred", "SyncFailures", "ExecutionsFailed"):
        assert metric in body


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_the_layer_is_built_for_lambdas_platform(architecture: str) -> None:
    artifacts = build(architecture, "3.12")
    names = zipfile.ZipFile(artifacts.layer).namelist()
    assert all(n.startswith("python/") for n in names)
    wheels = [n for n in names if n.endswith(".dist-info/WHEEL")]
    assert any("dependency_injector" in n for n in wheels)
    tags = [
        line.split(":", 1)[1].strip()
        for n in wheels
        for line in zipfile.ZipFile(artifacts.layer).read(n).decode().splitlines()
        if line.startswith("Tag:")
    ]
    machine = "aarch64" if architecture == "arm64" else "x86_64"
    specific = [t for t in tags if not t.endswith("-any")]
    assert specific
    assert all(machine in t and "manylinux" in t for t in specific), specific
    elf = zipfile.ZipFile(artifacts.layer).read(next(n for n in names if n.endswith(".so")))
    expected = {"arm64": 0xB7, "x86_64": 0x3E}[architecture]
    assert int.from_bytes(elf[18:20], "little") == expected  # the ELF header's machine
    assert PLATFORMS[architecture].endswith(machine)


def test_the_code_archive_is_deterministic_and_holds_the_runtime_packages(tmp_path: Any) -> None:
    first = build_code(tmp_path / "a")
    second = build_code(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    assert "entrypoints/handlers/downloader.py" in names
    assert "domain/transfer.py" in names
    assert not any(n.startswith(("infra/", "tests/", "sandbox/")) for n in names)
    assert "entrypoints/cli.py" not in names


def test_only_a_set_reservation_reserves_the_downloaders_concurrency(
    stack: tuple[str, Recorder],
) -> None:
    _, r = stack
    functions = {f.inputs["name"]: f.inputs for f in r.of_type(LAMBDA)}
    assert {f.get("reservedConcurrentExecutions") for f in functions.values()} == {-1}
    reserved = run_program("dev", {"cloud-sync:downloaderReservedConcurrency": "20"})
    by_name = {f.inputs["name"]: f.inputs for f in reserved.of_type(LAMBDA)}
    assert by_name["video-downloader-dev"]["reservedConcurrentExecutions"] == 20
    assert by_name["media-lister-dev"]["reservedConcurrentExecutions"] == -1


def _matches(rule: dict[str, Any], key: str) -> bool:
    """Whether an S3 lifecycle rule applies to `key` (a rule with no prefix applies to all)."""
    prefix = (rule.get("filter") or {}).get("prefix") or ""
    return key.startswith(prefix)


def test_the_lifecycle_leaves_thumbnails_hot(stack: tuple[str, Recorder]) -> None:
    """No rule moves a thumbnail to an archive tier or expires the current one: the
    archive must be seen without a restore."""
    _, r = stack
    rules = r.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
    ]
    applying = [rule for rule in rules if _matches(rule, "thumbnails/gopro/abc.jpg")]
    assert {rule["id"] for rule in applying} == {
        "abort-incomplete-uploads",
        "expire-old-thumbnails",
    }
    for rule in applying:
        assert not rule.get("transitions"), rule
        assert not rule.get("noncurrentVersionTransitions"), rule
        assert not rule.get("expiration"), rule
    # ...while a video is moved
    (videos,) = [r for r in rules if r.get("transitions")]
    assert _matches(videos, "gopro-videos/2024/05/GX010001.MP4")
    assert not _matches(videos, "thumbnails/gopro/abc.jpg")


def _function_env(r: Recorder, stack: str, base: str) -> dict[str, str]:
    functions = {f.inputs["name"]: f.inputs for f in r.of_type("aws:lambda/function:Function")}
    variables: dict[str, str] = functions[name_for(stack, base)]["environment"]["variables"]
    return variables


def test_the_selection_settings_reach_the_lister() -> None:
    r = run_program(
        "dev",
        {
            "cloud-sync:captureSince": "2021-01-01",
            "cloud-sync:captureUntil": "2023-12-31",
            "cloud-sync:mediaTypes": '["videos", "photos", "bursts"]',
            "cloud-sync:cameras": "HERO12 Black, HERO9 Black",
        },
    )
    env = _function_env(r, "dev", "media-lister")
    assert env["CAPTURE_SINCE"] == "2021-01-01"
    assert env["CAPTURE_UNTIL"] == "2023-12-31"
    assert env["MEDIA_KINDS"] == "videos,photos,bursts"
    assert env["CAMERAS"] == "HERO12 Black,HERO9 Black"


def test_the_default_selection_sets_nothing() -> None:
    env = _function_env(run_program("dev", {}), "dev", "media-lister")
    assert not {"CAPTURE_SINCE", "CAPTURE_UNTIL", "MEDIA_KINDS", "CAMERAS"} & set(env)


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("captureSince", "2021-13-01", "captureSince"),
        ("captureUntil", "yesterday", "captureUntil"),
        ("mediaTypes", '["videos", "holograms"]', "mediaTypes"),
        ("mediaTypes", "[]", "mediaTypes"),
        ("mediaTypes", '{"videos": 1}', "mediaTypes"),
        ("cameras", '["HERO12 Black", 7]', "cameras"),
        ("cameras", " , ", "cameras"),
    ],
)
def test_a_bad_selection_stops_the_program_with_the_settings_name(
    setting: str, value: str, named: str
) -> None:
    with pytest.raises(StackConfigError, match=f"cloud-sync:{named}"):
        run_program("dev", {f"cloud-sync:{setting}": value})


def test_a_date_range_that_ends_before_it_starts_stops_the_program() -> None:
    with pytest.raises(StackConfigError, match=r"cloud-sync:captureUntil .*captureSince"):
        run_program(
            "dev",
            {"cloud-sync:captureSince": "2024-01-01", "cloud-sync:captureUntil": "2023-01-01"},
        )


def test_the_operator_reads_the_stacks_alarms_and_no_other() -> None:
    from infra.names import ALARMS  # noqa: PLC0415
    from infra.policies import OperatorResources, operator_policy  # noqa: PLC0415

    machine = "arn:aws:states:eu-central-1:123456789012:stateMachine:gopro-sync-orchestrator-dev"
    resources = OperatorResources(
        bucket_arn="arn:aws:s3:::b", key_arn="k", table_arn="t", secret_arn="s",
        state_machine_arn=machine, lister_arn="l",
        alarm_names=tuple(f"{name}-dev" for name in ALARMS),
    )  # fmt: skip
    (reads,) = [s for s in operator_policy(resources)["Statement"] if s["Sid"] == "ReadAlarms"]
    assert reads["Action"] == ["cloudwatch:DescribeAlarms"]
    assert reads["Resource"] == [
        "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:gopro-sync-failures-dev",
        "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:gopro-sync-failed-executions-dev",
        "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:gopro-sync-schedule-failed-dev",
    ]


def test_the_alarms_the_operator_may_read_are_the_ones_the_stack_makes(
    stack: tuple[str, Recorder],
) -> None:
    from infra.names import ALARMS  # noqa: PLC0415

    name, r = stack
    made = {a.inputs["name"] for a in r.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert made == {name_for(name, alarm) for alarm in ALARMS}
