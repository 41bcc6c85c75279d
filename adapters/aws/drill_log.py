"""S3DrillLog: the restore drill's state between nights, `catalog/drill-{provider}.json` in
the archive bucket (one PutObject replaces it whole; STANDARD, the archive key). A file
that cannot be read as one is a StorageError naming it: the drill is never guessed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.aws.s3_files import find_file, put_file
from domain.drill import Drill, DrillResult, DrillState
from domain.errors import StorageError
from domain.keys import CATALOG_PREFIX
from domain.model import Checksum

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def drill_key(provider: str) -> str:
    return f"{CATALOG_PREFIX}drill-{provider}.json"


def _drill(d: Drill) -> dict[str, Any]:
    return {
        "media_id": d.media_id, "key": d.key, "size_bytes": d.size_bytes,
        "checksum": None if d.checksum is None else [d.checksum.algorithm, d.checksum.value],
        "storage_class": d.storage_class, "requested_at": d.requested_at.isoformat(),
        "cost_usd": d.cost_usd,
    }  # fmt: skip


def _from_drill(v: dict[str, Any]) -> Drill:
    checksum = v.get("checksum")
    return Drill(
        str(v["media_id"]), str(v["key"]), int(v["size_bytes"]),
        Checksum(str(checksum[0]), str(checksum[1])) if checksum else None,
        str(v["storage_class"]), datetime.fromisoformat(v["requested_at"]), float(v["cost_usd"]),
    )  # fmt: skip


def to_json(state: DrillState) -> str:
    last = state.last
    return json.dumps(
        {
            "current": None if state.current is None else _drill(state.current),
            "last": None
            if last is None
            else {"drill": _drill(last.drill), "finished_at": last.finished_at.isoformat(),
                  "passed": last.passed, "reason": last.reason},
        },
        indent=2,
    )  # fmt: skip


def from_json(text: str) -> DrillState:
    document = json.loads(text)
    current, last = document.get("current"), document.get("last")
    return DrillState(
        current=None if current is None else _from_drill(current),
        last=None
        if last is None
        else DrillResult(
            _from_drill(last["drill"]), datetime.fromisoformat(last["finished_at"]),
            bool(last["passed"]), str(last["reason"]),
        ),
    )  # fmt: skip


class S3DrillReader:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def load(self, provider: str) -> DrillState:
        body = find_file(self._s3, self._bucket, drill_key(provider))
        if body is None:
            return DrillState()
        try:
            return from_json(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError):
            raise StorageError(
                f"s3://{self._bucket}/{drill_key(provider)} is not a restore drill's record; "
                "the bucket's versioning keeps the earlier one"
            ) from None


class S3DrillLog(S3DrillReader):
    def __init__(self, client: S3Client, bucket: str, kms_key_id: str) -> None:
        super().__init__(client, bucket)
        self._kms_key_id = kms_key_id

    def save(self, provider: str, state: DrillState) -> None:
        put_file(
            self._s3, self._bucket, drill_key(provider), to_json(state).encode(),
            kms_key_id=self._kms_key_id, content_type="application/json",
        )  # fmt: skip
