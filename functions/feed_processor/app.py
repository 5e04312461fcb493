"""SQS batches of S3 notifications -> the catalog restocked from each feed file, and a report per file.

Records of a batch run concurrently; a record whose file fails transiently (throttling, timeouts)
is reported in ``batchItemFailures`` alone and SQS redelivers it; an unparseable file is quarantined
and acknowledged. Clients and settings are created once per instance.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.config import Config
from feed_processing.events import feed_objects
from feed_processing.faults import Faults
from feed_processing.processor import FeedProcessor, FileOutcome
from feed_processing.stock import StockWriter
from feed_processing.storage import FeedBucket, FeedGone

# One worker per record of the largest batch (the event source's BatchSize).
MAX_PARALLEL_RECORDS = 10

logger = Logger()
tracer = Tracer()
metrics = Metrics()

_client_config = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=3,
    read_timeout=20,
    max_pool_connections=2 * MAX_PARALLEL_RECORDS,
)
feed_processor = FeedProcessor(
    FeedBucket(boto3.client("s3", config=_client_config)),
    StockWriter(
        boto3.client("dynamodb", config=_client_config),
        catalog_table=os.environ["CATALOG_TABLE_NAME"],
        ledger_table=os.environ["FEED_LEDGER_TABLE_NAME"],
    ),
    Faults.from_environment(),
)


class ConcurrentBatchProcessor(BatchProcessor):
    """Powertools' SQS BatchProcessor with the records of a batch processed on threads (I/O bound)."""

    def __init__(self, workers: int):
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="record")

    def process(self) -> list[tuple]:
        return list(self._executor.map(self._process_record, self.records))


batch_processor = ConcurrentBatchProcessor(MAX_PARALLEL_RECORDS)


def process_message(record: SQSRecord) -> list[FileOutcome]:
    outcomes = []
    for source in feed_objects(record.body):
        try:
            outcome = feed_processor.process(source)
        except FeedGone as gone:
            logger.warning("feed object deleted before processing", extra={"object": str(gone)})
            continue
        logger.info(
            "feed processed",
            extra={"key": source.key, "versionId": source.version_id, **outcome.__dict__},
        )
        outcomes.append(outcome)
    return outcomes


def _record_metrics(results: list[tuple]) -> None:
    outcomes = [outcome for status, result, _ in results if status == "success" for outcome in result]
    metrics.add_metric("LinesApplied", MetricUnit.Count, sum(o.lines_applied for o in outcomes))
    metrics.add_metric("LinesRejected", MetricUnit.Count, sum(o.lines_rejected for o in outcomes))
    metrics.add_metric("FilesProcessed", MetricUnit.Count, len(outcomes))
    metrics.add_metric("FilesQuarantined", MetricUnit.Count, sum(o.status == "quarantined" for o in outcomes))
    metrics.add_metric("RecordsFailed", MetricUnit.Count, sum(status == "fail" for status, *_ in results))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    with batch_processor(records=event["Records"], handler=process_message, lambda_context=context):
        results = batch_processor.process()
    _record_metrics(results)
    return batch_processor.response()
