"""The AWS calls the functions make, judged against the roles the program declares.

Every workflow and sandbox test checks its own calls when it ends (tests.infra.iam); this
test runs the paths that matter most for grants in one execution and shows the check
catches a missing grant, naming the function, the action and the resource.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from entrypoints.settings import Settings
from sandbox.gopro.library import EmulatedMedia
from tests.infra.iam import policy_without, refusals
from tests.integration.workflow import Workflow, short_deadlines, workflow

__all__ = ["short_deadlines", "workflow"]


def test_new_multipart_resumed_and_failed_transfers_use_only_granted_calls(
    short_deadlines: None, workflow: Workflow
) -> None:
    # Given a library with a video of several parts and one whose listing lies
    workflow.emulator.media.clear()
    when = datetime(2024, 3, 1, tzinfo=UTC)
    workflow.emulator.add(EmulatedMedia("long001", "L.MP4", "MP4", "Video", when, when, 12 << 20))
    workflow.emulator.add(EmulatedMedia("liar001", "B.MP4", "MP4", "Video", when, when, 4_000))
    workflow.emulator.faults.head_size_override["liar001"] = 4_010
    # When the workflow runs
    assert workflow.run()["status"] == "SUCCEEDED"
    calls = workflow.dispatcher.aws.calls
    made = {(c.function, c.service, c.operation) for c in calls}
    # Then the calls that need the subtle grants were made, and seen
    downloader = "video-downloader-dev"
    for expected in [
        ("media-authenticator-dev", "secretsmanager", "GetSecretValue"),
        ("media-lister-dev", "dynamodb", "BatchGetItem"),
        (downloader, "s3", "HeadObject"),
        (downloader, "s3", "CreateMultipartUpload"),
        (downloader, "s3", "UploadPart"),  # from the part thread, in the function's context
        (downloader, "s3", "ListParts"),  # resuming after "continue"
        (downloader, "s3", "CompleteMultipartUpload"),
        (downloader, "dynamodb", "PutItem"),
    ]:
        assert expected in made, sorted(made)
    assert any(c.operation == "HeadObject" and c.status == 404 for c in calls)
    local = Settings.from_env(os.environ)
    assert refusals(calls, local) == []
    # And a role missing one grant is caught, by function, action and resource
    without_listing = refusals(calls, local, policy_without("downloader", "s3:ListBucket"))
    assert without_listing
    assert all(
        line.startswith("downloader may not s3:ListBucket on arn:aws:s3:::")
        for line in without_listing
    )
    without_parts = refusals(
        calls, local, policy_without("downloader", "s3:ListMultipartUploadParts")
    )
    assert any(
        "s3:ListMultipartUploadParts on arn:aws:s3:::" in line and "/gopro-videos/2024/03/" in line
        for line in without_parts
    )
    without_decrypt = refusals(calls, local, policy_without("downloader", "kms:Decrypt"))
    assert any(
        "kms:Decrypt on arn:aws:kms:" in line and "UploadPart under SSE-KMS" in line
        for line in without_decrypt
    )
