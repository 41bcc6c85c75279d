"""Rules AWS enforces and moto does not, applied to what the program declares.

Each rule is the stricter reading of its source:

- S3 lifecycle transitions (Amazon S3 User Guide, "Transitioning objects using Amazon S3
  Lifecycle", and PutBucketLifecycleConfiguration's InvalidArgument errors, e.g. "Days in
  the Transition action for StorageClass DEEP_ARCHIVE must be 90 days more than Transition
  for StorageClass GLACIER_IR"): classes only go down the waterfall, on strictly later
  days; STANDARD_IA and ONEZONE_IA no earlier than day 30 and kept 30 days; GLACIER_IR and
  GLACIER kept 90 days before a later transition. The same for noncurrent versions.
- Step Functions definitions are linted with statelint, which predates some of the
  Distributed Map's fields: `ItemReader.ReaderConfig.InputType` (CSV, JSON, JSONL, PARQUET,
  MANIFEST in the Step Functions guide, "ItemReader (Map)") is the one it refuses, and only
  that message is set aside.
- Step Functions: a state's input or output is at most 256 KiB (262,144 bytes) of UTF-8
  (Step Functions quotas, "Maximum input or output size for a task, state, or execution");
  going over is States.DataLimitExceeded, which no Catch can handle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

from statelint.linter import Linter

WATERFALL = (
    "STANDARD",
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
FIRST_DAY = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
KEPT_BEFORE_NEXT = {"STANDARD_IA": 30, "ONEZONE_IA": 30, "GLACIER_IR": 90, "GLACIER": 90}
STATE_PAYLOAD_LIMIT = 256 * 1024


def _field(entry: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` present: the program's args are snake_case, its recorded inputs
    camelCase, S3's API PascalCase."""
    for name in names:
        if name in entry:
            return entry[name]
    return None


def _transition_violations(
    rule_id: str, transitions: Sequence[Mapping[str, Any]], days_names: tuple[str, ...]
) -> list[str]:
    found: list[str] = []
    steps = sorted(
        (
            int(_field(t, *days_names)),
            str(_field(t, "storageClass", "StorageClass", "storage_class")),
        )
        for t in transitions
    )
    classes = [storage_class for _, storage_class in steps]
    kind = "noncurrent " if "NoncurrentDays" in days_names else ""
    if len(set(classes)) != len(classes):
        found.append(f"{rule_id}: {kind}transitions name a storage class twice: {classes}")
    for days, storage_class in steps:
        if storage_class not in WATERFALL:
            found.append(f"{rule_id}: unknown storage class {storage_class}")
        if days < FIRST_DAY.get(storage_class, 0):
            found.append(
                f"{rule_id}: {kind}transition to {storage_class} on day {days}; S3 needs at "
                f"least {FIRST_DAY.get(storage_class, 0)}"
            )
    for (before_days, before), (after_days, after) in pairwise(steps):
        if before in WATERFALL and after in WATERFALL:
            if WATERFALL.index(after) <= WATERFALL.index(before):
                found.append(f"{rule_id}: {kind}{before} then {after} goes up the waterfall")
            gap = max(1, KEPT_BEFORE_NEXT.get(before, 1))
            if after_days - before_days < gap:
                found.append(
                    f"{rule_id}: {kind}{after} on day {after_days} must be {gap} days more "
                    f"than {before} on day {before_days}"
                )
    return found


def lifecycle_violations(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why S3 would refuse these lifecycle rules (empty: it accepts them)."""
    found: list[str] = []
    ids = [str(_field(rule, "id", "ID")) for rule in rules]
    if len(set(ids)) != len(ids):
        found.append(f"rule ids repeat: {ids}")
    for rule_id, rule in zip(ids, rules, strict=True):
        if len(rule_id) > 255:
            found.append(f"{rule_id[:20]}…: an id is at most 255 characters")
        if _field(rule, "filter", "Filter") is None:
            found.append(f"{rule_id}: a rule needs a filter")
        found += _transition_violations(
            rule_id, _field(rule, "transitions", "Transitions") or [], ("days", "Days")
        )
        found += _transition_violations(
            rule_id,
            _field(
                rule,
                "noncurrentVersionTransitions",
                "NoncurrentVersionTransitions",
                "noncurrent_version_transitions",
            )
            or [],
            ("noncurrentDays", "NoncurrentDays", "noncurrent_days"),
        )
    return found


STATELINT_PREDATES = frozenset(
    {'Field "InputType" not allowed in State Machine.States.DownloadVideos.ItemReader.ReaderConfig'}
)


def statelint(definition: Mapping[str, Any]) -> list[str]:
    """statelint's complaints about `definition`, less the fields it does not know yet."""
    return [m for m in Linter.validate(definition) if m not in STATELINT_PREDATES]
