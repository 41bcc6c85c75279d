"""What a month of cloud-sync costs: `cloudsync cost`.

Two months are estimated. The **first**: the existing library (`archive_gb` in `videos`
videos) is uploaded on the first night and spends the month in the lifecycle's tiers.
**Ongoing**: the library sits in its final tier and a month's intake (`monthly_gb` in
`monthly_videos` videos) arrives, each of its GB resident in the early tiers for as long
as the lifecycle keeps it there.

Prices are data (`prices.json`: region, date, source), never constants here. The lines are
list prices; the account's always-free tier (`free_tier` in prices.json: Lambda's GB-seconds
and requests, Step Functions' transitions, DynamoDB's storage, KMS's requests, CloudWatch's
ten metrics and ten alarms and its three dashboards) is one line of its own, what it takes
off an account with nothing else in it. The floor no tier removes: the customer-managed
KMS key and the secret the requirements demand ($1.40 a month).

What is counted, and why:
- **S3 storage** per class and day, with Deep Archive's per-object index (8 KB billed as
  STANDARD, 32 KB as Deep Archive); objects are created STANDARD (the system's rule) and
  moved by the bucket's lifecycle, one transition request per object and move. "Straight
  to Deep Archive" is a lifecycle at 0 days: S3 moves the object at the next midnight UTC,
  about one day in STANDARD. Minimum durations (90 days Glacier IR, 180 Deep Archive) only
  bill when an object leaves early; the archive never deletes, so they add nothing here,
  but a lifecycle that leaves Glacier IR before 90 days would pay them, which is why the
  stack refuses one.
- **S3 requests**: a PutObject per video up to 100 MiB, else CreateMultipartUpload, one
  UploadPart per 50 MiB and CompleteMultipartUpload; three HEAD-class reads per video;
  each night, the archive listed (a ListObjectsV2 per 1,000 objects) and a thirtieth of it
  read by HeadObject (the nightly check).
- **Lambda**: the downloader's GB-seconds from the CPU seconds one GiB costs (measured by
  the transfer benchmark) at the configured memory: below 1,769 MB a function gets that
  share of one vCPU, and the transfer is CPU-bound; plus the nightly authenticator and
  lister, and the invocations.
- **Step Functions**: the state transitions of one video (Prepare, Download, Route, done)
  and of one execution's own states, every night.
- **DynamoDB** on demand: six write units a video (discovered, two as it is written in a
  transaction; claimed, key reserved, completed, counted) and one read a video a night
  (discovery's BatchGetItem).
- **Secrets Manager**, **KMS** (the archive key; S3 Bucket Keys make KMS requests about one
  per object), **CloudWatch** metrics, alarms and log ingestion. "All custom metrics
  charges are prorated by the hour and metered only when you send metrics to CloudWatch"
  (aws.amazon.com/cloudwatch/pricing): a series costs its month's price over 730 hours
  for each hour in which a night publishes it, not the whole month.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.restore import ARCHIVE_CLASSES, RestorePrices, Tier
from domain.units import GB, PART_SIZE, SINGLE_PUT_LIMIT
from entrypoints.exits import UserError

PRICES = Path(__file__).with_name("prices.json")
FULL_VCPU_MB = 1_769
"""The memory at which a Lambda function gets one whole vCPU."""
DAYS = 30
NIGHTS = 30
STATES_PER_VIDEO = 4
"""Prepare, Download, Route, VideoDone: the child execution of one archived video."""
STATES_PER_EXECUTION = 11
"""Authenticate, StartListing, List, Listed, DownloadVideos, StartSummary, Summarize,
Summarized, AnyFailures, AnyDiscrepancies, Done, once a night (a listing or summary longer
than one invocation adds two per extra invocation)."""
FIXED_INVOCATION_SECONDS = 2.0
"""What one authenticator, lister or summary invocation runs, about."""
FIXED_INVOCATIONS_PER_NIGHT = 3
"""Authenticate, List, Summarize."""
RUN_FILE_PUTS = 5
"""A night's working files: the lister's part and run list, the Map's manifest and results,
and the catalog."""
RUN_FILE_GETS = 3
"""The lister joining its part, the Map reading the run list, the summary reading it."""
WRITES_PER_VIDEO = 6
"""Write units: the discovered record (in a transaction, so two), claimed, key reserved,
completed, counted."""
HEADS_PER_VIDEO = 3
NIGHTLY_CHECK_HEADS_PER_VIDEO_MONTH = 1
"""The nightly check reads each archived object's head once a month (a thirtieth a night)."""
LIST_PAGE_OBJECTS = 1000
"""The summary lists the archive each night (one ListObjectsV2, a PUT-class request, per
1,000 objects) so the catalog and the nightly check know what is there."""
CATALOG_SCAN_UNITS_PER_RECORD = 1 / 8
"""The summary's nightly Scan for the catalog: a record of about 1 KB, 4 KB a read unit,
eventually consistent at half a unit."""
INDEX_STANDARD_BYTES = 8 * 1024
INDEX_DEEP_BYTES = 32 * 1024
METRIC_SERIES_A_NIGHT = 6
"""Series a night publishes: ItemsSkipped per provider and per reason (archived, and two
more a library usually has), VideosSynced and BytesTransferred. SyncFailures and its
ErrorType series only on a night with a failure."""
PUBLISHING_HOURS_A_NIGHT = 1
"""A nightly run publishes within an hour (a first import for longer: it is counted as
one run of `hours` of downloads in the first month)."""
HOURS_A_MONTH = 730
IMPORT_CONNECTIONS = 5
"""The downloads at once (the Map's MaxConcurrency)."""
CONNECTION_BYTES_PER_SECOND = 6.25e6
"""Requirement R8.3's floor, 50 Mbit/s a download: how long a first import publishes."""
ALARMS = 3
"""Failed videos, failed executions, schedule dead letters."""
LOG_BYTES_PER_VIDEO = 4 * 1024
THUMBNAIL_BYTES = 40 * 1024
"""A ~450-pixel JPEG thumbnail per video, kept in STANDARD (GoPro's are tens of KB)."""
REFERENCE = {"first_month": 3.78, "ongoing": 3.20, "gb": 100}
"""The reference system's own estimate (its README), for 100 GB."""


