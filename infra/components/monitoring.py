"""Alarms and the dashboard (R7.4, R7.5).

CloudWatch keeps one series per dimension set. The functions publish `SyncFailures` per
[Provider] and per [Provider, ErrorType] (adapters/aws/metrics.py), so the alarm watches the
[Provider] series: every failure, whatever its type, counts toward "more than 3 in 5
minutes".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import StackSettings
from infra.names import DASHBOARD, FAILED_EXECUTIONS, SYNC_FAILURES

NAMESPACE = "CloudSync"
PROVIDERS = ("gopro",)


def dashboard_body(region: str, machine_arn: str) -> dict[str, object]:
    def metric_widget(title: str, metrics: list[list[str]], stat: str) -> dict[str, object]:
        return {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": 86400,
                "metrics": metrics,
            },
        }

    per_provider = [
        [NAMESPACE, name, "Provider", p] for p in PROVIDERS for name in ("VideosSynced",)
    ]
    return {
        "widgets": [
            metric_widget("Videos synced", per_provider, "Sum"),
            metric_widget(
                "Bytes transferred",
                [[NAMESPACE, "BytesTransferred", "Provider", p] for p in PROVIDERS],
                "Sum",
            ),
            metric_widget(
                "Sync failures",
                [[NAMESPACE, "SyncFailures", "Provider", p] for p in PROVIDERS],
                "Sum",
            ),
            metric_widget(
                "Listed items skipped",
                [[NAMESPACE, "ItemsSkipped", "Provider", p] for p in PROVIDERS],
                "Sum",
            ),
            metric_widget(
                "Executions",
                [
                    ["AWS/States", outcome, "StateMachineArn", machine_arn]
                    for outcome in ("ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut")
                ],
                "Sum",
            ),
        ]
    }


def alerting(topic_arn: pulumi.Input[str], above: float) -> dict[str, Any]:
    """What every alarm of the stack shares: it alerts the topic as soon as one five-minute
    period is above `above`; no data is no alarm."""
    return {
        "evaluation_periods": 1,
        "threshold": above,
        "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": "notBreaching",
        "alarm_actions": [topic_arn],
    }


UNSUCCESSFUL_EXECUTIONS = ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")


def execution_outcomes(
    machine_arn: pulumi.Input[str],
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
    """Every way an execution can end unsuccessfully, summed (a missing series counts 0)."""
    queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = [
        {
            "id": f"m{index}",
            "return_data": False,
            "metric": {
                "namespace": "AWS/States",
                "metric_name": metric,
                "dimensions": {"StateMachineArn": machine_arn},
                "stat": "Sum",
                "period": 300,
            },
        }
        for index, metric in enumerate(UNSUCCESSFUL_EXECUTIONS)
    ]
    total = " + ".join(f"FILL(m{index}, 0)" for index in range(len(UNSUCCESSFUL_EXECUTIONS)))
    queries.append(
        {"id": "unsuccessful", "expression": total, "label": "Unsuccessful", "return_data": True}
    )
    return queries


@dataclass(frozen=True)
class MonitoringArgs:
    settings: StackSettings
    topic_arn: pulumi.Input[str]
    machine_arn: pulumi.Input[str]
    region: pulumi.Input[str]


class Monitoring(pulumi.ComponentResource):
    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cloud-sync:monitoring:Monitoring", name, None, opts)
        settings, topic_arn, machine_arn = args.settings, args.topic_arn, args.machine_arn
        region = args.region
        child = pulumi.ResourceOptions(parent=self)
        self.failure_alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-sync-failures-{provider}",
                name=settings.name(SYNC_FAILURES.format(provider=provider)),
                alarm_description="More than 3 video transfers failed within 5 minutes (R7.4)",
                namespace=NAMESPACE,
                metric_name="SyncFailures",
                dimensions={"Provider": provider},
                statistic="Sum",
                period=300,
                **alerting(topic_arn, above=3),
                opts=child,
            )
            for provider in PROVIDERS
        ]
        self.execution_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-failed-executions",
            name=settings.name(FAILED_EXECUTIONS),
            alarm_description="A sync execution failed, timed out or was aborted",
            metric_queries=execution_outcomes(machine_arn),
            **alerting(topic_arn, above=0),
            opts=child,
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=settings.name(DASHBOARD),
            dashboard_body=pulumi.Output.all(region, machine_arn).apply(
                lambda v: json.dumps(dashboard_body(v[0], v[1]))
            ),
            opts=child,
        )
        self.register_outputs({"dashboard": self.dashboard.dashboard_name})
