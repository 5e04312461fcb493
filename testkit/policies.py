"""Resource policies the tests attach, as AWS needs them (IAM is enforced on the local stack)."""

from __future__ import annotations

import json


def topic_may_send(queue_arn: str, topic_arn: str) -> str:
    """A queue policy letting only ``topic_arn`` deliver to the queue (an SNS subscription needs it)."""
    return _service_may_send(queue_arn, "sns.amazonaws.com", topic_arn)


def bucket_may_send(queue_arn: str, bucket: str) -> str:
    """A queue policy letting only ``bucket``'s event notifications deliver to the queue."""
    return _service_may_send(queue_arn, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")


def _service_may_send(queue_arn: str, service: str, source_arn: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
