"""The sandbox's TransactWriteItems (sandbox.moto_dynamodb) answers as moto's own does:
the same error, cancellation reasons and table afterwards, for every shape of transaction
the shim takes and for those it hands on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from sandbox import moto_dynamodb

TABLE = "shim-test"
NEW = "attribute_not_exists(media_id)"


def put(media_id: str, condition: str | None = NEW, **extra: str) -> dict[str, Any]:
    item = {"media_id": {"S": media_id}, **{k: {"S": v} for k, v in extra.items()}}
    op: dict[str, Any] = {"TableName": TABLE, "Item": item}
    if condition is not None:
        op["ConditionExpression"] = condition
    return {"Put": op}


CASES: dict[str, list[dict[str, Any]]] = {
    "all new": [put("a"), put("b"), put("c")],
    "one exists": [put("a"), put("kept"), put("c")],
    "same key twice": [put("a"), put("a")],
    "no condition": [put("a", None), put("b", None)],
    "a condition that fails on a new item": [put("a", "attribute_exists(media_id)")],
    "an update": [
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"media_id": {"S": "kept"}},
                "UpdateExpression": "SET note = :n",
                "ExpressionAttributeValues": {":n": {"S": "updated"}},
            }
        },
        put("b"),
    ],
    "too many": [put(f"m{n}") for n in range(101)],
    "a write that fails after another": [put("a"), put("b", big="x" * 410_000)],
}


def answer(
    implementation: Callable[..., None], items: list[dict[str, Any]]
) -> tuple[Any, list[Any]]:
    """(the error code and reasons, or None; the table's items after) for one run."""
    previous = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = implementation  # type: ignore[method-assign]
    try:
        with mock_aws():
            db = boto3.client("dynamodb", region_name="eu-central-1")
            db.create_table(
                TableName=TABLE,
                KeySchema=[{"AttributeName": "media_id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "media_id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            db.put_item(TableName=TABLE, Item={"media_id": {"S": "kept"}, "note": {"S": "old"}})
            try:
                db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
                outcome: Any = None
            except ClientError as error:
                outcome = (
                    error.response["Error"]["Code"],
                    error.response.get("CancellationReasons"),
                )
            rows = db.scan(TableName=TABLE)["Items"]
            return outcome, sorted(rows, key=lambda row: row["media_id"]["S"])
    finally:
        DynamoDBBackend.transact_write_items = previous  # type: ignore[method-assign]


@pytest.mark.parametrize("case", CASES)
def test_the_shim_answers_as_moto_does(case: str) -> None:
    moto_dynamodb.check_moto()
    ours = answer(moto_dynamodb.transact_write_items, CASES[case])
    theirs = answer(moto_dynamodb._ORIGINAL, CASES[case])
    assert ours == theirs
    if case == "a write that fails after another":
        assert ours[0][0] == "ValidationException"
        assert [row["media_id"]["S"] for row in ours[1]] == ["kept"]  # "a" is undone
    if case == "all new":
        assert [row["media_id"]["S"] for row in ours[1]] == ["a", "b", "c", "kept"]
    if case == "one exists":
        assert ours[0][0] == "TransactionCanceledException"
        assert [reason["Code"] for reason in ours[0][1]] == [
            "None",
            "ConditionalCheckFailed",
            "None",
        ]
        assert [row["media_id"]["S"] for row in ours[1]] == ["kept"]