@dataclass(frozen=True)
class Lifecycle:
    """Days in STANDARD, then days in Glacier IR (0: none), then Deep Archive for good."""

    name: str
    standard_days: float
    glacier_ir_days: float = 0


LIFECYCLES = {
    "default": Lifecycle("STANDARD 14 d, then DEEP_ARCHIVE", 14),
    "glacier-ir": Lifecycle("STANDARD 7 d, GLACIER_IR 90 d, then DEEP_ARCHIVE", 7, 90),
    "deep-archive": Lifecycle("straight to DEEP_ARCHIVE (a 0-day rule)", 1),
}


MAX_GB = 1e9
"""The largest library priced, in GB (an exabyte): beyond it the arithmetic, not the
library, would be what is measured."""
MAX_VIDEOS = 10**9


class CostInputError(ValueError):
    """A figure the estimate cannot use; the message names it."""


@dataclass(frozen=True)
class Usage:
    archive_gb: float
    videos: int
    monthly_gb: float = 0.0
    monthly_videos: int | None = None
    """None: the library's average video size."""
    lifecycle: str = "default"
    memory_mb: int = 512
    cpu_seconds_per_gib: float = 5.1
    """bench.transfer's 3.8 on a quiet machine, plus the 1.3 its origin check costs."""

    def __post_init__(self) -> None:
        for name in ("archive_gb", "monthly_gb", "cpu_seconds_per_gib"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise CostInputError(f"{name} must be a finite number >= 0, got {value!r}")
            if value > MAX_GB:
                raise CostInputError(f"{name} must be at most {MAX_GB:.0e}, got {value:g}")
        for name in ("videos", "monthly_videos"):
            count = getattr(self, name)
            if count is not None and count > MAX_VIDEOS:
                raise CostInputError(f"{name} must be at most {MAX_VIDEOS:.0e}, got {count}")
        if self.videos < 1 and self.archive_gb > 0:
            raise CostInputError("videos must be at least 1 for an archive of any size")
        if self.monthly_videos is not None and self.monthly_videos < 0:
            raise CostInputError(f"monthly_videos must be >= 0, got {self.monthly_videos}")
        if self.lifecycle not in LIFECYCLES:
            raise CostInputError(
                f"lifecycle must be one of {', '.join(LIFECYCLES)}, got {self.lifecycle!r}"
            )
        if not 128 <= self.memory_mb <= 10_240:
            raise CostInputError(f"memory_mb must be 128 to 10240, got {self.memory_mb}")

    @property
    def intake_videos(self) -> int:
        if self.monthly_videos is not None:
            return self.monthly_videos
        if self.monthly_gb == 0 or self.archive_gb == 0:
            return 0
        return math.ceil(self.monthly_gb / (self.archive_gb / max(1, self.videos)))


@dataclass(frozen=True)
class Line:
    item: str
    first_month: float
    ongoing: float


@dataclass(frozen=True)
class Estimate:
    usage: Usage
    region: str
    as_of: str
    lines: tuple[Line, ...]
    """At list price."""
    free_tier: Line
    """What the always-free tier takes off an account with nothing else (negative)."""
    floor: float
    """The monthly cost no tier removes: the customer-managed key and the secret."""
    prices_s3: Mapping[str, float]
    """The S3 prices the estimate used (for the per-1,000 thumbnail figure)."""

    @property
    def first_month(self) -> float:
        return sum(line.first_month for line in self.lines)

    @property
    def ongoing(self) -> float:
        return sum(line.ongoing for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "prices_as_of": self.as_of,
            "lifecycle": LIFECYCLES[self.usage.lifecycle].name,
            "lines": [vars(line) for line in self.lines],
            "first_month": round(self.first_month, 4),
            "ongoing": round(self.ongoing, 4),
            "free_tier": vars(self.free_tier),
            "first_month_in_free_tier": round(self.first_month + self.free_tier.first_month, 4),
            "ongoing_in_free_tier": round(self.ongoing + self.free_tier.ongoing, 4),
            "floor": {"items": "KMS key and secret", "month": round(self.floor, 4)},
            "thumbnails_per_1000_videos": dict(
                zip(
                    ("once", "month"),
                    map(_round4, thumbnails_per_1000(self.prices_s3)),
                    strict=True,
                )
            ),
        }


def _thumbnails(stored: int, written: int, s3: Mapping[str, float]) -> float:
    """A month of `stored` thumbnails in STANDARD, and `written` new ones (a PUT each)."""
    gb = stored * THUMBNAIL_BYTES / GB
    return gb * s3["standard_gb_month"] + written * s3["put_per_1000"] / 1000


def _round4(value: float) -> float:
    return round(value, 4)


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return prices


def requests_per_video(size_bytes: float) -> int:
    """S3 write requests to store one video of this size."""
    if size_bytes <= SINGLE_PUT_LIMIT:
        return 1
    return math.ceil(size_bytes / PART_SIZE) + 2


def _storage(gb: float, videos: int, days: Mapping[str, float], s3: Mapping[str, float]) -> float:
    """`gb` in `videos` objects held `days[class]` days in each class, for one month."""
    standard = days.get("standard", 0) * s3["standard_gb_month"]
    ir = days.get("glacier_ir", 0) * s3["glacier_ir_gb_month"]
    deep_days = days.get("deep_archive", 0)
    deep = deep_days * s3["deep_archive_gb_month"]
    index = (
        videos
        * deep_days
        / GB
        * (
            INDEX_STANDARD_BYTES * s3["standard_gb_month"]
            + INDEX_DEEP_BYTES * s3["deep_archive_gb_month"]
        )
    )
    return (gb * (standard + ir + deep) + index) / DAYS


def _first_month_days(lifecycle: Lifecycle) -> dict[str, float]:
    standard = min(DAYS, lifecycle.standard_days)
    ir = min(DAYS - standard, lifecycle.glacier_ir_days)
    return {"standard": standard, "glacier_ir": ir, "deep_archive": DAYS - standard - ir}


def _transitions(videos: int, lifecycle: Lifecycle, s3: Mapping[str, float]) -> float:
    per_1000 = s3["transition_to_deep_archive_per_1000"]
    if lifecycle.glacier_ir_days:
        per_1000 += s3["transition_to_glacier_ir_per_1000"]
    return videos / 1000 * per_1000


def _section(prices: Mapping[str, Any], name: str) -> dict[str, float]:
    """One service's prices, each a number >= 0; an error names what is wrong."""
    section = prices.get(name)
    if not isinstance(section, Mapping):
        raise CostInputError(f"the price file has no {name!r} section")
    found: dict[str, float] = {}
    for key, value in section.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise CostInputError(f"price {name}.{key} must be a number >= 0, got {value!r}")
        found[key] = float(value)
    return found


def estimate(usage: Usage, prices: Mapping[str, Any]) -> Estimate:
    s3, lam, sfn = (_section(prices, n) for n in ("s3", "lambda", "step_functions"))
    ddb, sm, kms, cw = (
        _section(prices, n) for n in ("dynamodb", "secrets_manager", "kms", "cloudwatch")
    )
    lifecycle = LIFECYCLES[usage.lifecycle]
    first_gb, first_n = usage.archive_gb, usage.videos if usage.archive_gb else 0
    new_gb, new_n = usage.monthly_gb, usage.intake_videos

    # Storage. Ongoing: the library in Deep Archive all month, the intake on average
    # resident in each early tier for that tier's days.
    storage_first = _storage(first_gb, first_n, _first_month_days(lifecycle), s3)
    early = {"standard": lifecycle.standard_days, "glacier_ir": lifecycle.glacier_ir_days}
    storage_ongoing = _storage(
        usage.archive_gb, usage.videos, {"deep_archive": DAYS}, s3
    ) + _storage(new_gb, 0, early, s3)

    runs = NIGHTS * (RUN_FILE_PUTS * s3["put_per_1000"] + RUN_FILE_GETS * s3["get_per_1000"])

    check = usage.videos * NIGHTLY_CHECK_HEADS_PER_VIDEO_MONTH * s3["get_per_1000"]
    check += NIGHTS * max(1, math.ceil(usage.videos / LIST_PAGE_OBJECTS)) * s3["put_per_1000"]

    def s3_requests(gb: float, n: int) -> float:
        if n == 0:
            return (runs + check) / 1000
        writes = n * requests_per_video(gb * GB / n)
        videos = writes * s3["put_per_1000"] + n * HEADS_PER_VIDEO * s3["get_per_1000"]
        return (videos + runs + check) / 1000 + _transitions(n, lifecycle, s3)

    share = min(1.0, usage.memory_mb / FULL_VCPU_MB)
    memory_gb = usage.memory_mb / 1024
    free = _section(prices, "free_tier")

    def lambda_use(gb: float, n: int) -> tuple[float, float]:
        """(GB-seconds, invocations)"""
        transfer_seconds = gb * usage.cpu_seconds_per_gib / share  # GiB ~ GB at this scale
        fixed_seconds = FIXED_INVOCATIONS_PER_NIGHT * NIGHTS * FIXED_INVOCATION_SECONDS
        invocations = n + FIXED_INVOCATIONS_PER_NIGHT * NIGHTS
        return (transfer_seconds + fixed_seconds) * memory_gb, invocations

    def lambda_cost(gb_seconds: float, invocations: float) -> float:
        return gb_seconds * lam["gb_second"] + invocations / 1e6 * lam["requests_per_million"]

    def transitions(n: int) -> float:
        return n * STATES_PER_VIDEO + NIGHTS * STATES_PER_EXECUTION

    def transitions_cost(count: float) -> float:
        return count / 1000 * sfn["transitions_per_1000"]

    def dynamodb(n: int, listed: int) -> float:
        writes = n * WRITES_PER_VIDEO
        reads = n + listed * NIGHTS * (1 + CATALOG_SCAN_UNITS_PER_RECORD)
        return (
            writes / 1e6 * ddb["write_request_units_per_million"]
            + reads / 1e6 * ddb["read_request_units_per_million"]
            + listed * 1024 / GB * ddb["storage_gb_month"]
        )

    def secrets(n: int) -> float:
        calls = 2 * NIGHTS + n
        return sm["secret_month"] + calls / 10_000 * sm["api_calls_per_10000"]

    def kms_requests(n: int) -> float:
        return n + 2 * NIGHTS

    def kms_requests_cost(count: float) -> float:
        return count / 10_000 * kms["requests_per_10000"]

    def publishing_hours(gb: float) -> float:
        """Hours in the month a night (or the import) publishes metrics."""
        importing = gb * GB / (IMPORT_CONNECTIONS * CONNECTION_BYTES_PER_SECOND) / 3600
        return min(HOURS_A_MONTH, NIGHTS * PUBLISHING_HOURS_A_NIGHT + importing)

    def cloudwatch(n: int, hours: float) -> tuple[float, float, float]:
        """(metric-months, alarms, log GB)"""
        return METRIC_SERIES_A_NIGHT * hours / HOURS_A_MONTH, ALARMS, n * LOG_BYTES_PER_VIDEO / GB

    def cloudwatch_cost(metric_months: float, alarms: float, logs_gb: float) -> float:
        return (
            metric_months * cw["metric_month"]
            + alarms * cw["alarm_month"]
            + logs_gb * cw["logs_ingested_gb"]
        )

    def free_tier(gb: float, n: int, listed: int) -> float:
        """What the always-free tier takes off the month (a negative amount)."""
        gb_seconds, invocations = lambda_use(gb, n)
        metric_months, alarms, logs_gb = cloudwatch(n, publishing_hours(gb))
        covered = (
            lambda_cost(
                min(gb_seconds, free["lambda_gb_seconds"]),
                min(invocations, free["lambda_requests"]),
            )
            + transitions_cost(min(transitions(n), free["step_functions_transitions"]))
            + min(listed * 1024 / GB, free["dynamodb_storage_gb"]) * ddb["storage_gb_month"]
            + kms_requests_cost(min(kms_requests(n), free["kms_requests"]))
            + cloudwatch_cost(
                min(metric_months, free["cloudwatch_metrics"]),
                min(alarms, free["cloudwatch_alarms"]),
                min(logs_gb, free["cloudwatch_logs_gb"]),
            )
        )
        return -covered

    total_listed = usage.videos + new_n
    lines = (
        Line("S3 storage", storage_first, storage_ongoing),
        Line("S3 requests and transitions", s3_requests(first_gb, first_n),
             s3_requests(new_gb, new_n)),
        Line("Lambda", lambda_cost(*lambda_use(first_gb, first_n)),
             lambda_cost(*lambda_use(new_gb, new_n))),
        Line("Step Functions", transitions_cost(transitions(first_n)),
             transitions_cost(transitions(new_n))),
        Line("DynamoDB", dynamodb(first_n, usage.videos), dynamodb(new_n, total_listed)),
        Line("Secrets Manager", secrets(first_n), secrets(new_n)),
        Line("KMS", kms["key_month"] + kms_requests_cost(kms_requests(first_n)),
             kms["key_month"] + kms_requests_cost(kms_requests(new_n))),
        Line("CloudWatch", cloudwatch_cost(*cloudwatch(first_n, publishing_hours(first_gb))),
             cloudwatch_cost(*cloudwatch(new_n, publishing_hours(new_gb)))),
        Line("Thumbnails (S3 STANDARD)", _thumbnails(first_n, first_n, s3),
             _thumbnails(total_listed, new_n, s3)),
    )  # fmt: skip
    covered = Line(
        "always-free tier",
        free_tier(first_gb, first_n, usage.videos),
        free_tier(new_gb, new_n, total_listed),
    )
    floor = kms["key_month"] + sm["secret_month"]
    return Estimate(usage, str(prices["region"]), str(prices["as_of"]), lines, covered, floor, s3)


def thumbnails_per_1000(s3: Mapping[str, float]) -> tuple[float, float]:
    """What 1,000 videos' thumbnails cost: once (their PUTs), and each month (storage)."""
    return s3["put_per_1000"], 1000 * THUMBNAIL_BYTES / GB * s3["standard_gb_month"]


def table(result: Estimate) -> str:
    usage = result.usage
    rows = [
        f"cloud-sync, {usage.archive_gb:g} GB in {usage.videos} videos, "
        f"{usage.monthly_gb:g} GB a month ({usage.intake_videos} videos); "
        f"{LIFECYCLES[usage.lifecycle].name}; Lambda {usage.memory_mb} MB",
        f"prices: {result.region}, {result.as_of} (USD, list prices)",
        "",
        f"{'':30} {'first month':>12} {'ongoing':>12}",
    ]
    rows += [
        f"{line.item:30} {line.first_month:12.2f} {line.ongoing:12.2f}" for line in result.lines
    ]
    rows.append(f"{'total at list price':30} {result.first_month:12.2f} {result.ongoing:12.2f}")
    free = result.free_tier
    rows.append(f"{free.item:30} {free.first_month:12.2f} {free.ongoing:12.2f}")
    rows.append(
        f"{'total inside the free tier':30} {result.first_month + free.first_month:12.2f} "
        f"{result.ongoing + free.ongoing:12.2f}"
    )
    rows.append(f"{'floor: KMS key and secret':30} {result.floor:12.2f} {result.floor:12.2f}")
    once, month = thumbnails_per_1000(result.prices_s3)
    rows.append(
        f"thumbnails, per 1,000 videos: ${once:.4f} once (PUTs) + ${month:.4f} a month "
        f"({1000 * THUMBNAIL_BYTES / 1024 / 1024:.0f} MiB in STANDARD)"
    )
    rows.append(
        f"{'reference system, 100 GB':30} {REFERENCE['first_month']:12.2f} "
        f"{REFERENCE['ongoing']:12.2f}"
    )
    return "\n".join(rows)


def restore_prices(prices: dict[str, Any]) -> RestorePrices:
    try:
        table = prices["s3_restore"]
        per_gb = {(c, t): table[c][t.value]["gb"] for c in ARCHIVE_CLASSES for t in Tier}
        per_1000 = {(c, t): table[c][t.value]["per_1000"] for c in ARCHIVE_CLASSES for t in Tier}
        return RestorePrices(
            per_gb=per_gb,
            per_1000_requests=per_1000,
            standard_gb_month=prices["s3"]["standard_gb_month"],
            transfer_out_gb=prices["data_transfer"]["out_to_internet_gb"],
            retrieval_gb={"GLACIER_IR": prices["s3"]["glacier_ir_retrieval_gb"]},
        )
    except KeyError as missing:
        raise UserError(f"the price file has no restore price {missing}") from None
