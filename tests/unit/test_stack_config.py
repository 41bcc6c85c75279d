"""Stack settings: defaults from the spec, and errors that name the setting."""

from __future__ import annotations

import pytest

from infra.config import StackConfigError, StackSettings


def reader(values: dict[str, str]) -> StackSettings:
    return StackSettings.read(values.get)


def test_defaults_are_the_specs() -> None:
    settings = reader({"environment": "dev"})
    assert (settings.glacier_ir_after_days, settings.deep_archive_after_days) == (7, 14)
    assert settings.lambda_architecture == "arm64"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "cloud-sync:environment is not set"),
        ({"environment": "staging"}, "cloud-sync:environment must be one of dev, prod"),
        ({"environment": "dev", "lambdaArchitecture": "sparc"}, "lambdaArchitecture"),
        ({"environment": "dev", "glacierIrAfterDays": "seven"}, "glacierIrAfterDays must be"),
        ({"environment": "dev", "glacierIrAfterDays": "-1"}, "must not be negative"),
        (
            {"environment": "dev", "glacierIrAfterDays": "30", "deepArchiveAfterDays": "14"},
            "deepArchiveAfterDays must be later",
        ),
    ],
)
def test_bad_settings_are_named(values: dict[str, str], message: str) -> None:
    with pytest.raises(StackConfigError, match=message):
        reader(values)
