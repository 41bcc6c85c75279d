"""Stack settings: defaults from the spec, and errors that name the setting."""

from __future__ import annotations

import pytest

from infra.asl import WorkflowOptions
from infra.config import DOWNLOADS_AT_ONCE, StackConfigError, StackSettings


def reader(values: dict[str, str]) -> StackSettings:
    return StackSettings.read(values.get)


def test_defaults_go_straight_to_deep_archive_at_14_days() -> None:
    settings = reader({"environment": "dev"})
    assert (settings.glacier_ir_after_days, settings.deep_archive_after_days) == (None, 14)
    assert settings.lambda_architecture == "arm64"


def test_glacier_ir_is_a_setting_kept_90_days_before_deep_archive() -> None:
    settings = reader(
        {"environment": "dev", "glacierIrAfterDays": "7", "deepArchiveAfterDays": "97"}
    )
    assert (settings.glacier_ir_after_days, settings.deep_archive_after_days) == (7, 97)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "cloud-sync:environment is not set"),
        ({"environment": "staging"}, "cloud-sync:environment must be one of dev, prod"),
        ({"environment": "dev", "lambdaArchitecture": "sparc"}, "lambdaArchitecture"),
        ({"environment": "dev", "glacierIrAfterDays": "seven"}, "glacierIrAfterDays must be"),
        ({"environment": "dev", "glacierIrAfterDays": "-1"}, "must not be negative"),
        ({"environment": "dev", "deepArchiveAfterDays": "-3"}, "deepArchiveAfterDays must not"),
        (
            # The requirements' 7 and 14: S3 refuses it.
            {"environment": "dev", "glacierIrAfterDays": "7"},
            r"deepArchiveAfterDays \(14\) must be at least 90 days after "
            r"cloud-sync:glacierIrAfterDays \(7\), so at least 97: S3 refuses",
        ),
        (
            {"environment": "dev", "glacierIrAfterDays": "30", "deepArchiveAfterDays": "119"},
            "at least 120",
        ),
        (
            {"environment": "dev", "downloaderReservedConcurrency": "4"},
            r"downloaderReservedConcurrency \(4\) must be at least 5, the downloads the "
            "workflow runs at once",
        ),
        ({"environment": "dev", "downloaderReservedConcurrency": "ten"}, "a whole number"),
    ],
)
def test_bad_settings_are_named(values: dict[str, str], message: str) -> None:
    with pytest.raises(StackConfigError, match=message):
        reader(values)


def test_the_downloaders_reservation_is_off_unless_set_and_matches_the_maps_concurrency() -> None:
    assert reader({"environment": "dev"}).downloader_reserved_concurrency is None
    settings = reader({"environment": "dev", "downloaderReservedConcurrency": "20"})
    assert settings.downloader_reserved_concurrency == 20
    assert WorkflowOptions().max_concurrency == DOWNLOADS_AT_ONCE
