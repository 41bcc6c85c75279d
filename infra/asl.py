"""The sync workflow as an Amazon States Language definition, built as a plain dict.

Authenticate -> List (again while the lister says "continue") -> Download videos (a
Distributed Map over the run list in S3, MaxConcurrency 5) -> Summarize.

- Lambda invocations that fail for transient reasons (service errors, throttling,
  timeouts, and the functions' own TransientSourceError / StorageError) are retried 3
  times, waiting 2 s and doubling (R6.4).
- Authenticate or List failing after that: a critical notification, then the execution
  fails (R6.5).
- Each video runs in its own child execution: a failure stays there (R8.4). "continue"
  calls the downloader again, the upload resuming; a retryable failure waits as long as
  the downloader says (R8.1: 30 s doubling, three times) and tries again; the child then
  ends as "ok" or as its media id.
- Summarize counts the failures from the tracker; one or more publishes a partial-failure
  notification with the count and the execution still succeeds (R6.6). It also rewrites
  the catalog and checks tonight's objects and a slice of the archive; a discrepancy
  publishes an alert of its own. A run with nothing to download is summarized too.
- Nothing in the state grows with the library: the ids to sync are in S3 (the lister's run
  list, read by the Map's ItemReader) and so are the children's results (ResultWriter);
  Step Functions' 256 KiB payload limit is a terminal error no Catch handles.
- The input is `{"provider": "gopro"}` (R11.5); every function receives `provider`.

No secret enters the definition, an event or a result: the functions read credentials
from Secrets Manager themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.keys import RESULTS_PREFIX

TRANSIENT_ERRORS = [
    # Lambda's transient service errors, as the Step Functions guide lists them
    # ("Handle Lambda service exceptions"), and throttling
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    # A function that ran out of time or memory: reported as Lambda.Unknown, or, for a
    # timeout, as Sandbox.Timedout; the downloader's next call resumes its checkpoint
    "Lambda.Unknown",
    "Sandbox.Timedout",
    "States.Timeout",
    "TransientSourceError",
    "StorageError",
    "KeyLostError",
    "SourceChangedError",
]


@dataclass(frozen=True)
class WorkflowTargets:
    authenticator_arn: str
    lister_arn: str
    downloader_arn: str
    summary_arn: str
    alert_topic_arn: str
    bucket: str
    """The archive bucket: the run lists and the Map's results are kept under `runs/`."""


@dataclass(frozen=True)
class WorkflowOptions:
    retry_interval_seconds: int = 2
    retry_attempts: int = 3
    retry_backoff_rate: float = 2.0
    max_concurrency: int = 5


def _retry(options: WorkflowOptions) -> list[dict[str, Any]]:
    return [
        {
            "ErrorEquals": TRANSIENT_ERRORS,
            "IntervalSeconds": options.retry_interval_seconds,
            "MaxAttempts": options.retry_attempts,
            "BackoffRate": options.retry_backoff_rate,
        }
    ]


def _invoke(arn: str, parameters: dict[str, Any], options: WorkflowOptions) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": arn,
        "Parameters": parameters,
        "Retry": _retry(options),
    }


