"""S3ObjectStore against moto: attributes at creation, no overwrite, parts, abort, resume."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from adapters.aws.catalog_store import S3CatalogStore
from adapters.aws.s3_multipart import PartBody
from adapters.aws.s3_store import S3Settings, part_size_for
from domain.errors import KeyTakenError, StorageAccessDeniedError, StorageError
from domain.model import UploadCheckpoint
from domain.units import MIB
from domain.verification import crc32_of
from sandbox.gopro.content import content, iter_content
from tests.integration.aws import BUCKET, Account


def chunks(media_id: str, size: int, start: int = 0) -> Iterator[bytes]:
    return (bytes(chunk) for chunk in iter_content(media_id, start, size, 64 * 1024))


def s3_sha256(account: Account, key: str) -> str:
    body = account.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return hashlib.sha256(body).hexdigest()


def count_calls(account: Account, operation: str) -> list[int]:
    calls: list[int] = []
    account.s3.meta.events.register(f"before-call.s3.{operation}", lambda **_: calls.append(1))
    return calls


def test_a_small_object_is_created_with_every_attribute(account: Account) -> None:
    store = account.store()
    stored = store.create("gopro-videos/2024/05/a.MP4", "m1", chunks("m1", 1_000), 1_000)
    assert not isinstance(stored, UploadCheckpoint)
    assert stored.size_bytes == 1_000
    assert stored.checksum == crc32_of(content("m1", 0, 1_000))
    assert stored.owner_media_id == "m1"
    head = account.s3.head_object(Bucket=BUCKET, Key=stored.key)
    assert head.get("StorageClass", "STANDARD") == "STANDARD"
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == account.kms_key_arn
    tags = account.s3.get_object_tagging(Bucket=BUCKET, Key=stored.key)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"Source": "GoPro", "AutoSync": "True"}
    assert store.describe(stored.key) == stored
    assert store.describe("gopro-videos/2024/05/none.MP4") is None


def test_bodies_go_unsigned_with_a_crc32_and_are_never_hashed_twice(account: Account) -> None:
    """Over TLS, SigV4 needs no SHA-256 of a body that carries a CRC32; botocore only sees
    a checksum it computed itself, so without the store's client configuration it would
    hash every part once more. The in-process AWS is reached over https, as S3 is."""
    sent: list[tuple[str, str, str | None]] = []

    def observe(request: Any, **_: Any) -> None:
        if request.method == "PUT" and request.body is not None:
            sent.append(
                (
                    request.url,
                    request.headers.get("X-Amz-Content-SHA256", b"").decode(),
                    request.headers.get("x-amz-checksum-crc32", b"").decode() or None,
                )
            )

    account.s3.meta.events.register_first("before-send.s3", observe)
    store = account.store(single_put_limit=5 * MIB, part_size=5 * MIB)
    store.create("gopro-videos/2024/05/small.MP4", "m1", chunks("m1", 1_000), 1_000)
    store.create("gopro-videos/2024/05/large.MP4", "m2", chunks("m2", 11 * MIB), 11 * MIB)
    assert len(sent) == 4  # one PutObject, three UploadParts
    for url, payload, crc in sent:
        assert url.startswith("https://")
        assert payload == "UNSIGNED-PAYLOAD", url
        assert crc is not None, url
    parts = [
        crc32_of(content("m2", n * 5 * MIB, min(11 * MIB, (n + 1) * 5 * MIB))) for n in range(3)
    ]
    assert [crc for *_, crc in sent[1:]] == [part.value for part in parts]


@given(st.binary(max_size=300), st.lists(st.integers(1, 70), min_size=1, max_size=20), st.data())
def test_a_part_body_reads_as_its_buffer_at_any_read_size(
    data: bytes, sizes: list[int], draw: st.DataObject
) -> None:
    buffer = bytearray(data)
    body = PartBody(buffer)
    assert len(body) == len(data)
    assert body.seek(0, io.SEEK_END) == len(data)
    body.seek(0)
    read = b""
    for size in sizes * (len(data) // len(sizes) + 2):
        piece = body.read(size)
        assert len(piece) <= size
        read += bytes(piece)
    assert read == data
    assert body.read(10) == b""
    at = draw.draw(st.integers(min_value=0, max_value=len(data)))
    assert body.seek(at) == at  # a retry seeks back
    whole = body.read()
    assert isinstance(whole, bytes)
    assert whole == data[at:]


def test_an_existing_object_is_never_overwritten(account: Account) -> None:
    store = account.store(single_put_limit=5 * MIB, part_size=5 * MIB)
    key = "gopro-videos/2024/05/a.MP4"
    store.create(key, "m1", chunks("m1", 1_000), 1_000)
    with pytest.raises(KeyTakenError, match="'m1'") as caught:
        store.create(key, "m2", chunks("m2", 2_000), 2_000)
    assert caught.value.owner_media_id == "m1"
    with pytest.raises(KeyTakenError):
        store.create(key, "m3", chunks("m3", 12 * MIB), 12 * MIB)  # multipart, too
    assert s3_sha256(account, key) == hashlib.sha256(content("m1", 0, 1_000)).hexdigest()
    assert account.open_uploads() == []


def test_a_120_mb_video_goes_up_in_three_parts(account: Account) -> None:
    size = 120 * MIB
    parts = count_calls(account, "UploadPart")
    stored = account.store().create(
        "gopro-videos/2024/05/big.MP4", "big", chunks("big", size), size
    )
    assert not isinstance(stored, UploadCheckpoint)
    assert len(parts) == 3
    assert stored.size_bytes == size
    assert stored.checksum == crc32_of(content("big", 0, size))
    head = account.s3.head_object(Bucket=BUCKET, Key=stored.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    tags = account.s3.get_object_tagging(Bucket=BUCKET, Key=stored.key)["TagSet"]
    assert {t["Key"] for t in tags} == {"Source", "AutoSync"}
    assert s3_sha256(account, stored.key) == hashlib.sha256(content("big", 0, size)).hexdigest()


def test_a_stream_that_fails_aborts_the_upload_and_stores_nothing(account: Account) -> None:
    def breaking() -> Iterator[bytes]:
        yield from chunks("m1", 11 * MIB)
        raise ConnectionError("source went away")

    store = account.store(single_put_limit=5 * MIB, part_size=5 * MIB)
    with pytest.raises(ConnectionError):
        store.create("gopro-videos/2024/05/x.MP4", "m1", breaking(), 20 * MIB)
    assert account.open_uploads() == []
    assert store.describe("gopro-videos/2024/05/x.MP4") is None


def test_a_short_stream_is_refused_before_completion(account: Account) -> None:
    store = account.store(single_put_limit=5 * MIB, part_size=5 * MIB)
    with pytest.raises(StorageError, match="arrived"):
        store.create("gopro-videos/2024/05/x.MP4", "m1", chunks("m1", 11 * MIB), 12 * MIB)
    assert account.open_uploads() == []
    assert store.describe("gopro-videos/2024/05/x.MP4") is None


def test_a_paused_upload_resumes_to_the_same_bytes(account: Account) -> None:
    size, key = 23 * MIB + 123, "gopro-videos/2024/05/resumed.MP4"
    store = account.store(single_put_limit=5 * MIB, part_size=5 * MIB)
    checkpoint = store.create(key, "r1", chunks("r1", size), size, pause=lambda: True)
    assert isinstance(checkpoint, UploadCheckpoint)
    assert (checkpoint.parts, checkpoint.offset) == (1, 5 * MIB)
    assert account.open_uploads() == [key]
    while isinstance(checkpoint, UploadCheckpoint):
        checkpoint = store.resume(
            checkpoint, "r1", chunks("r1", size, checkpoint.offset), size, pause=lambda: True
        )
    assert checkpoint.size_bytes == size
    assert checkpoint.checksum == crc32_of(content("r1", 0, size))
    assert s3_sha256(account, key) == hashlib.sha256(content("r1", 0, size)).hexdigest()
    assert account.open_uploads() == []


def test_a_checkpoint_the_upload_no_longer_matches_is_refused(account: Account) -> None:
    size, key = 12 * MIB, "gopro-videos/2024/05/stale.MP4"
    store = account.store(single_put_limit=5 * MIB, part_size=5 * MIB)
    checkpoint = store.create(key, "s1", chunks("s1", size), size, pause=lambda: True)
    assert isinstance(checkpoint, UploadCheckpoint)
    wrong = UploadCheckpoint(key, checkpoint.upload_id, 2, 10 * MIB, checkpoint.crc32)
    with pytest.raises(StorageError, match="no longer holds"):
        store.resume(wrong, "s1", chunks("s1", size, wrong.offset), size)
    assert account.open_uploads() == []


def test_parts_grow_beyond_500_gb_and_5_tib_is_refused() -> None:
    settings = S3Settings("b", "k")
    assert part_size_for(120 * MIB, settings) == 50 * MIB
    assert part_size_for(10_000 * 50 * MIB, settings) == 50 * MIB
    bigger = part_size_for(10_000 * 50 * MIB + 1, settings)
    assert bigger == 51 * MIB
    assert -(-(10_000 * 50 * MIB + 1) // bigger) <= 10_000
    with pytest.raises(StorageError, match="5 TiB"):
        part_size_for(5 * (1 << 40) + 1, settings)


def test_a_refused_head_names_the_permissions_and_is_not_retried(account: Account) -> None:
    # Given S3 answering 403, as real S3 answers a HeadObject of a missing key to a role
    # without s3:ListBucket (moto answers 404 either way, so its answer is stubbed here)
    store = account.store()
    with Stubber(account.s3) as stubber:
        stubber.add_client_error(
            "head_object", service_error_code="403", service_message="Forbidden",
            http_status_code=403,
        )  # fmt: skip
        # When the store checks a key, Then the error says which grants are missing
        with pytest.raises(
            StorageAccessDeniedError, match=r"s3:ListBucket on the bucket"
        ) as caught:
            store.describe("gopro-videos/2024/05/missing.MP4")
    assert "s3:GetObject" in str(caught.value)
    assert caught.value.retryable is False


def test_the_catalog_is_written_whole_encrypted_and_read_back(account: Account) -> None:
    account.s3.put_bucket_versioning(  # as the stack's bucket is
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    catalog = S3CatalogStore(account.s3, BUCKET, account.kms_key_arn)
    assert catalog.read("gopro") is None  # none written yet
    catalog.write("gopro", "media_id,key\r\nm1,gopro-videos/2024/05/ä.MP4\r\n")
    catalog.write("gopro", "media_id,key\r\nm2,gopro-videos/2024/05/ö.MP4\r\n")
    assert catalog.read("gopro") == "media_id,key\r\nm2,gopro-videos/2024/05/ö.MP4\r\n"
    head = account.s3.head_object(Bucket=BUCKET, Key="catalog/gopro.csv")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == account.kms_key_arn
    versions = account.s3.list_object_versions(Bucket=BUCKET, Prefix="catalog/")["Versions"]
    assert len(versions) == 2  # the bucket keeps the one replaced
