"""SnsNotifier: alerts to the SNS topic that reaches a person (R3.6, R2.5)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adapters.aws.errors import aws_call

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SUBJECT_LIMIT = 99
_NOT_SUBJECT = re.compile(r"[^\x20-\x7e]")


def sns_subject(text: str) -> str:
    """SNS subjects must be printable ASCII, one line, under 100 characters."""
    return _NOT_SUBJECT.sub("?", text)[:SUBJECT_LIMIT] or "cloud-sync alert"


class SnsNotifier:
    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._sns = client
        self._topic = topic_arn

    def alert(self, subject: str, message: str) -> None:
        with aws_call(f"SNS Publish of the alert {subject!r} to", self._topic):
            self._sns.publish(TopicArn=self._topic, Subject=sns_subject(subject), Message=message)