def _item_processor(targets: WorkflowTargets, options: WorkflowOptions) -> dict[str, Any]:
    download = _invoke(
        targets.downloader_arn,
        {
            "provider.$": "$.provider",
            "media_id.$": "$.media_id",
            "correlation_id.$": "$.correlation_id",
            "worker.$": "$.worker",
            "attempt.$": "$.attempt",
        },
        options,
    )
    download |= {
        "ResultPath": "$.result",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "VideoFailed"}],
        "Next": "Route",
    }
    processor: dict[str, Any] = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {
                "Type": "Pass",
                "Parameters": {
                    "provider.$": "$.provider",
                    "media_id.$": "$.media_id",
                    "correlation_id.$": "$.correlation_id",
                    "worker.$": "States.Format('{}/{}', $.correlation_id, $.media_id)",
                    "attempt": 0,
                },
                "Next": "Download",
            },
            "Download": download,
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.result.status", "StringEquals": "continue", "Next": "Download"},
                    {
                        "And": [
                            {"Variable": "$.result.status", "StringEquals": "failed"},
                            {"Variable": "$.result.retry", "BooleanEquals": True},
                        ],
                        "Next": "WaitBeforeRetry",
                    },
                    {
                        "Variable": "$.result.status",
                        "StringEquals": "failed",
                        "Next": "VideoFailed",
                    },
                ],
                "Default": "VideoDone",
            },
            "WaitBeforeRetry": {
                "Type": "Wait",
                "SecondsPath": "$.result.retry_after_seconds",
                "Next": "NextAttempt",
            },
            "NextAttempt": {
                "Type": "Pass",
                "Parameters": {
                    "provider.$": "$.provider",
                    "media_id.$": "$.media_id",
                    "correlation_id.$": "$.correlation_id",
                    "worker.$": "$.worker",
                    "attempt.$": "States.MathAdd($.attempt, 1)",
                },
                "Next": "Download",
            },
            "VideoFailed": {"Type": "Pass", "InputPath": "$.media_id", "End": True},
            "VideoDone": {"Type": "Pass", "Result": "ok", "End": True},
        },
    }
    processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return processor


def _notify(topic_arn: str, subject: str, message: str, then: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": topic_arn, "Subject": subject, "Message.$": message},
        "ResultPath": None,
        "Next": then,
    }


def _download_videos(targets: WorkflowTargets, options: WorkflowOptions) -> dict[str, Any]:
    """The Distributed Map over the run list in S3: the ids never enter the state, and the
    children's results go to S3 (ResultWriter) instead of joining the state, so the
    execution's payloads do not grow with the library."""
    return {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": "$.listing.bucket", "Key.$": "$.listing.key"},
        },
        "ItemSelector": {
            "provider.$": "$.provider",
            "media_id.$": "$$.Map.Item.Value",
            "correlation_id.$": "$$.Execution.Name",
        },
        "MaxConcurrency": options.max_concurrency,
        "ItemProcessor": _item_processor(targets, options),
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": targets.bucket, "Prefix": RESULTS_PREFIX.rstrip("/")},
        },
        "ResultPath": "$.downloads",
        "Catch": _catch_to_critical(),
        "Next": "StartSummary",
    }


def _catch_to_critical() -> list[dict[str, Any]]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "DescribeFailure"}]


FAILURE_DEFAULTS = {"Error": "unknown error", "Cause": "no cause was given"}
"""What the critical alert says where the caught error lacks a field: AWS documents a
Catch's `Cause` as "usually" present, and a path that names a missing field fails the
state that reads it, the alert included."""


