"""IAM policy documents as plain dicts (pure: ARNs in, JSON-ready dicts out).

One role per function, each with exactly what its code calls:

- authenticator: read and write the provider's secret (R9.5; `PutSecretValue`, since IAM
  has no `UpdateSecretValue`). It publishes nothing (the workflow sends the alerts) and the
  secret uses Secrets Manager's own key, so it needs neither SNS nor KMS.
- lister: read the secret; read and write tracker items; write and read the run lists
  under `<bucket>/runs/*`, with the archive key that encrypts them; write thumbnails
  under `<bucket>/thumbnails/*`; remember GoPro's changes under
  `<bucket>/catalog/changes/*` and publish their one alert on the topic;
  `states:ListExecutions` on its workflow and `states:DescribeExecution` on its
  executions, so that a run that finds an earlier one in progress ends at once (one run
  at a time).
- downloader: `s3:PutObject`, `s3:PutObjectTagging`, `s3:AbortMultipartUpload` on
  `<bucket>/gopro-videos/*` (R9.6), and what else its code needs: `s3:GetObject` there for
  HeadObject (the existence check and the read-back of size and checksum), `s3:ListBucket`
  on the bucket itself (without it S3 answers HeadObject of a missing key with 403, not
  404: every new video would fail), `s3:ListMultipartUploadParts` there to resume a paused
  upload, `s3:GetObject` on `<bucket>/catalog/*-etag.json` (the ETag judgement, read
  after an origin mismatch), `s3:PutObject` on `<bucket>/thumbnails/*` (the archived
  video's thumbnail), `kms:GenerateDataKey` and `kms:Decrypt` on the archive key
  (SSE-KMS multipart uploads and the encrypted alert topic), tracker item reads and
  writes, the secret, and `sns:Publish` on the alert topic.
- every function: writing its own log group. Metrics go out as EMF log lines, so no
  function needs `cloudwatch:PutMetricData` (which accepts no narrower resource than `*`).

`Resource: "*"` appears only where AWS accepts nothing narrower: CloudWatch Logs delivery
for the state machine's logging, and X-Ray tracing (sids in `WILDCARD_EXCEPTIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.keys import (
    ARCHIVE_PREFIX,
    CATALOG_PREFIX,
    CHANGES_PREFIX,
    RESULTS_PREFIX,
    RUNS_PREFIX,
    THUMBNAILS_PREFIX,
)

Document = dict[str, Any]

WILDCARD_EXCEPTIONS = frozenset({"StateMachineLogDelivery", "XRayTracing"})
ETAG_VERDICTS = f"{CATALOG_PREFIX}*-etag.json"
DRILL_FILES = f"{CATALOG_PREFIX}drill-*.json"
"""The judgement of each provider's ETags, `catalog/{provider}-etag.json`."""


