"""The S3 clients keep a connection for each thread that shares them: over a real HTTP
endpoint (moto's server), the nightly check's sixteen describing threads and a restore's
workers never find the pool full (botocore keeps 10 by default, and past them opens and
discards a connection per request: a TLS handshake each against S3, and a warning line)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from adapters.aws.s3_store import S3ObjectStore, S3Settings, s3_client
from domain.audit import HEAD_WORKERS, ArchivedObject, check_stored
from entrypoints.container import Operator
from entrypoints.restore import FETCH_WORKERS
from entrypoints.restore import HEAD_WORKERS as RESTORE_WORKERS
from entrypoints.stack import StackFile, Target
from infra.config import StackSettings
from sandbox.world import free_port

BUCKET = "pool-test"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ENDPOINT_URL": url,
    }.items():
        monkeypatch.setenv(name, value)
    yield url
    server.stop()


def test_the_nightly_check_describes_sixteen_at_once_without_a_full_pool(
    endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = s3_client(boto3.session.Session())
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    objects = []
    for n in range(200):
        key = f"gopro-videos/2024/05/v{n:03d}.MP4"
        client.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 10)
        objects.append(ArchivedObject(f"v{n:03d}", key, 10, None, None))
    store = S3ObjectStore(client, S3Settings(BUCKET, "alias/none"))
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        found = check_stored(objects, store, workers=HEAD_WORKERS)
    assert found == []
    assert [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()] == []


def test_the_restore_client_keeps_a_connection_for_each_worker(endpoint: str) -> None:
    operator = Operator(target=Target(StackFile("dev", StackSettings(environment="dev"))))
    config = operator.s3().meta.config
    assert config.max_pool_connections > max(RESTORE_WORKERS, FETCH_WORKERS)
    assert config.signature_version == "s3v4"  # pre-signed links to SSE-KMS objects
