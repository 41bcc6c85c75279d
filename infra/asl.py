"""The sync workflow as an Amazon States Language definition, built as a plain dict.

Authenticate -> List -> Download videos (a Distributed Map, MaxConcurrency 5) -> Summarize.

- Lambda invocations that fail for transient reasons (service errors, throttling,
  timeouts, and the functions' own TransientSourceError / StorageError) are retried 3
  times, waiting 2 s and doubling (R6.4).
- Authenticate or List failing after that: a critical notification, then the execution
  fails (R6.5).
- Each video runs in its own child execution: a failure stays there (R8.4). "continue"
  calls the downloader again, the upload resuming; a retryable failure waits as long as
  the downloader says (R8.1: 30 s doubling, three times) and tries again; the child then
  ends as "ok" or as its media id.
- Summarize counts the failures; one or more publishes a partial-failure notification
  with the count and the execution still succeeds (R6.6).
- The input is `{"provider": "gopro"}` (R11.5); every function receives `provider`.

No secret enters the definition, an event or a result: the functions read credentials
from Secrets Manager themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
]


@dataclass(frozen=True)
class WorkflowTargets:
    authenticator_arn: str
    lister_arn: str
    downloader_arn: str
    alert_topic_arn: str


@dataclass(frozen=True)
class WorkflowOptions:
    retry_interval_seconds: int = 2
    retry_attempts: int = 3
    retry_backoff_rate: float = 2.0
    max_concurrency: int = 5
    distributed: bool = True
    """Child executions per video: no history limit on the number of videos."""


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
    if options.distributed:
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


def state_machine_definition(
    targets: WorkflowTargets, options: WorkflowOptions | None = None
) -> dict[str, Any]:
    """The definition, ready for `json.dumps` (pure: no I/O, no cloud objects)."""
    options = options or WorkflowOptions()
    catch_to_critical = [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyCriticalFailure"}
    ]
    authenticate = _invoke(
        targets.authenticator_arn,
        {"provider.$": "$.provider", "correlation_id.$": "$$.Execution.Name"},
        options,
    ) | {"ResultPath": "$.auth", "Catch": catch_to_critical, "Next": "List"}
    listing = _invoke(
        targets.lister_arn,
        {"provider.$": "$.provider", "correlation_id.$": "$$.Execution.Name"},
        options,
    ) | {"ResultPath": "$.listing", "Catch": catch_to_critical, "Next": "DownloadVideos"}
    return {
        "Comment": "cloud-sync: archive new videos of one provider into S3",
        "StartAt": "Authenticate",
        "States": {
            "Authenticate": authenticate,
            "List": listing,
            "DownloadVideos": {
                "Type": "Map",
                "ItemsPath": "$.listing.media_ids",
                "ItemSelector": {
                    "provider.$": "$.provider",
                    "media_id.$": "$$.Map.Item.Value",
                    "correlation_id.$": "$$.Execution.Name",
                },
                "MaxConcurrency": options.max_concurrency,
                "ItemProcessor": _item_processor(targets, options),
                "ResultPath": "$.downloads",
                "Next": "Summarize",
            },
            # Each video ends as "ok" or as its media id. Media ids are unique, so the
            # failures are the distinct values less "ok" (JSONPath has no filter-and-count
            # that survives an empty match).
            "Summarize": {
                "Type": "Pass",
                "Parameters": {
                    "videos.$": "States.ArrayLength($.downloads)",
                    "distinct.$": "States.ArrayUnique($.downloads)",
                },
                "ResultPath": "$.summary",
                "Next": "Measure",
            },
            "Measure": {
                "Type": "Pass",
                "Parameters": {
                    "videos.$": "$.summary.videos",
                    "distinct.$": "States.ArrayLength($.summary.distinct)",
                    "any_ok.$": "States.ArrayContains($.summary.distinct, 'ok')",
                },
                "ResultPath": "$.summary",
                "Next": "SomeSucceeded",
            },
            "SomeSucceeded": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.summary.any_ok", "BooleanEquals": True, "Next": "CountLessOk"}
                ],
                "Default": "CountAll",
            },
            "CountLessOk": {
                "Type": "Pass",
                "Parameters": {
                    "videos.$": "$.summary.videos",
                    "failures.$": "States.MathAdd($.summary.distinct, -1)",
                },
                "ResultPath": "$.summary",
                "Next": "AnyFailures",
            },
            "CountAll": {
                "Type": "Pass",
                "Parameters": {"videos.$": "$.summary.videos", "failures.$": "$.summary.distinct"},
                "ResultPath": "$.summary",
                "Next": "AnyFailures",
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
                "Default": "Done",
            },
            "NotifyPartialFailure": _notify(
                targets.alert_topic_arn,
                "cloud-sync: some videos failed",
                "States.Format('{} of {} videos failed to sync in execution {}. Their sync "
                "records hold each error; the next run retries them.', "
                "$.summary.failures, $.summary.videos, $$.Execution.Name)",
                "Done",
            ),
            "NotifyCriticalFailure": _notify(
                targets.alert_topic_arn,
                "cloud-sync: sync failed",
                "States.Format('The sync of {} failed in execution {}: {}: {}', "
                "$.provider, $$.Execution.Name, $.error.Error, $.error.Cause)",
                "SyncFailed",
            ),
            "Done": {"Type": "Succeed"},
            "SyncFailed": {
                "Type": "Fail",
                "Error": "SyncFailed",
                "Cause": "authentication or listing failed; see the alert",
            },
        },
    }
