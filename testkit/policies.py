"""Resource policies the tests attach, as AWS needs them (IAM is enforced on the local stack)."""

from __future__ import annotations

import json


def topic_may_send(queue_arn: str, topic_arn: str) -> str:
    """A queue policy letting only ``topic_arn`` deliver to the queue (an SNS subscription needs it)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
