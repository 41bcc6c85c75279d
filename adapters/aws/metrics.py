"""Metrics (R7.1-R7.3), two adapters for one port.

`VideosSynced` (1 per success), `BytesTransferred` (the size, per success) and
`SyncFailures` (1 per failure, with dimension `ErrorType`). Each is published for the
dimension sets [Provider] and, for failures, [Provider, ErrorType]: an alarm watches the
per-provider total while the error types stay visible.

- EmfMetrics prints Embedded Metric Format lines to stdout; Lambda's log pipeline turns
  them into metrics, with no API call and no IAM grant. It is hand-written (a dozen lines
  of JSON) because the common library puts every dimension of a metric into one set.
- CloudWatchApiMetrics calls PutMetricData, for runs outside Lambda.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from adapters.aws.errors import aws_call

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

NAMESPACE = "CloudSync"


class EmfMetrics:
    def __init__(self, namespace: str = NAMESPACE, write: Callable[[str], None] = print) -> None:
        self._namespace = namespace
        self._write = write

    def _emit(self, name: str, unit: str, value: int, dimensions: dict[str, str]) -> None:
        sets = [["Provider"], *(["Provider", name] for name in dimensions if name != "Provider")]
        record = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self._namespace,
                        "Dimensions": sets,
                        "Metrics": [{"Name": name, "Unit": unit}],
                    }
                ],
            },
            **dimensions,
            name: value,
        }
        self._write(json.dumps(record))

    def video_synced(self, provider: str, size_bytes: int) -> None:
        self._emit("VideosSynced", "Count", 1, {"Provider": provider})
        self._emit("BytesTransferred", "Bytes", size_bytes, {"Provider": provider})

    def sync_failed(self, provider: str, error_type: str) -> None:
        self._emit("SyncFailures", "Count", 1, {"Provider": provider, "ErrorType": error_type})

    def items_skipped(self, provider: str, reason: str, count: int) -> None:
        self._emit("ItemsSkipped", "Count", count, {"Provider": provider, "Reason": reason})

    def provider_changed(self, provider: str, kind: str) -> None:
        self._emit("ProviderChanged", "Count", 1, {"Provider": provider, "Kind": kind})


class CloudWatchApiMetrics:
    def __init__(self, client: CloudWatchClient, namespace: str = NAMESPACE) -> None:
        self._cloudwatch = client
        self._namespace = namespace

    def _put(self, data: list[MetricDatumTypeDef]) -> None:
        with aws_call("CloudWatch PutMetricData", self._namespace):
            self._cloudwatch.put_metric_data(Namespace=self._namespace, MetricData=data)

    def video_synced(self, provider: str, size_bytes: int) -> None:
        dims: list[DimensionTypeDef] = [{"Name": "Provider", "Value": provider}]
        self._put(
            [
                {"MetricName": "VideosSynced", "Value": 1, "Unit": "Count", "Dimensions": dims},
                {
                    "MetricName": "BytesTransferred",
                    "Value": size_bytes,
                    "Unit": "Bytes",
                    "Dimensions": dims,
                },
            ]
        )

    def _count(self, name: str, value: int, provider: str, by: tuple[str, str]) -> None:
        """A count per provider, and per provider and `by` (a dimension's name and value)."""
        provider_only: list[DimensionTypeDef] = [{"Name": "Provider", "Value": provider}]
        narrower: list[DimensionTypeDef] = [*provider_only, {"Name": by[0], "Value": by[1]}]
        self._put(
            [
                {"MetricName": name, "Value": value, "Unit": "Count", "Dimensions": dims}
                for dims in (provider_only, narrower)
            ]
        )

    def sync_failed(self, provider: str, error_type: str) -> None:
        self._count("SyncFailures", 1, provider, ("ErrorType", error_type))

    def items_skipped(self, provider: str, reason: str, count: int) -> None:
        self._count("ItemsSkipped", count, provider, ("Reason", reason))

    def provider_changed(self, provider: str, kind: str) -> None:
        self._count("ProviderChanged", 1, provider, ("Kind", kind))


class CloudWatchTransferred:
    """The bytes the downloads archived in a span of time, from the `BytesTransferred`
    metric they publish (one GetMetricStatistics; CloudWatch has it within a minute or
    two of the upload)."""

    def __init__(self, client: CloudWatchClient, namespace: str = NAMESPACE) -> None:
        self._cloudwatch = client
        self._namespace = namespace

    def bytes_since(self, provider: str, start: datetime, end: datetime) -> int:
        with aws_call("CloudWatch GetMetricStatistics", f"{self._namespace}/BytesTransferred"):
            answer = self._cloudwatch.get_metric_statistics(
                Namespace=self._namespace,
                MetricName="BytesTransferred",
                Dimensions=[{"Name": "Provider", "Value": provider}],
                StartTime=start - timedelta(minutes=1),
                EndTime=end + timedelta(minutes=1),
                Period=60,
                Statistics=["Sum"],
            )
        return int(sum(point.get("Sum", 0) for point in answer.get("Datapoints", [])))
