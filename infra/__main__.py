"""The Pulumi program: read the stack's settings, build the system's components, export."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.catalog import PYTHON
from infra.components.alerts import Alerts, AlertsArgs
from infra.components.functions import Functions, FunctionsArgs
from infra.components.monitoring import Monitoring, MonitoringArgs
from infra.components.schedule import Schedule, ScheduleArgs
from infra.components.storage import Storage, StorageArgs
from infra.components.tracker import Tracker, TrackerArgs
from infra.components.workflow import Workflow, WorkflowArgs, machine_arn
from infra.config import StackSettings
from infra.packaging import build

settings = StackSettings.read(pulumi.Config("cloud-sync").get)
account_id = aws.get_caller_identity_output().account_id
region = aws.get_region_output().region

storage = Storage("archive", StorageArgs(settings, account_id, region))
tracker = Tracker("tracker", TrackerArgs(settings))
secret = aws.secretsmanager.Secret(
    "credentials",
    name=settings.secret_name,
    description="GoPro Cloud credentials; the operator stores the value (docs/credentials.md)",
    # A dev stack's secret is deleted at once, so `pulumi destroy` then `pulumi up` can
    # create it again under its fixed name; prod keeps it 30 days (docs/uninstalling.md).
    recovery_window_in_days=30 if settings.deletion_protection else 0,
)
alerts = Alerts("alerts", AlertsArgs(settings, storage.key.arn, account_id))
functions = Functions(
    "functions",
    FunctionsArgs(
        settings=settings,
        artifacts=build(settings.lambda_architecture, PYTHON),
        bucket_name=storage.bucket.bucket,
        bucket_arn=storage.bucket.arn,
        key_arn=storage.key.arn,
        secret_arn=secret.arn,
        table_name=tracker.table.name,
        table_arn=tracker.table.arn,
        topic_arn=alerts.topic.arn,
        state_machine_arn=machine_arn(settings, region, account_id),
    ),
)
workflow = Workflow(
    "workflow",
    WorkflowArgs(
        settings=settings,
        account_id=account_id,
        region=region,
        authenticator_arn=functions.authenticator.arn,
        lister_arn=functions.lister.arn,
        summary_arn=functions.summary.arn,
        downloader_arn=functions.downloader.arn,
        topic_arn=alerts.topic.arn,
        key_arn=storage.key.arn,
        bucket_name=storage.bucket.bucket,
        bucket_arn=storage.bucket.arn,
    ),
)
Schedule("schedule", ScheduleArgs(settings, workflow.machine.arn, account_id, alerts.topic.arn))
Monitoring("monitoring", MonitoringArgs(settings, alerts.topic.arn, workflow.machine.arn, region))

pulumi.export("environment", settings.environment)
pulumi.export("bucket", storage.bucket.bucket)
pulumi.export("table", tracker.table.name)
pulumi.export("secret", secret.name)
pulumi.export("alertTopic", alerts.topic.arn)
pulumi.export("stateMachine", workflow.machine.arn)
