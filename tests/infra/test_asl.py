"""The state machine definition: valid ASL, and the orchestration rules in its shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from entrypoints.cost import STATES_PER_EXECUTION, STATES_PER_VIDEO
from infra.asl import TRANSIENT_ERRORS, WorkflowOptions, WorkflowTargets, state_machine_definition
from tests.infra.aws_rules import statelint

ARN = "arn:aws:lambda:eu-central-1:123456789012:function:cloud-sync-"
TARGETS = WorkflowTargets(
    ARN + "authenticator",
    ARN + "lister",
    ARN + "downloader",
    ARN + "summary",
    "arn:aws:sns:eu-central-1:123456789012:gopro-sync-alerts",
    "gopro-archive-test",
)


@pytest.fixture
def definition() -> dict[str, Any]:
    return state_machine_definition(TARGETS)


def tasks(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def test_the_definition_passes_statelint(definition: dict[str, Any]) -> None:
    assert statelint(definition) == []


def test_statelint_would_catch_a_broken_definition(definition: dict[str, Any]) -> None:
    definition["States"]["List"]["Next"] = "Nowhere"
    assert statelint(definition) != []


def test_authenticate_then_list_then_download_then_summarize(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert definition["StartAt"] == "Authenticate"
    assert states["Authenticate"]["Next"] == "StartListing"
    assert states["StartListing"]["Result"] == {"cursor": None}
    assert states["StartListing"]["Next"] == "List"
    assert states["List"]["Parameters"]["cursor.$"] == "$.listing.cursor"
    assert states["List"]["Next"] == "Listed"
    assert states["Listed"]["Default"] == "DownloadVideos"
    assert states["DownloadVideos"]["Next"] == "StartSummary"
    assert states["StartSummary"]["Result"] == {"cursor": None}
    assert states["StartSummary"]["Next"] == "Summarize"
    assert states["Summarize"]["Resource"] == ARN + "summary"  # its own function
    assert "step" not in states["Summarize"]["Parameters"]
    assert states["Summarize"]["Parameters"]["cursor.$"] == "$.summary.cursor"
    # Tonight's objects (stored since the execution started) are not described again
    assert states["Summarize"]["Parameters"]["started.$"] == "$$.Execution.StartTime"
    assert states["Summarize"]["Next"] == "Summarized"
    # A summary that says continue summarizes again, from its cursor
    assert states["Summarized"]["Choices"] == [
        {"Variable": "$.summary.status", "StringEquals": "continue", "Next": "Summarize"}
    ]
    assert states["Summarized"]["Default"] == "AnyFailures"


def test_a_listing_that_says_continue_lists_again_and_nothing_to_sync_is_summarized(
    definition: dict[str, Any],
) -> None:
    continues, skipped, nothing = definition["States"]["Listed"]["Choices"]
    assert continues == {
        "Variable": "$.listing.status",
        "StringEquals": "continue",
        "Next": "List",
    }
    # A run that finds an earlier one holding the library ends at once, with no alert
    assert skipped == {
        "Variable": "$.listing.status",
        "StringEquals": "skipped",
        "Next": "Skipped",
    }
    assert definition["States"]["Skipped"]["Type"] == "Succeed"
    assert definition["States"]["List"]["Parameters"]["execution.$"] == "$$.Execution.Id"
    assert nothing["Variable"] == "$.listing.to_sync"
    assert nothing["NumericEquals"] == 0
    # Still summarized: the catalog is rewritten and the nightly check runs on quiet nights
    assert nothing["Next"] == "StartSummary"


def test_downloads_run_five_at_a_time_in_child_executions(definition: dict[str, Any]) -> None:
    download = definition["States"]["DownloadVideos"]
    assert download["Type"] == "Map"
    assert download["MaxConcurrency"] == 5
    assert download["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"


def test_the_ids_and_results_stay_in_s3_not_in_the_state(definition: dict[str, Any]) -> None:
    download = definition["States"]["DownloadVideos"]
    assert "ItemsPath" not in download
    assert download["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket.$": "$.listing.bucket", "Key.$": "$.listing.key"},
    }
    writer = download["ResultWriter"]
    assert writer["Resource"] == "arn:aws:states:::s3:putObject"
    assert writer["Parameters"] == {"Bucket": TARGETS.bucket, "Prefix": "runs/results"}
    assert download["ItemSelector"]["media_id.$"] == "$$.Map.Item.Value"


def test_every_invocation_retries_transient_failures_three_times_from_two_seconds(
    definition: dict[str, Any],
) -> None:
    item_states = definition["States"]["DownloadVideos"]["ItemProcessor"]["States"]
    invocations = {**tasks(definition["States"]), **tasks(item_states)}
    lambdas = {n: s for n, s in invocations.items() if s["Resource"].startswith(ARN)}
    assert set(lambdas) == {"Authenticate", "List", "Summarize", "Download"}
    for state in lambdas.values():
        (retry,) = state["Retry"]
        assert (retry["MaxAttempts"], retry["IntervalSeconds"], retry["BackoffRate"]) == (3, 2, 2.0)
        assert set(retry["ErrorEquals"]) == set(TRANSIENT_ERRORS)
        assert state["Parameters"]["provider.$"] == "$.provider"  # R11.5


def test_auth_or_list_failing_alerts_and_fails(definition: dict[str, Any]) -> None:
    states = definition["States"]
    for name in ("Authenticate", "List", "DownloadVideos", "Summarize"):
        (catch,) = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["ResultPath"] == "$.error"
        # through the merge of the caught error over defaults, to the alert
        assert catch["Next"] == "DescribeFailure"
    assert states["DescribeFailure"]["Next"] == "MergeFailure"
    assert states["MergeFailure"]["Next"] == "NotifyCriticalFailure"
    notify = states["NotifyCriticalFailure"]
    assert notify["Resource"] == "arn:aws:states:::sns:publish"
    assert notify["Parameters"]["TopicArn"] == TARGETS.alert_topic_arn
    assert states[notify["Next"]]["Type"] == "Fail"


def test_a_failing_video_never_fails_the_map(definition: dict[str, Any]) -> None:
    item = definition["States"]["DownloadVideos"]["ItemProcessor"]
    download = item["States"]["Download"]
    assert download["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    ends = [s for s in item["States"].values() if s.get("End")]
    assert all(s["Type"] == "Pass" for s in ends)
    assert not any(s["Type"] == "Fail" for s in item["States"].values())


def test_partial_failure_notifies_and_succeeds(definition: dict[str, Any]) -> None:
    states = definition["States"]
    notify = states["NotifyPartialFailure"]
    assert "$.summary.failures" in notify["Parameters"]["Message.$"]
    after = states[notify["Next"]]
    assert after["Type"] == "Choice"  # the nightly check's outcome, then success
    assert states[after["Default"]]["Type"] == "Succeed"


def test_a_discrepancy_from_the_nightly_check_alerts_and_the_run_succeeds(
    definition: dict[str, Any],
) -> None:
    states = definition["States"]
    (rule,) = states["AnyDiscrepancies"]["Choices"]
    assert rule["Variable"] == "$.summary.discrepancies"
    assert rule["NumericGreaterThan"] == 0
    notify = states[rule["Next"]]
    message = notify["Parameters"]["Message.$"]
    assert "$.summary.report" in message
    assert "$.summary.verified" in message
    assert states[notify["Next"]]["Type"] == "Succeed"
    assert states["AnyFailures"]["Default"] == "AnyDiscrepancies"


def test_waits_and_intervals_follow_the_options() -> None:
    quick = state_machine_definition(TARGETS, WorkflowOptions(retry_interval_seconds=1))
    retry = quick["States"]["Authenticate"]["Retry"][0]
    assert retry["IntervalSeconds"] == 1
    wait = quick["States"]["DownloadVideos"]["ItemProcessor"]["States"]["WaitBeforeRetry"]
    assert wait["SecondsPath"] == "$.result.retry_after_seconds"


def test_the_definition_is_plain_json_without_secrets(definition: dict[str, Any]) -> None:
    text = json.dumps(definition)
    assert json.loads(text) == definition
    for word in ("token", "secret", "password"):
        assert word not in text.lower()


def success_path(machine: dict[str, Any]) -> list[str]:
    """The states an execution passes when nothing fails: every Choice's Default."""
    names, name = [], machine["StartAt"]
    while True:
        names.append(name)
        state = machine["States"][name]
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            return names
        name = state.get("Next") or state["Default"]


def test_the_cost_model_counts_the_definition_s_state_transitions(
    definition: dict[str, Any],
) -> None:
    processor = definition["States"]["DownloadVideos"]["ItemProcessor"]
    assert len(success_path(processor)) == STATES_PER_VIDEO
    assert len(success_path(definition)) == STATES_PER_EXECUTION