def state_machine_definition(
    targets: WorkflowTargets, options: WorkflowOptions | None = None
) -> dict[str, Any]:
    """The definition, ready for `json.dumps` (pure: no I/O, no cloud objects)."""
    options = options or WorkflowOptions()
    authenticate = _invoke(
        targets.authenticator_arn,
        {"provider.$": "$.provider", "correlation_id.$": "$$.Execution.Name"},
        options,
    ) | {"ResultPath": "$.auth", "Catch": _catch_to_critical(), "Next": "StartListing"}
    listing = _invoke(
        targets.lister_arn,
        {
            "provider.$": "$.provider",
            "correlation_id.$": "$$.Execution.Name",
            "execution.$": "$$.Execution.Id",
            "step": "list",
            "cursor.$": "$.listing.cursor",
        },
        options,
    ) | {"ResultPath": "$.listing", "Catch": _catch_to_critical(), "Next": "Listed"}
    summarize = _invoke(
        targets.summary_arn,
        {
            "provider.$": "$.provider",
            "correlation_id.$": "$$.Execution.Name",
            "started.$": "$$.Execution.StartTime",
            "bucket.$": "$.listing.bucket",
            "key.$": "$.listing.key",
            "listed.$": "$.listing.listed",
            "cursor.$": "$.summary.cursor",
        },
        options,
    ) | {"ResultPath": "$.summary", "Catch": _catch_to_critical(), "Next": "Summarized"}
    return {
        "Comment": "cloud-sync: archive new videos of one provider into S3",
        "StartAt": "Authenticate",
        "States": {
            "Authenticate": authenticate,
            "StartListing": {
                "Type": "Pass",
                "Result": {"cursor": None},
                "ResultPath": "$.listing",
                "Next": "List",
            },
            # A listing that outlasts one invocation goes on in the next, from its cursor.
            "List": listing,
            "Listed": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.listing.status", "StringEquals": "continue", "Next": "List"},
                    # Another run holds the library: this one ends at once, no alert.
                    {"Variable": "$.listing.status", "StringEquals": "skipped", "Next": "Skipped"},
                    # Nothing to download: still summarized, for the catalog and the check
                    {
                        "Variable": "$.listing.to_sync",
                        "NumericEquals": 0,
                        "Next": "StartSummary",
                    },
                ],
                "Default": "DownloadVideos",
            },
            "DownloadVideos": _download_videos(targets, options),
            "StartSummary": {
                "Type": "Pass",
                "Result": {"cursor": None},
                "ResultPath": "$.summary",
                "Next": "Summarize",
            },
            # Counted from the tracker's records of the run list's videos, so the count
            # holds at any size (the Map's own results are in S3, not in the state); a
            # summary that outlasts one invocation goes on in the next, from its cursor.
            "Summarize": summarize,
            "Summarized": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.summary.status",
                        "StringEquals": "continue",
                        "Next": "Summarize",
                    }
                ],
                "Default": "AnyFailures",
            },
            "AnyFailures": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.summary.failures",
                        "NumericGreaterThan": 0,
                        "Next": "NotifyPartialFailure",
                    }
                ],
                "Default": "AnyDiscrepancies",
            },
            "NotifyPartialFailure": _notify(
                targets.alert_topic_arn,
                "cloud-sync: some videos failed",
                "States.Format('{} of {} videos failed to sync in execution {}. Their sync "
                "records hold each error; the next run retries them.', "
                "$.summary.failures, $.summary.videos, $$.Execution.Name)",
                "AnyDiscrepancies",
            ),
            # The nightly check of tonight's objects and a slice of the archive.
            "AnyDiscrepancies": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.summary.discrepancies",
                        "NumericGreaterThan": 0,
                        "Next": "NotifyDiscrepancies",
                    }
                ],
                "Default": "Done",
            },
            "NotifyDiscrepancies": _notify(
                targets.alert_topic_arn,
                "cloud-sync: the archive differs from its records",
                "States.Format('The nightly check of execution {} found {} discrepancies "
                "among {} archived objects: {}. Run cloudsync verify for the whole list.', "
                "$$.Execution.Name, $.summary.discrepancies, $.summary.verified, "
                "$.summary.report)",
                "Done",
            ),
            # The caught error over defaults, so the alert can always be written.
            "DescribeFailure": {
                "Type": "Pass",
                "Parameters": {"defaults": FAILURE_DEFAULTS, "caught.$": "$.error"},
                "ResultPath": "$.failure",
                "Next": "MergeFailure",
            },
            "MergeFailure": {
                "Type": "Pass",
                "Parameters": {
                    "error.$": "States.JsonMerge($.failure.defaults, $.failure.caught, false)"
                },
                "ResultPath": "$.failure",
                "Next": "NotifyCriticalFailure",
            },
            "NotifyCriticalFailure": _notify(
                targets.alert_topic_arn,
                "cloud-sync: sync failed",
                "States.Format('The sync of {} failed in execution {}: {}: {}', "
                "$.provider, $$.Execution.Name, $.failure.error.Error, $.failure.error.Cause)",
                "SyncFailed",
            ),
            "Done": {"Type": "Succeed"},
            "Skipped": {"Type": "Succeed", "Comment": "an earlier run holds the library"},
            "SyncFailed": {
                "Type": "Fail",
                "Error": "SyncFailed",
                "Cause": "authentication, listing or the downloads' map failed; see the alert",
            },
        },
    }
