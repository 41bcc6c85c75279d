"""S3RunManifest: a run's list of media ids to sync, kept in the archive bucket.

The list grows with the library (100,000 ids are about 2.6 MB), far past Step Functions'
256 KiB state limit, so the workflow carries only its location: the Distributed Map reads
it with an ItemReader. Each lister invocation writes one part
(`runs/{run}/part-00000.json`, …); the last joins them into `runs/{run}/to-sync.json`, a
JSON array of strings, each id once. Objects are encrypted with the archive key and kept in
STANDARD under `runs/`, which the archive lifecycle does not touch; a rule of their own
expires them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from adapters.aws.s3_files import get_file, put_file
from domain.errors import StorageError
from domain.keys import RUNS_PREFIX
from domain.model import ManifestLocation

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LIST_NAME = "to-sync.json"


class S3RunManifest:
    """The run-manifest port over the archive bucket's `runs/` prefix."""

    def __init__(self, client: S3Client, bucket: str, kms_key_id: str) -> None:
        self._s3 = client
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def _key(self, run: str, name: str) -> str:
        # An execution name may hold characters a key should not; quoted, any name is safe.
        return f"{RUNS_PREFIX}{quote(run, safe='-_.')}/{name}"

    def _put(self, key: str, media_ids: Sequence[str]) -> None:
        body = json.dumps(list(media_ids), separators=(",", ":")).encode()
        put_file(
            self._s3, self._bucket, key, body,
            kms_key_id=self._kms_key_id, content_type="application/json",
        )  # fmt: skip

    def _get(self, key: str) -> list[str]:
        body = get_file(self._s3, self._bucket, key)
        try:
            ids = json.loads(body)
        except ValueError:
            raise StorageError(f"{key!r} is not JSON") from None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise StorageError(f"{key!r} is not a JSON list of media ids")
        return ids

    def _part(self, run: str, part: int) -> str:
        return self._key(run, f"part-{part:05d}.json")

    def add(self, run: str, part: int, media_ids: Sequence[str]) -> None:
        self._put(self._part(run, part), media_ids)

    def seal(self, run: str, parts: int) -> ManifestLocation:
        joined: dict[str, None] = {}
        for part in range(parts):
            joined.update(dict.fromkeys(self._get(self._part(run, part))))
        key = self._key(run, LIST_NAME)
        self._put(key, list(joined))
        return ManifestLocation(self._bucket, key, len(joined))

    def read(self, location: ManifestLocation) -> list[str]:
        if location.bucket != self._bucket or not location.key.startswith(RUNS_PREFIX):
            raise StorageError(
                f"s3://{location.bucket}/{location.key} is not a run list of this archive "
                f"(s3://{self._bucket}/{RUNS_PREFIX}…)"
            )
        return self._get(location.key)
