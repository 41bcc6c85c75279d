"""The sync tracker table (R4.1, R4.4)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import StackSettings
from infra.names import TABLE


@dataclass(frozen=True)
class TrackerArgs:
    settings: StackSettings


class Tracker(pulumi.ComponentResource):
    """Partition key `media_id`, on-demand, point-in-time recovery, encrypted, no TTL."""

    def __init__(self, name: str, args: TrackerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cloud-sync:tracker:Tracker", name, None, opts)
        settings = args.settings
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=settings.name(TABLE),
            hash_key="media_id",
            attributes=[{"name": "media_id", "type": "S"}],
            billing_mode="PAY_PER_REQUEST",
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},
            deletion_protection_enabled=settings.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self, protect=settings.deletion_protection),
        )
        self.register_outputs({"table": self.table.name})
