"""The feed processor's handler in-process (feed_processing/app.py): an SQS batch of S3 notifications
in, the batch's item failures and the feed metrics out, over the in-memory bucket and stock writer."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from feed_processing.processor import FeedProcessor

from tests.unit.conftest import handler_module
from tests.unit.feeds.memory import THROTTLED, MemoryBucket, Stock
from tests.unit.feeds.test_events import notification

feeds = handler_module("FeedProcessorFunction")
FEED = b"sku,quantity,priceCents\nSKU-001,1,\nSKU-002,2,\nbad sku,1,\n"


def sqs_event(*keys: str) -> dict:
    records = [
        {
            "messageId": f"m{i}",
            "receiptHandle": f"h{i}",
            "body": notification(key),
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:FeedQueue",
            "awsRegion": "us-east-1",
        }
        for i, key in enumerate(keys)
    ]
    return {"Records": records}


def run(monkeypatch, capsys, lambda_context, stock: Stock, *keys: str) -> tuple[dict, dict]:
    """(the handler's answer, the metrics it published) for one batch of ``keys``."""
    bucket = MemoryBucket({key: FEED for key in keys if "gone" not in key})
    monkeypatch.setattr(feeds, "feed_processor", FeedProcessor(bucket, stock, ThreadPoolExecutor(2)))
    capsys.readouterr()
    answer = feeds.handler(sqs_event(*keys), lambda_context)
    emf = next(json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line)
    names = [metric["Name"] for metric in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return answer, {name: emf[name] for name in names}  # each metric's values of the invocation


def test_lines_applied_counts_only_the_lines_this_delivery_applied(monkeypatch, capsys, lambda_context):
    # f0 was applied by an earlier delivery (its ledger item exists), f1 is new.
    stock = Stock(ledger={("incoming/f0.csv", 0)})
    answer, metrics = run(monkeypatch, capsys, lambda_context, stock, "incoming/f0.csv", "incoming/f1.csv")
    assert answer == {"batchItemFailures": []}
    assert metrics == {
        "LinesApplied": [2.0],
        "LinesRejected": [2.0],
        "FilesProcessed": [2.0],
        "FilesQuarantined": [0.0],
        "RecordsFailed": [0.0],
    }


def test_a_record_whose_file_failed_is_the_only_item_failure(monkeypatch, capsys, lambda_context):
    stock = Stock(failing={"incoming/f1.csv"}, group_fails=THROTTLED)
    answer, metrics = run(monkeypatch, capsys, lambda_context, stock, "incoming/f0.csv", "incoming/f1.csv")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert (metrics["LinesApplied"], metrics["FilesProcessed"], metrics["RecordsFailed"]) == (
        [2.0],
        [1.0],
        [1.0],
    )
