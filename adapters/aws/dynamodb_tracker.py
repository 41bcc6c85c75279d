"""DynamoDbSyncTracker: the sync-tracker port over one DynamoDB table.

Partition key `media_id` (R4.1); a `provider` attribute (R11.2); no TTL, records stay
(R4.4). Every write is conditional: a new record only where none exists, a change only
over the version (and status) that was read, and only along the domain's transition table.
A failed condition is a ConcurrentUpdateError, never an overwrite. A change is one PutItem;
new records go 100 to a TransactWriteItems (each Put with its condition), so discovery
records a page of new videos in one call. A transaction is all or nothing: when it is
cancelled because some records exist already, it is sent again without them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.errors import aws_call, translate
from adapters.aws.records import record_from_item, record_to_item
from domain.errors import ConcurrentUpdateError, StorageError, UnreadableRecordError
from domain.model import SyncRecord, TrackerScan, check_change
from domain.status import SyncStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH = 100
"""BatchGetItem takes at most 100 keys."""
TRANSACTION = 100
"""TransactWriteItems takes at most 100 actions (and 4 MB; a record is a few KB at most)."""
NEW = "attribute_not_exists(media_id)"


@dataclass(frozen=True)
class TrackerSettings:
    table: str
    unprocessed_attempts: int = 6
    """Tries of one batch while DynamoDB keeps returning UnprocessedKeys."""
    backoff: float = 0.1
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)


class DynamoDbSyncTracker:
    def __init__(self, client: DynamoDBClient, settings: TrackerSettings) -> None:
        self._db = client
        self._settings = settings
        self._to_db = TypeSerializer()
        self._from_db = TypeDeserializer()
        self._unreadable: dict[str, str] = {}

    def _encode(self, record: SyncRecord) -> dict[str, Any]:
        return {
            name: self._to_db.serialize(value) for name, value in record_to_item(record).items()
        }

    def _decode(self, item: Mapping[str, Any]) -> SyncRecord:
        return record_from_item({name: self._from_db.deserialize(v) for name, v in item.items()})

    def _readable(self, items: Iterable[Mapping[str, Any]]) -> Iterator[SyncRecord]:
        """The records among `items`; one that cannot be read is noted and passed over."""
        for item in items:
            try:
                yield self._decode(item)
            except UnreadableRecordError as error:
                self._unreadable[error.media_id] = error.reason

    def unreadable(self) -> Mapping[str, str]:
        return dict(self._unreadable)

    def get(self, media_id: str) -> SyncRecord | None:
        try:
            answer = self._db.get_item(
                TableName=self._settings.table,
                Key={"media_id": {"S": media_id}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageError(f"DynamoDB GetItem {media_id!r} failed: {error}") from None
        item = answer.get("Item")
        return None if item is None else self._decode(item)

    def get_many(self, media_ids: Sequence[str]) -> Mapping[str, SyncRecord]:
        found: dict[str, SyncRecord] = {}
        self._unreadable = {}
        unique = list(dict.fromkeys(media_ids))
        for start in range(0, len(unique), BATCH):
            for record in self._readable(self._batch(unique[start : start + BATCH])):
                found[record.media_id] = record
        return found

    def _batch(self, ids: list[str]) -> list[Mapping[str, Any]]:
        table = self._settings.table
        request: Any = {
            table: {"Keys": [{"media_id": {"S": i}} for i in ids], "ConsistentRead": True}
        }
        items: list[Mapping[str, Any]] = []
        for attempt in range(self._settings.unprocessed_attempts):
            try:
                answer = self._db.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as error:
                raise StorageError(f"DynamoDB BatchGetItem failed: {error}") from None
            items.extend(answer.get("Responses", {}).get(table, []))
            request = answer.get("UnprocessedKeys") or {}
            if not request.get(table, {}).get("Keys"):
                return items
            self._settings.sleep(self._settings.backoff * 2**attempt)
        left = len(request[table]["Keys"])
        raise StorageError(
            f"DynamoDB left {left} keys unprocessed after "
            f"{self._settings.unprocessed_attempts} tries; the table is throttled"
        )

    def _put(self, record: SyncRecord, condition: str, values: dict[str, Any]) -> None:
        names = {"#version": "version", "#status": "status"} if values else {}
        arguments: dict[str, Any] = {
            "TableName": self._settings.table,
            "Item": self._encode(record),
            "ConditionExpression": condition,
        }
        if values:
            arguments["ExpressionAttributeNames"] = names
            arguments["ExpressionAttributeValues"] = values
        try:
            self._db.put_item(**arguments)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConcurrentUpdateError(record.media_id, record.version - 1 or None) from None
            raise translate(error, "DynamoDB PutItem", record.media_id) from None
        except BotoCoreError as error:
            raise StorageError(f"DynamoDB PutItem {record.media_id!r} failed: {error}") from None

    def create(self, record: SyncRecord) -> None:
        if record.version != 1:
            raise StorageError(f"a new record starts at version 1, not {record.version}")
        self._put(record, NEW, {})

    def create_many(self, records: Sequence[SyncRecord]) -> set[str]:
        for record in records:
            if record.version != 1:
                raise StorageError(f"a new record starts at version 1, not {record.version}")
        taken: set[str] = set()
        for start in range(0, len(records), TRANSACTION):
            taken |= self._create_batch(list(records[start : start + TRANSACTION]))
        return taken

    def _create_batch(self, batch: list[SyncRecord]) -> set[str]:
        """One transaction of new records; sent again without those that exist already,
        and after a back-off when it clashed with another transaction."""
        taken: set[str] = set()
        for attempt in range(self._settings.unprocessed_attempts):
            if not batch:
                return taken
            puts: Any = [
                {"Put": {"TableName": self._settings.table, "Item": self._encode(record),
                         "ConditionExpression": NEW}}
                for record in batch
            ]  # fmt: skip
            try:
                self._db.transact_write_items(TransactItems=puts)
                return taken
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise translate(
                        error, "DynamoDB TransactWriteItems", self._settings.table
                    ) from None
                reasons = error.response.get("CancellationReasons", [])
                exist = {
                    record.media_id
                    for record, reason in zip(batch, reasons, strict=False)
                    if reason.get("Code") == "ConditionalCheckFailed"
                }
            except BotoCoreError as error:
                raise StorageError(f"DynamoDB TransactWriteItems failed: {error}") from None
            if exist:
                taken |= exist
                batch = [record for record in batch if record.media_id not in exist]
            else:  # a conflict with another transaction, or throttling: wait, then again
                self._settings.sleep(self._settings.backoff * 2**attempt)
        raise StorageError(
            f"DynamoDB cancelled the transaction of {len(batch)} new records "
            f"{self._settings.unprocessed_attempts} times"
        )

    def completed(self, provider: str) -> Iterator[SyncRecord]:
        """The provider's records are all read (a Scan is billed for every item it reads,
        filtered or not) and the COMPLETED ones kept here, so that a record of any status
        that cannot be read is found and noted (`unreadable`)."""
        pages = self._db.get_paginator("scan").paginate(
            TableName=self._settings.table,
            FilterExpression="#provider = :provider",
            ExpressionAttributeNames={"#provider": "provider"},
            ExpressionAttributeValues={":provider": {"S": provider}},
        )
        self._unreadable = {}
        try:
            for page in pages:
                for record in self._readable(page.get("Items", [])):
                    if record.status is SyncStatus.COMPLETED:
                        yield record
        except (ClientError, BotoCoreError) as error:
            raise StorageError(f"DynamoDB Scan failed: {error}") from None

    def replace(self, previous: SyncRecord, new: SyncRecord) -> None:
        check_change(previous, new)
        self._put(
            new,
            "#version = :version AND #status = :status",
            {
                ":version": {"N": str(previous.version)},
                ":status": {"S": previous.status.value},
            },
        )


class DynamoDbTrackerReader:
    """The tracker read whole, for the operator: one paginated Scan, every readable record
    and, apart, each record that cannot be read with why (never a stop for the rest)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table
        self._from_db = TypeDeserializer()

    def scan(self, provider: str | None = None) -> TrackerScan:
        found = TrackerScan()
        arguments: dict[str, Any] = {"TableName": self._table}
        if provider is not None:
            arguments |= {
                "FilterExpression": "#provider = :provider",
                "ExpressionAttributeNames": {"#provider": "provider"},
                "ExpressionAttributeValues": {":provider": {"S": provider}},
            }
        with aws_call("DynamoDB Scan", self._table):
            for page in self._db.get_paginator("scan").paginate(**arguments):
                found.pages += 1
                for item in page.get("Items", []):
                    values = {name: self._from_db.deserialize(v) for name, v in item.items()}
                    try:
                        found.records.append(record_from_item(values))
                    except UnreadableRecordError as error:
                        found.unreadable[error.media_id] = error.reason
        return found
