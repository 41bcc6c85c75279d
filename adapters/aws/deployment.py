"""What a deployed stack says about itself: its lister function's environment and ARN
(one GetFunctionConfiguration), so that nobody names the bucket or the table by hand."""

from __future__ import annotations

from typing import Any

from adapters.aws.errors import ResourceMissingError, aws_call
from domain.errors import StorageError

DESCRIBED = (
    "ARCHIVE_BUCKET",
    "TRACKER_TABLE",
    "ARCHIVE_KMS_KEY",
    "ALERT_TOPIC_ARN",
    "CREDENTIALS_SECRET",
    "GOPRO_API_URL",
)


def describe(client: Any, function: str, machine: str) -> dict[str, str]:
    """The function's settings named in DESCRIBED, and `STATE_MACHINE`: the ARN of the
    state machine `machine` in the function's own account and region."""
    try:
        with aws_call("Lambda GetFunctionConfiguration", function):
            found = client.get_function_configuration(FunctionName=function)
    except ResourceMissingError:
        raise ResourceMissingError(
            f"no function {function} here ({client.meta.region_name}): is the stack "
            "deployed (`pulumi up`) in this account and region? pick another with --stack "
            "or --region"
        ) from None
    variables = (found.get("Environment") or {}).get("Variables") or {}
    missing = [name for name in DESCRIBED if not variables.get(name)]
    if missing:
        raise StorageError(
            f"the function {function} does not say {', '.join(missing)}: it was not "
            "deployed by this project's `pulumi up`; name the resources with --bucket and "
            "--table"
        )
    arn = str(found["FunctionArn"]).split(":")
    if len(arn) < 7 or arn[2] != "lambda":
        raise StorageError(f"the function {function} has an unexpected ARN {found['FunctionArn']}")
    partition, region, account = arn[1], arn[3], arn[4]
    machine_arn = f"arn:{partition}:states:{region}:{account}:stateMachine:{machine}"
    return {
        **{name: str(variables[name]) for name in DESCRIBED},
        "STATE_MACHINE": machine_arn,
        "FUNCTION_ARN": str(found["FunctionArn"]),
    }
