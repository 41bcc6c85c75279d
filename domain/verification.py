"""Byte verification: a transfer passes only when every count and checksum agrees.

Checks, each named in the verdict when it fails:
- the expected size is known (a video of unknown size cannot be verified, R3.4);
- the bytes read from the source equal the expected size;
- the bytes the store reports equal the expected size;
- when the source side and the store both give a checksum of the same algorithm, they match.

`GuardedStream` enforces the first two while the bytes pass, so a store never commits an
object of the wrong length.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import VerificationFailedError
from domain.model import Checksum
from domain.origin import OriginCheck, OriginResult, OriginStatus
from domain.ports import MediaDownload

CRC32 = "CRC32"


class Crc32:
    """A running CRC32 (the S3 `ChecksumCRC32` algorithm), fed chunk by chunk."""

    def __init__(self, initial: int = 0) -> None:
        self._value = initial

    @property
    def value(self) -> int:
        """The running value, from which a later Crc32 can go on."""
        return self._value

    def update(self, chunk: bytes) -> None:
        self._value = zlib.crc32(chunk, self._value)

    def checksum(self) -> Checksum:
        """The value as S3 prints it: the big-endian 4 bytes, base64-encoded."""
        return Checksum(CRC32, base64.b64encode(self._value.to_bytes(4, "big")).decode("ascii"))


_CRC32_POLYNOMIAL = 0xEDB88320  # reflected, as zlib and S3 use it


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(first: int, second: int, second_length: int) -> int:
    """The CRC32 of A followed by B, from CRC32(A), CRC32(B) and B's length: zlib's
    `crc32_combine`, which Python's zlib does not expose. It lets a store give the whole
    object's checksum from its parts' without reading any byte a second time."""
    if second_length <= 0:
        return first
    operator = [_CRC32_POLYNOMIAL] + [1 << n for n in range(31)]  # one zero bit
    for _ in range(3):  # two, four, then eight zero bits: one zero byte
        operator = _gf2_square(operator)
    length = second_length
    while True:  # apply len(B) zero bytes to CRC32(A), a power of two at a time
        if length & 1:
            first = _gf2_times(operator, first)
        length >>= 1
        if not length:
            break
        operator = _gf2_square(operator)
    return first ^ second


def crc32_of(data: bytes) -> Checksum:
    crc = Crc32()
    crc.update(data)
    return crc.checksum()


class Check(StrEnum):
    """One verification check."""

    SIZE_KNOWN = "size_known"
    BYTES_RECEIVED = "bytes_received"
    BYTES_STORED = "bytes_stored"
    CHECKSUM = "checksum"


@dataclass(frozen=True)
class TransferEvidence:
    """What one transfer can show for itself."""

    expected_size: int | None
    bytes_received: int
    bytes_stored: int
    source_checksum: Checksum | None = None
    stored_checksum: Checksum | None = None


@dataclass(frozen=True)
class Failure:
    check: Check
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of verification: which checks ran, and which failed and why."""

    checked: tuple[Check, ...]
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def reason(self) -> str:
        if self.passed:
            return "verified: " + ", ".join(check.value for check in self.checked)
        return "; ".join(f"{failure.check.value}: {failure.detail}" for failure in self.failures)


def verify_transfer(evidence: TransferEvidence) -> Verdict:
    """Judge a transfer by the checks of the module docstring."""
    checked = [Check.SIZE_KNOWN]
    failures: list[Failure] = []
    expected = evidence.expected_size
    if expected is None:
        failures.append(Failure(Check.SIZE_KNOWN, "the source never said how large the video is"))
    else:
        checked += [Check.BYTES_RECEIVED, Check.BYTES_STORED]
        if evidence.bytes_received != expected:
            failures.append(
                Failure(
                    Check.BYTES_RECEIVED,
                    f"expected {expected} bytes, received {evidence.bytes_received}",
                )
            )
        if evidence.bytes_stored != expected:
            failures.append(
                Failure(
                    Check.BYTES_STORED,
                    f"expected {expected} bytes, the store holds {evidence.bytes_stored}",
                )
            )
    source, stored = evidence.source_checksum, evidence.stored_checksum
    if source is not None and stored is not None and source.algorithm == stored.algorithm:
        checked.append(Check.CHECKSUM)
        if source.value != stored.value:
            failures.append(
                Failure(
                    Check.CHECKSUM,
                    f"{source.algorithm} {source.value} read, {stored.value} stored",
                )
            )
    return Verdict(tuple(checked), tuple(failures))


class GuardedStream:
    """Counts and checksums the bytes as they pass; refuses more or fewer than expected,
    and, with an origin check, bytes whose MD5s do not give the source's ETag.

    It starts at `start` with the running CRC32 `crc` of the bytes before it (a resume).
    An origin check that needs bytes before `start` (the rest of an origin part) has them
    read again and fed to it alone. At the end `judge` decides what a mismatch means: it
    raises to refuse the bytes (before the store keeps any), or answers what to record.
    """

    def __init__(
        self,
        download: MediaDownload,
        expected: int,
        start: int = 0,
        crc: int = 0,
        *,
        origin: OriginCheck | None = None,
        judge: Callable[[OriginResult], OriginResult] | None = None,
    ):
        self._download = download
        self.expected = expected
        self._start, self._crc = start, crc
        self.received = start
        self.crc = Crc32(crc)
        self.origin = origin
        self._judge = judge
        self.origin_result: OriginResult | None = None

    def __iter__(self) -> Iterator[bytes]:
        self.received, self.crc = self._start, Crc32(self._crc)
        origin, start = self.origin, self._start
        needed = origin.resume_from if origin is not None else None
        position = start if needed is None else min(start, needed)
        for chunk in self._download.chunks(position):
            at, position = position, position + len(chunk)
            if origin is not None:
                origin.feed(at, chunk)
            if position <= start:
                continue  # read again for the origin check only
            if at < start:
                chunk = chunk[start - at :]  # noqa: PLW2901
            self.received += len(chunk)
            if self.received > self.expected:
                raise VerificationFailedError(
                    f"the source sent more than the expected {self.expected} bytes"
                )
            self.crc.update(chunk)
            yield chunk
        if self.received != self.expected:
            raise VerificationFailedError(
                f"the source ended after {self.received} of the expected {self.expected} bytes"
            )
        if origin is not None:
            result = origin.result()
            if result.status is OriginStatus.MISMATCH and self._judge is not None:
                result = self._judge(result)
            self.origin_result = result
