"""Byte verification: any difference fails, and the verdict names the check."""

from __future__ import annotations

import base64
import zlib

from hypothesis import given
from hypothesis import strategies as st

from domain.model import Checksum
from domain.verification import (
    Check,
    Crc32,
    TransferEvidence,
    crc32_combine,
    crc32_of,
    verify_transfer,
)

sizes = st.integers(min_value=0, max_value=10**12)


@given(sizes, st.binary(max_size=64))
def test_matching_evidence_passes(size: int, data: bytes) -> None:
    checksum = crc32_of(data)
    verdict = verify_transfer(TransferEvidence(size, size, size, checksum, checksum))
    assert verdict.passed
    assert set(verdict.checked) == set(Check)
    assert verdict.reason.startswith("verified")


@given(sizes, sizes, sizes)
def test_any_size_difference_fails_naming_the_check(
    expected: int, received: int, stored: int
) -> None:
    verdict = verify_transfer(TransferEvidence(expected, received, stored))
    failed = {failure.check for failure in verdict.failures}
    assert (Check.BYTES_RECEIVED in failed) == (received != expected)
    assert (Check.BYTES_STORED in failed) == (stored != expected)
    assert verdict.passed == (received == expected == stored)
    if not verdict.passed:
        assert str(expected) in verdict.reason


@given(st.binary(min_size=1, max_size=64), st.data())
def test_any_byte_difference_fails_the_checksum(data: bytes, draw: st.DataObject) -> None:
    position = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
    flip = draw.draw(st.integers(min_value=1, max_value=255))
    damaged = data[:position] + bytes([data[position] ^ flip]) + data[position + 1 :]
    n = len(data)
    verdict = verify_transfer(TransferEvidence(n, n, n, crc32_of(data), crc32_of(damaged)))
    assert not verdict.passed
    assert [failure.check for failure in verdict.failures] == [Check.CHECKSUM]


def test_unknown_size_never_passes() -> None:
    verdict = verify_transfer(TransferEvidence(None, 10, 10))
    assert not verdict.passed
    assert verdict.failures[0].check is Check.SIZE_KNOWN


def test_checksums_of_different_algorithms_are_not_compared() -> None:
    verdict = verify_transfer(
        TransferEvidence(3, 3, 3, Checksum("CRC32", "AAAAAA=="), Checksum("SHA256", "xyz"))
    )
    assert verdict.passed
    assert Check.CHECKSUM not in verdict.checked


@given(st.lists(st.binary(max_size=50), max_size=10))
def test_crc32_over_chunks_equals_crc32_of_the_whole(chunks: list[bytes]) -> None:
    crc = Crc32()
    for chunk in chunks:
        crc.update(chunk)
    whole = b"".join(chunks)
    assert crc.checksum() == crc32_of(whole)
    decoded = int.from_bytes(base64.b64decode(crc.checksum().value), "big")
    assert decoded == zlib.crc32(whole)


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_crc32_combine_equals_the_crc32_of_the_concatenation(first: bytes, second: bytes) -> None:
    combined = crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(first + second)


def test_crc32_combine_over_a_part_sized_length() -> None:
    part = bytes(range(256)) * (5 * 4096 + 3)  # 5 MiB and 768 bytes
    head = b"GoPro"
    assert crc32_combine(zlib.crc32(head), zlib.crc32(part), len(part)) == zlib.crc32(head + part)
