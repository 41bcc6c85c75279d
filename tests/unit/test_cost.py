"""`cloudsync cost`: the arithmetic against cases worked by hand, and the command."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.units import GB, MIB
from entrypoints.cli import main
from entrypoints.cost import (
    LIFECYCLES,
    CostInputError,
    Estimate,
    Usage,
    estimate,
    load_prices,
    requests_per_video,
    table,
)

PRICES = load_prices()


def line(result: Estimate, item: str) -> tuple[float, float]:
    (found,) = [x for x in result.lines if x.item == item]
    return found.first_month, found.ongoing


def test_storage_of_the_default_lifecycle_by_hand() -> None:
    # 100 GB in 400 videos: 14 days STANDARD, 16 days Deep Archive, with the index of each
    # object (8 KB at STANDARD's price and 32 KB at Deep Archive's) for those 16 days
    result = estimate(Usage(100, 400), PRICES)
    index = 400 * 16 / 30 * (8192 * 0.023 + 32768 * 0.00099) / GB
    first = 100 * 0.023 * 14 / 30 + 100 * 0.00099 * 16 / 30 + index
    ongoing = 100 * 0.00099 + 400 * (8192 * 0.023 + 32768 * 0.00099) / GB
    assert line(result, "S3 storage") == pytest.approx((first, ongoing))


def test_storage_with_glacier_ir_and_straight_to_deep_archive_by_hand() -> None:
    ir = estimate(Usage(100, 400, monthly_gb=10, lifecycle="glacier-ir"), PRICES)
    first = 100 * (0.023 * 7 + 0.004 * 23) / 30
    # the month's 10 GB: 7 days in STANDARD and 90 in Glacier IR, on average resident
    intake = 10 * (0.023 * 7 + 0.004 * 90) / 30
    library = 100 * 0.00099 + 400 * (8192 * 0.023 + 32768 * 0.00099) / GB
    assert line(ir, "S3 storage") == pytest.approx((first, library + intake))
    deep = estimate(Usage(100, 400, lifecycle="deep-archive"), PRICES)
    index = 400 * 29 / 30 * (8192 * 0.023 + 32768 * 0.00099) / GB
    assert line(deep, "S3 storage")[0] == pytest.approx(
        100 * (0.023 * 1 + 0.00099 * 29) / 30 + index
    )


def test_requests_follow_the_store_s_part_sizes() -> None:
    assert requests_per_video(100 * MIB) == 1
    assert requests_per_video(100 * MIB + 1) == 3 + 2  # create, three parts, complete
    assert requests_per_video(1024 * MIB) == 21 + 2
    result = estimate(Usage(100, 400), PRICES)  # 256 MB a video: 6 parts
    puts = 400 * (6 + 2) * 0.005 / 1000
    heads = 400 * 3 * 0.0004 / 1000
    run_files = 30 * (5 * 0.005 + 3 * 0.0004) / 1000  # run list, results, the catalog
    nightly_check = 400 * 0.0004 / 1000  # each object's head once a month
    nightly_check += 30 * 1 * 0.005 / 1000  # and a ListObjectsV2 page (400 objects) a night
    assert line(result, "S3 requests and transitions")[0] == pytest.approx(
        puts + heads + run_files + nightly_check + 400 * 0.05 / 1000
    )


def test_lambda_from_the_cpu_a_gib_costs_at_the_memory_by_hand() -> None:
    result = estimate(Usage(100, 400, memory_mb=512, cpu_seconds_per_gib=7.7), PRICES)
    seconds = 100 * 7.7 / (512 / 1769) + 3 * 30 * 2.0  # authenticate, list, summarize
    expected = seconds * 0.5 * 0.0000166667 + (400 + 90) / 1e6 * 0.20
    assert line(result, "Lambda")[0] == pytest.approx(expected)
    # From 1,769 MB a function has a whole vCPU: more memory only costs more (the default
    # CPU per GiB is bench.transfer's, with the origin check)
    big = estimate(Usage(100, 400, memory_mb=3538), PRICES)
    assert line(big, "Lambda")[0] == pytest.approx(
        (100 * 5.1 + 180) * (3538 / 1024) * 0.0000166667 + 490 / 1e6 * 0.20
    )


def test_step_functions_dynamodb_and_the_fixed_costs_by_hand() -> None:
    result = estimate(Usage(100, 400), PRICES)
    assert line(result, "Step Functions")[0] == pytest.approx((400 * 4 + 30 * 11) * 0.025 / 1000)
    # The first write is transactional; each night also scans the records for the catalog
    writes, reads = 400 * (2 + 4), 400 + 400 * 30 + 400 * 30 / 8
    assert line(result, "DynamoDB")[0] == pytest.approx(
        writes * 0.625 / 1e6 + reads * 0.125 / 1e6 + 400 * 1024 / GB * 0.25
    )
    assert line(result, "KMS")[1] == pytest.approx(1.00 + 60 / 10_000 * 0.03)
    # Metrics are billed by the hour they are sent in: six series, an hour a night
    assert line(result, "CloudWatch")[1] == pytest.approx(6 * 30 / 730 * 0.30 + 3 * 0.10)
    assert result.first_month == pytest.approx(sum(x.first_month for x in result.lines))


def test_100_gb_cost_at_most_two_dollars_ongoing_and_the_free_tier_is_its_own_line() -> None:
    result = estimate(Usage(100, 400), PRICES)
    assert result.ongoing <= 2.00
    # The always-free tier takes off CloudWatch's metrics and alarms, Lambda, Step
    # Functions' first 4,000 transitions and DynamoDB's storage, never the floor
    free = result.free_tier
    assert free.ongoing < 0
    assert -free.ongoing == pytest.approx(
        line(result, "CloudWatch")[1]
        + line(result, "Lambda")[1]
        + line(result, "Step Functions")[1]
        + 400 * 1024 / GB * 0.25
        + 60 / 10_000 * 0.03
    )
    assert result.floor == pytest.approx(1.00 + 0.40)
    assert result.ongoing + free.ongoing >= result.floor
    shown = result.as_dict()
    assert shown["ongoing_in_free_tier"] == pytest.approx(result.ongoing + free.ongoing, abs=1e-4)
    assert "always-free tier" in table(result)


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        ({"archive_gb": -1, "videos": 3}, "archive_gb must be a finite number"),
        ({"archive_gb": float("nan"), "videos": 3}, "archive_gb must be a finite number"),
        ({"archive_gb": 10, "videos": 0}, "videos must be at least 1"),
        ({"archive_gb": 10, "videos": 3, "lifecycle": "glacier"}, "lifecycle must be one of"),
        ({"archive_gb": 10, "videos": 3, "memory_mb": 64}, "memory_mb must be 128 to 10240"),
    ],
)
def test_a_bad_figure_is_named(usage: dict[str, Any], message: str) -> None:
    with pytest.raises(CostInputError, match=message):
        Usage(**usage)


def test_a_bad_price_is_named() -> None:
    broken = json.loads(json.dumps(PRICES))
    broken["kms"]["key_month"] = "one dollar"
    with pytest.raises(CostInputError, match=r"price kms.key_month must be a number"):
        estimate(Usage(10, 3), broken)


def test_the_command_prints_a_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--archive-gb", "100", "--videos", "400", "--monthly-gb", "10"]) == 0
    table = capsys.readouterr().out
    assert "first month" in table
    assert "reference system, 100 GB" in table
    assert "us-east-1" in table
    assert main(["cost", "--archive-gb", "100", "--videos", "400", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    total = sum(x["first_month"] for x in answer["lines"])
    assert answer["first_month"] == pytest.approx(total, abs=1e-4)
    assert answer["region"] == "us-east-1"


def test_a_bad_figure_at_the_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--archive-gb", "-5", "--videos", "3"]) == 2
    error = capsys.readouterr().err
    assert error.strip() == "cloudsync: error: --archive-gb must be a finite number >= 0, got -5.0"


@pytest.mark.parametrize("lifecycle", sorted(LIFECYCLES))
def test_the_command_takes_every_lifecycle_the_estimate_knows(
    lifecycle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["cost", "--archive-gb", "100", "--videos", "400", "--json"]
    assert main([*argv, "--lifecycle", lifecycle]) == 0
    assert json.loads(capsys.readouterr().out)["lifecycle"] == LIFECYCLES[lifecycle].name