def document(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(sid: str, actions: list[str], resources: list[str]) -> Document:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def assume_role(service: str, conditions: Document | None = None) -> Document:
    statement: Document = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = conditions
    return document(statement)


def assume_role_for_account(service: str, account_id: str) -> Document:
    """A service may assume the role, only on behalf of this account (no confused deputy)."""
    return assume_role(service, {"StringEquals": {"aws:SourceAccount": account_id}})


def _logs(log_group_arn: str) -> Document:
    return allow(
        "WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]
    )


def authenticator_policy(secret_arn: str, log_group_arn: str) -> Document:
    return document(
        allow(
            "ProviderCredentials",
            ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            [secret_arn],
        ),
        _logs(log_group_arn),
    )


def _tracker(table_arn: str, actions: list[str]) -> Document:
    return allow("SyncTracker", actions, [table_arn])


def lister_policy(
    *,
    secret_arn: str,
    table_arn: str,
    bucket_arn: str,
    key_arn: str,
    state_machine_arn: str,
    topic_arn: str,
    log_group_arn: str,
) -> Document:
    """List the library and write the run list; the summary is another function's. Its one
    alert is its own: GoPro answered unlike the contract, in a way not seen before."""
    executions = state_machine_arn.replace(":stateMachine:", ":execution:", 1)
    return document(
        allow("ReadCredentials", ["secretsmanager:GetSecretValue"], [secret_arn]),
        # One run at a time: the runs of its own workflow in progress, and their inputs.
        allow("ListRuns", ["states:ListExecutions"], [state_machine_arn]),
        allow("ReadRunInputs", ["states:DescribeExecution"], [f"{executions}:*"]),
        _tracker(table_arn, ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"]),
        allow("RunLists", ["s3:PutObject", "s3:GetObject"], [f"{bucket_arn}/{RUNS_PREFIX}*"]),
        # The thumbnails of archived videos that have none yet.
        allow("WriteThumbnails", ["s3:PutObject"], [f"{bucket_arn}/{THUMBNAILS_PREFIX}*"]),
        # GoPro changed: remember the change (a create), and alert once.
        allow("RememberChanges", ["s3:PutObject"], [f"{bucket_arn}/{CHANGES_PREFIX}*"]),
        allow("Alert", ["sns:Publish"], [topic_arn]),
        allow("ArchiveKey", ["kms:GenerateDataKey", "kms:Decrypt"], [key_arn]),
        _logs(log_group_arn),
    )


def summary_policy(
    *, table_arn: str, bucket_arn: str, key_arn: str, topic_arn: str, log_group_arn: str
) -> Document:
    """The night's summary: count the run from the tracker, rewrite the catalog, judge the
    provider's ETags, check a slice of the archive; it writes no record and no video."""
    return document(
        # Scan: the catalog is rewritten from every record.
        _tracker(table_arn, ["dynamodb:BatchGetItem", "dynamodb:Scan"]),
        allow("ReadRunList", ["s3:GetObject"], [f"{bucket_arn}/{RUNS_PREFIX}*"]),
        allow("WriteCatalog", ["s3:PutObject"], [f"{bucket_arn}/{CATALOG_PREFIX}*"]),
        # It reads the ETag judgement before it writes it again.
        allow("ReadEtagVerdict", ["s3:GetObject"], [f"{bucket_arn}/{ETAG_VERDICTS}"]),
        # One alert of its own: the provider's ETags stopped describing its bytes.
        allow("Alert", ["sns:Publish"], [topic_arn]),
        # The nightly check: HeadObject of archived objects (IAM has no action of its own),
        # and the archive's listing, which the catalog and the check rest on (ListBucket,
        # which also makes a missing key answer 404, not 403).
        allow("CheckArchive", ["s3:GetObject"], [f"{bucket_arn}/{ARCHIVE_PREFIX}*"]),
        allow("TellMissingKeys", ["s3:ListBucket"], [bucket_arn]),
        # The monthly restore drill: one small object restored (Bulk, for a day) and read
        # back (GetObject above), its state kept beside the catalog.
        allow("RestoreDrill", ["s3:RestoreObject"], [f"{bucket_arn}/{ARCHIVE_PREFIX}*"]),
        allow("ReadDrill", ["s3:GetObject"], [f"{bucket_arn}/{DRILL_FILES}"]),
        allow("ArchiveKey", ["kms:GenerateDataKey", "kms:Decrypt"], [key_arn]),
        _logs(log_group_arn),
    )


def downloader_policy(
    *,
    bucket_arn: str,
    key_arn: str,
    secret_arn: str,
    table_arn: str,
    topic_arn: str,
    log_group_arn: str,
) -> Document:
    archive = f"{bucket_arn}/{ARCHIVE_PREFIX}*"
    return document(
        allow(
            "WriteArchive",
            ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
            [archive],
        ),
        allow("CheckArchive", ["s3:GetObject", "s3:ListMultipartUploadParts"], [archive]),
        allow("WriteThumbnails", ["s3:PutObject"], [f"{bucket_arn}/{THUMBNAILS_PREFIX}*"]),
        allow("RememberChanges", ["s3:PutObject"], [f"{bucket_arn}/{CHANGES_PREFIX}*"]),
        # After an origin mismatch: whether the provider's ETags are judged no content hash.
        allow("ReadEtagVerdict", ["s3:GetObject"], [f"{bucket_arn}/{ETAG_VERDICTS}"]),
        # Without it S3 answers HeadObject of a missing key with 403, not 404. No s3:prefix
        # condition: a HeadObject carries none, so a condition would deny it.
        allow("TellMissingKeys", ["s3:ListBucket"], [bucket_arn]),
        allow("ArchiveKey", ["kms:GenerateDataKey", "kms:Decrypt"], [key_arn]),
        allow("ReadCredentials", ["secretsmanager:GetSecretValue"], [secret_arn]),
        _tracker(table_arn, ["dynamodb:GetItem", "dynamodb:PutItem"]),
        allow("Alert", ["sns:Publish"], [topic_arn]),
        _logs(log_group_arn),
    )


def state_machine_policy(
    *,
    function_arns: list[str],
    topic_arn: str,
    key_arn: str,
    bucket_arn: str,
    state_machine_arn: str,
    executions_arn: str,
) -> Document:
    """`executions_arn`: `arn:aws:states:<region>:<account>:execution:<machine name>`."""
    """Invoke the three functions, alert, read the run list and write the Map's results,
    run its own Distributed Map children, log, trace."""
    return document(
        allow(
            "InvokeFunctions",
            ["lambda:InvokeFunction"],
            [*function_arns, *(f"{arn}:*" for arn in function_arns)],
        ),
        allow("Alert", ["sns:Publish"], [topic_arn]),
        # The alert topic and the run files are encrypted with the archive key.
        allow("ArchiveKey", ["kms:GenerateDataKey", "kms:Decrypt"], [key_arn]),
        allow("ReadRunLists", ["s3:GetObject"], [f"{bucket_arn}/{RUNS_PREFIX}*"]),
        # ResultWriter's writes, as the Step Functions guide lists them (IAM policies for
        # ResultWriter): a multipart upload of each results file.
        allow(
            "WriteMapResults",
            [
                "s3:PutObject",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:AbortMultipartUpload",
            ],
            [f"{bucket_arn}/{RESULTS_PREFIX}*"],
        ),
        allow("RunChildExecutions", ["states:StartExecution"], [state_machine_arn]),
        # As AWS's "IAM policies for using Distributed Map states" lists them: the child
        # executions (`execution:<machine>/<map run>:<id>`, under `/*`) and the form its
        # example grants (`execution:<machine>:*`); redriving a failed Map Run redrives
        # its children (RedriveExecution).
        allow(
            "ManageChildExecutions",
            ["states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"],
            [f"{executions_arn}/*", f"{executions_arn}:*"],
        ),
        allow(
            "StateMachineLogDelivery",
            [
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ],
            ["*"],
        ),
        allow(
            "XRayTracing",
            [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            ],
            ["*"],
        ),
    )


def scheduler_policy(state_machine_arn: str, dead_letter_arn: str) -> Document:
    """Start the sync; a start that fails after its retries goes to the dead-letter queue."""
    return document(
        allow("StartSync", ["states:StartExecution"], [state_machine_arn]),
        allow("DeadLetter", ["sqs:SendMessage"], [dead_letter_arn]),
    )


def key_policy(account_id: str, region: str) -> Document:
    """The archive key: administered by the account; CloudWatch alarms may publish to the
    topic it encrypts, in the statement AWS documents for alarms to a KMS-encrypted topic
    (Knowledge Center, "configure a CloudWatch alarm with an encrypted SNS topic"): no
    condition, which would silently drop every alarm's message were it wrong. Who may
    publish to the topic is the topic policy's to say."""
    return document(
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AlarmsPublishToTheTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    )


def bucket_policy(bucket_arn: str) -> Document:
    """Refuse every request that is not TLS, and TLS older than 1.2 (R9.1)."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOldTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    )


def topic_policy(topic_arn: str, account_id: str) -> Document:
    """CloudWatch alarms of this account may publish to the alert topic (R7.5)."""
    return document(
        {
            "Sid": "AlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


@dataclass(frozen=True)
class OperatorResources:
    """The stack's resources, as ARNs, that a person's commands reach."""

    bucket_arn: str
    key_arn: str
    table_arn: str
    secret_arn: str
    state_machine_arn: str
    lister_arn: str
    alarm_names: tuple[str, ...] = ()
    """The stack's alarms (with its suffix), which the dashboard reads."""

    @property
    def executions(self) -> str:
        """Every execution of the state machine."""
        return self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":*"

    @property
    def alarms(self) -> list[str]:
        """The stack's alarms, in the state machine's account and region."""
        _, partition, _, region, account = self.state_machine_arn.split(":")[:5]
        return [
            f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{n}" for n in self.alarm_names
        ]

    @property
    def map_runs(self) -> str:
        """Every map run of the state machine's executions."""
        return self.state_machine_arn.replace(":stateMachine:", ":mapRun:", 1) + "/*"


def _deployment(r: OperatorResources) -> list[Document]:
    """What every command reads first: the stack's description of itself, the tracker,
    and the archive's listing."""
    return [
        allow("DescribeDeployment", ["lambda:GetFunctionConfiguration"], [r.lister_arn]),
        allow("ReadTracker", ["dynamodb:Scan"], [r.table_arn]),
        # HeadBucket, ListObjectsV2, and a 404 (not 403) for a key that is not there
        allow("ListArchive", ["s3:ListBucket"], [r.bucket_arn]),
    ]


def operator_policy(r: OperatorResources) -> Document:
    """`cloudsync status`, `runs`, `start`, `verify` and `credentials`: read the archive's
    metadata (HeadObject never reads a video's bytes) and its catalog, follow and start
    runs, and keep the credentials. No delete, no restore, no write to the archive."""
    return document(
        *_deployment(r),
        allow("ReadArchiveMetadata", ["s3:GetObject"], [f"{r.bucket_arn}/*"]),
        allow("DecryptCatalog", ["kms:Decrypt"], [r.key_arn]),
        allow("Runs", ["states:ListExecutions", "states:StartExecution"], [r.state_machine_arn]),
        allow(
            "ReadRuns",
            ["states:DescribeExecution", "states:GetExecutionHistory", "states:ListMapRuns"],
            [r.executions],
        ),
        allow("ReadMapRuns", ["states:DescribeMapRun"], [r.map_runs]),
        # `start --follow`: the bytes archived so far (metric reads take no resource)
        allow("ReadTransferMetric", ["cloudwatch:GetMetricStatistics"], ["*"]),
        # `browse`: which of the stack's alarms are firing
        *([allow("ReadAlarms", ["cloudwatch:DescribeAlarms"], r.alarms)] if r.alarm_names else []),
        allow(
            "Credentials",
            [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
            ],
            [r.secret_arn],
        ),
    )


def restore_policy(r: OperatorResources) -> Document:
    """`cloudsync restore` (request, status, fetch): see each object's state, ask S3 for a
    restored copy, and read it back (or sign a link to it). No write, no delete."""
    return document(
        *_deployment(r),
        allow("RestoreArchive", ["s3:GetObject", "s3:RestoreObject"], [f"{r.bucket_arn}/*"]),
        allow("DecryptArchive", ["kms:Decrypt"], [r.key_arn]),
    )
