"""What the program declares against rules AWS enforces and moto does not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infra.components.storage import lifecycle_rules
from infra.config import StackConfigError, StackSettings
from tests.infra.aws_rules import lifecycle_violations


def test_the_checker_refuses_the_requirements_7_and_14_day_lifecycle() -> None:
    # Given R5.2 and R5.3 as written: GLACIER_IR at 7 days, DEEP_ARCHIVE at 14
    rules = [
        {
            "id": "archive-tiers",
            "filter": {"prefix": "gopro-videos/"},
            "transitions": [
                {"days": 7, "storageClass": "GLACIER_IR"},
                {"days": 14, "storageClass": "DEEP_ARCHIVE"},
            ],
            "noncurrentVersionTransitions": [
                {"noncurrentDays": 7, "storageClass": "GLACIER_IR"},
                {"noncurrentDays": 14, "storageClass": "DEEP_ARCHIVE"},
            ],
        }
    ]
    # Then both the current and the noncurrent transitions are refused, as S3 does
    assert lifecycle_violations(rules) == [
        "archive-tiers: DEEP_ARCHIVE on day 14 must be 90 days more than GLACIER_IR on day 7",
        "archive-tiers: noncurrent DEEP_ARCHIVE on day 14 must be 90 days more than "
        "GLACIER_IR on day 7",
    ]


def test_the_checker_knows_the_waterfall_and_the_ia_minimum() -> None:
    rules = [
        {
            "ID": "x",
            "Filter": {"Prefix": ""},
            "Transitions": [
                {"Days": 10, "StorageClass": "STANDARD_IA"},
                {"Days": 200, "StorageClass": "STANDARD_IA"},
            ],
        },
        {
            "ID": "y",
            "Filter": {"Prefix": ""},
            "Transitions": [
                {"Days": 10, "StorageClass": "DEEP_ARCHIVE"},
                {"Days": 200, "StorageClass": "GLACIER"},
            ],
        },
    ]
    found = lifecycle_violations(rules)
    assert any("name a storage class twice" in f for f in found)
    assert any("transition to STANDARD_IA on day 10; S3 needs at least 30" in f for f in found)
    assert any("DEEP_ARCHIVE then GLACIER goes up the waterfall" in f for f in found)


@given(
    glacier_ir=st.none() | st.integers(min_value=-5, max_value=400),
    deep_archive=st.integers(min_value=-5, max_value=800),
)
def test_every_lifecycle_the_stack_accepts_is_one_s3_accepts(
    glacier_ir: int | None, deep_archive: int
) -> None:
    try:
        settings = StackSettings(
            environment="dev",
            glacier_ir_after_days=glacier_ir,
            deep_archive_after_days=deep_archive,
        )
    except StackConfigError:
        return  # refused with its name, before S3 is asked
    assert lifecycle_violations(lifecycle_rules(settings)) == []
