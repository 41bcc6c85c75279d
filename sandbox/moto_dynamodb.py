"""moto's TransactWriteItems at the cost DynamoDB's has: a shim for the emulated AWS.

moto backs a transaction up by deep-copying each table it touches, once per action in it:
one tracker transaction of 100 new records over a 10,000-record table copies a million
items, and a 100,000-video library would take hours to discover. DynamoDB's cost is per
item written, whatever the table holds.

`install()` replaces `DynamoDBBackend.transact_write_items` with one that takes a
transaction of Puts of new items (what the tracker sends: each Put conditional on
`attribute_not_exists`) the cheap way, and hands every other transaction to moto's own:
it checks every action's condition against the table before writing any, answers
TransactionCanceledException with one reason per action (as moto and DynamoDB do) when
one fails, and otherwise writes them all; should a write fail, the ones already written,
which did not exist before, are deleted again. The answers are moto's own; only the
backup changes. Checked against the moto version it was written for, as
sandbox.lambda_dispatch is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import moto
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend

from sandbox.lambda_dispatch import TESTED_MOTO, MotoChangedError

EXPECTED_PARAMETERS = ["self", "transact_items"]
_ORIGINAL: Callable[..., None] = DynamoDBBackend.transact_write_items


def _new_item_puts(backend: DynamoDBBackend, items: list[dict[str, Any]]) -> list[Any] | None:
    """(table name, key, op) of each action when every one is a Put of an item the table
    does not hold yet, else None (moto's own implementation takes the transaction)."""
    planned = []
    for entry in items:
        if list(entry) != ["Put"]:
            return None
        op = entry["Put"]
        table = backend.get_table(op["TableName"])
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        if backend.get_item(op["TableName"], key) is not None:
            return None
        planned.append((op["TableName"], key, op))
    return planned


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    planned = _new_item_puts(self, transact_items)
    if planned is None:
        _ORIGINAL(self, transact_items)
        return
    seen = {(table, str(sorted(key.items()))) for table, key, _ in planned}
    if len(seen) != len(planned):
        raise MultipleTransactionsException()
    errors: list[tuple[str, str, None] | tuple[None, None, None]] = []
    for _, _, op in planned:
        condition = op.get("ConditionExpression")
        holds = condition is None or get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(None)
        errors.append(
            (None, None, None)
            if holds
            else ("ConditionalCheckFailed", "The conditional request failed", None)
        )
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    written: list[tuple[str, dict[str, Any]]] = []
    try:
        for table, key, op in planned:
            self.put_item(table, op["Item"])
            written.append((table, key))
    except BaseException:
        for table, key in written:  # none of them existed before: the table is as it was
            self.delete_item(table, key)
        raise


def check_moto() -> None:
    parameters = list(inspect.signature(_ORIGINAL).parameters)
    if moto.__version__ != TESTED_MOTO or parameters != EXPECTED_PARAMETERS:
        raise MotoChangedError(
            f"sandbox.moto_dynamodb was written for moto {TESTED_MOTO} whose "
            f"DynamoDBBackend.transact_write_items takes {EXPECTED_PARAMETERS}; found moto "
            f"{moto.__version__} taking {parameters}. Check the shim against the new moto."
        )


def install() -> None:
    """Replace moto's TransactWriteItems in this process (idempotent)."""
    check_moto()
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
