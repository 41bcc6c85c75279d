"""The Pulumi program: read the stack's settings, build the system's components, export."""

from __future__ import annotations

import pulumi

from infra.config import StackSettings

settings = StackSettings.read(pulumi.Config("cloud-sync").get)
pulumi.export("environment", settings.environment)
pulumi.export("lambdaArchitecture", settings.lambda_architecture)
