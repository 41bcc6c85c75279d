"""AWS's and GoPro's time, charged to each sandbox invocation without sleeping.

moto answers in a millisecond and the GoPro emulator at loopback speed; S3 answers a
HeadObject in tens of milliseconds and a Lambda is stopped at its timeout. While
`keep_time()` is active, every AWS call a function makes (botocore's `before-call` and
`after-call` events see each) and every request it sends through httpx charges a typical
latency, and the bytes it sends or receives their time at a per-connection bandwidth, to
the invocation's `InvocationClock`. The Lambda context reads that clock
(sandbox.lambda_dispatch), and a charge that takes the clock past the function's timeout
stops the invocation there: the call is not made, and every later call of the invocation
is refused the same way, as a dead process makes none.

Threads the function starts charge their own lane of the clock, starting from the moment
the invocation's own thread was at (sixteen HeadObjects at once cost one HeadObject's time,
not sixteen); the invocation's thread, going on, starts from the latest of them. Only
waiting on the network is charged: the functions' own computation is not (it is small
beside the calls, and this machine's speed is not Lambda's).

The figures are data (`TYPICAL`), each with where it comes from.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx
from botocore import handlers


@dataclass(frozen=True)
class Latency:
    seconds: float
    source: str


S3_SMALL = Latency(
    0.030,
    "AWS whitepaper 'Best Practices Design Patterns: Optimizing Amazon S3 Performance', "
    "Timeouts and Retries: small requests' median latency 'in the tens of milliseconds'",
)
DYNAMODB_ITEM = Latency(
    0.010,
    "AWS DynamoDB Developer Guide: 'single-digit millisecond' reads and writes; 10 ms "
    "allows for the SDK's TLS and signing from a Lambda in the same Region",
)


@dataclass(frozen=True)
class LatencyModel:
    calls: Mapping[str, Latency]
    """By `service.Operation` (botocore's names), else by `service`."""
    default: Latency
    gopro_api: Latency
    gopro_download: Latency
    bandwidth: Mapping[str, Latency]
    """Seconds per MiB on one connection, by `s3` (any AWS body) and `gopro` (any GoPro
    body)."""

    def call(self, service: str, operation: str) -> float:
        found = self.calls.get(f"{service}.{operation}") or self.calls.get(service)
        return (found or self.default).seconds

    def bytes(self, where: str, count: int) -> float:
        return self.bandwidth[where].seconds * count / 2**20


TYPICAL = LatencyModel(
    calls={
        "s3": S3_SMALL,
        "s3.ListObjectsV2": Latency(
            0.080,
            "estimate: a page of 1,000 keys is about 250 KB of XML, S3's first byte plus "
            "the page at the S3 bandwidth below",
        ),
        "s3.CompleteMultipartUpload": Latency(
            0.150,
            "public measurements of CompleteMultipartUpload: 100-300 ms, growing with parts",
        ),
        "dynamodb": DYNAMODB_ITEM,
        "dynamodb.BatchGetItem": Latency(
            0.025, "estimate: up to 100 items read in parallel by DynamoDB, as two item reads"
        ),
        "dynamodb.TransactWriteItems": Latency(
            0.025, "DynamoDB Developer Guide: a transaction does two reads or writes per item"
        ),
        "dynamodb.Scan": Latency(
            0.150, "estimate: a 1 MB page at DynamoDB's per-partition read rate"
        ),
        "dynamodb.Query": Latency(0.150, "estimate: as a Scan page of 1 MB"),
        "secretsmanager": Latency(
            0.050, "public measurements of GetSecretValue from Lambda: 30-80 ms"
        ),
        "stepfunctions": Latency(
            0.050, "public measurements of Step Functions control-plane calls: 30-100 ms"
        ),
        "sns": Latency(0.030, "public measurements of SNS Publish from Lambda: 20-40 ms"),
        "cloudwatch": Latency(0.030, "public measurements of PutMetricData: 20-40 ms"),
    },
    default=Latency(0.050, "any other AWS call: as the control-plane calls above"),
    gopro_api=Latency(
        0.300,
        "estimate: api.gopro.com from us-east-1, a search page of 100 items (the contract "
        "gives no figure)",
    ),
    gopro_download=Latency(0.150, "estimate: GoPro's CDN first byte for a signed file URL"),
    bandwidth={
        "s3": Latency(
            1 / 90,
            "public measurements of one Lambda connection to S3 in the same Region: about 90 MB/s",
        ),
        "gopro": Latency(
            1 / 6.25,
            "requirement R8.3's floor: 50 Mbit/s (6.25 MB/s) per concurrent download",
        ),
    },
)


class InvocationKilledError(BaseException):
    """The invocation's process died (out of time): none of its own error handling runs,
    and Step Functions sees the error Lambda reports for a timeout."""


@dataclass
class InvocationClock:
    """One invocation's modeled seconds since it began (see the module docstring)."""

    timeout: float
    model: LatencyModel = TYPICAL
    main: int = field(default_factory=threading.get_ident)
    _main_at: float = 0.0
    _lanes: dict[int, float] = field(default_factory=dict)
    dead: bool = False
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def elapsed(self) -> float:
        with self._lock:
            return max([self._main_at, *self._lanes.values()])

    def remaining(self) -> float:
        return max(0.0, self.timeout - self.elapsed())

    def charge(self, seconds: float, *, call: bool = False) -> None:
        """Charge `seconds` to the calling thread's lane; past the timeout, the
        invocation is dead and this and every later charge raise."""
        thread = threading.get_ident()
        with self._lock:
            if not self.dead:
                if thread == self.main:
                    self._main_at = max([self._main_at, *self._lanes.values()]) + seconds
                else:
                    self._lanes[thread] = max(self._lanes.get(thread, 0.0), self._main_at)
                    self._lanes[thread] += seconds
                self.calls += call
                reached = max([self._main_at, *self._lanes.values()])
                self.dead = reached > self.timeout
            dead = self.dead
        if dead:
            raise InvocationKilledError(f"timed out after {self.timeout:.0f} s (modeled)")


invocation_clock: ContextVar[InvocationClock | None] = ContextVar("invocation_clock", default=None)
"""The clock of the invocation the calling context runs (set by the Lambda dispatch)."""


def _body_size(body: Any) -> int:
    if isinstance(body, bytes | bytearray | memoryview):
        return len(body)
    if isinstance(body, str):
        return len(body.encode())
    if hasattr(body, "seek") and hasattr(body, "tell"):
        here = body.tell()
        size = int(body.seek(0, 2)) - int(here)
        body.seek(here)
        return size
    return 0


def _before_call(model: Any, params: Mapping[str, Any], **_: Any) -> None:
    clock = invocation_clock.get()
    if clock is None:
        return
    service = model.service_model.service_name
    sent = _body_size(params.get("body"))
    clock.charge(clock.model.call(service, model.name) + clock.model.bytes("s3", sent), call=True)


def _after_call(parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
    clock = invocation_clock.get()
    if clock is None or "Body" not in parsed:
        return
    clock.charge(clock.model.bytes("s3", int(parsed.get("ContentLength") or 0)))


class _ChargedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, clock: InvocationClock) -> None:
        self.inner, self.clock = inner, clock

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.clock.charge(self.clock.model.bytes("gopro", len(chunk)))
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _is_file(request: httpx.Request) -> bool:
    """A media file rather than an API answer: the emulator serves files under /files/,
    GoPro's CDN on hosts of its own."""
    return request.url.path.startswith("/files/") or "cloudfront" in request.url.host


@contextmanager
def keep_time() -> Iterator[None]:
    """While active, the calls of any invocation whose context holds a clock are charged
    to it (botocore sessions created while active; every httpx transport)."""
    added: list[tuple[str, Any]] = [("before-call", _before_call), ("after-call", _after_call)]
    handlers.BUILTIN_HANDLERS.extend(added)
    original = httpx.HTTPTransport.handle_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        clock = invocation_clock.get()
        if clock is None:
            return original(self, request)
        model = clock.model
        first = model.gopro_download if _is_file(request) else model.gopro_api
        try:
            sent = len(request.content)
        except httpx.RequestNotRead:
            sent = 0  # a streamed body: none of ours sends one
        clock.charge(first.seconds + model.bytes("gopro", sent), call=True)
        response = original(self, request)
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _ChargedStream(response.stream, clock)
        return response

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.HTTPTransport.handle_request = original  # type: ignore[method-assign]
        for handler in added:
            handlers.BUILTIN_HANDLERS.remove(handler)
