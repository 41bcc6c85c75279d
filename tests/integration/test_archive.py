"""S3Archive (adapters/aws/archive.py) on moto with the sandbox's restore shim, and on S3's
own answers where moto gives other ones (a stubbed client: the 409 of a restore already
under way and a refusal, which moto in-process never sends)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto.moto_api import state_manager

from adapters.aws.archive import Requested, S3Archive
from domain.restore import RestoreError, State, Tier
from sandbox.moto_restore import MODEL, finish_restores, install
from tests.integration.aws import BUCKET, Account


@pytest.fixture(autouse=True)
def restores_take_an_hour() -> Iterator[None]:
    install(delay=3600)
    yield
    state_manager.unset_transition(MODEL)


def put(account: Account, key: str, storage_class: str) -> None:
    account.s3.put_object(
        Bucket=BUCKET, Key=key, Body=b"frames", StorageClass=storage_class,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_restore_is_started_once_then_extended_once_ready(account: Account) -> None:
    key = "gopro-videos/2024/01/GX010001.MP4"
    put(account, key, "DEEP_ARCHIVE")
    archive = S3Archive(account.s3, BUCKET)
    found = archive.state(key)
    assert found is not None
    assert found.state is State.NOT_REQUESTED
    with pytest.raises(RestoreError, match="archived and not restored"):
        b"".join(archive.download(key))

    assert archive.request(key, Tier.BULK, 3) is Requested.STARTED
    assert archive.request(key, Tier.BULK, 3) is Requested.IN_PROGRESS  # S3's 409
    pending = archive.state(key)
    assert pending is not None
    assert pending.state is State.PENDING

    finish_restores()
    ready = archive.state(key)
    assert ready is not None
    assert ready.state is State.READY
    assert ready.expires_at is not None
    assert b"".join(archive.download(key)) == b"frames"
    assert archive.request(key, Tier.BULK, 9) is Requested.EXTENDED


def test_an_object_outside_an_archive_class_is_readable_and_never_restored(
    account: Account,
) -> None:
    put(account, "gopro-videos/2024/01/a.MP4", "GLACIER_IR")
    archive = S3Archive(account.s3, BUCKET)
    found = archive.state("gopro-videos/2024/01/a.MP4")
    assert found is not None
    assert (found.state, found.storage_class) == (State.READABLE, "GLACIER_IR")
    assert archive.request("gopro-videos/2024/01/a.MP4", Tier.BULK, 1) is Requested.READABLE
    assert archive.state("gopro-videos/2024/01/none.MP4") is None


def stubbed() -> tuple[S3Archive, Stubber]:
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return S3Archive(client, "archive"), Stubber(client)


def test_s3s_409_for_a_restore_under_way_is_no_error() -> None:
    archive, stub = stubbed()
    stub.add_client_error(
        "restore_object", "RestoreAlreadyInProgress", "Object restore is already in progress",
        http_status_code=409,
    )  # fmt: skip
    with stub:
        assert archive.request("k", Tier.STANDARD, 1) is Requested.IN_PROGRESS


@pytest.mark.parametrize(
    ("method", "call", "permission"),
    [
        ("restore_object", lambda a: a.request("k", Tier.BULK, 1), "s3:RestoreObject"),
        ("head_object", lambda a: a.state("k"), "s3:GetObject"),
        ("get_object", lambda a: b"".join(a.download("k")), "kms:Decrypt"),
    ],
)
def test_a_refusal_names_the_permission_the_credentials_lack(
    method: str, call: object, permission: str
) -> None:
    archive, stub = stubbed()
    stub.add_client_error(method, "AccessDenied", "Access Denied", http_status_code=403)
    with stub, pytest.raises(RestoreError) as refused:
        call(archive)  # type: ignore[operator]
    message = str(refused.value)
    assert message.startswith("AWS refused ")
    assert "s3://archive/k (AccessDenied): your credentials need" in message
    assert permission in message
