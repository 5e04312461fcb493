"""SQS batches of S3 notifications -> the catalog restocked from each feed file, and a report per file.

The batch's files are processed together (processor.py: read concurrently, small
files applied several to a transaction); then Powertools' BatchProcessor settles each record from
its files' results: a record whose file failed transiently (throttling, timeouts) is reported in
``batchItemFailures`` alone and SQS redelivers it; an unparseable file was quarantined and its record
is acknowledged. Clients, settings and the thread pool are created once per instance.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from function_settings import load

from feed_processing.events import ObjectVersion, feed_objects
from feed_processing.processor import FeedProcessor, FileOutcome, Results
from feed_processing.stock import StockWriter
from feed_processing.storage import FeedBucket, FeedGone

# One worker per record of the largest batch (the event source's BatchSize).
MAX_PARALLEL_RECORDS = 10


@dataclass(frozen=True)
class Settings:
    catalog_table_name: str
    feed_ledger_table_name: str


settings = load(Settings)
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
        catalog_table=settings.catalog_table_name,
        ledger_table=settings.feed_ledger_table_name,
    ),
    ThreadPoolExecutor(MAX_PARALLEL_RECORDS, thread_name_prefix="feed"),
)
batch_processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)


def _sources(records: list[dict]) -> list[ObjectVersion]:
    """Every object version the batch's messages name (a message that is not a notification names
    none here and fails when its record is settled)."""
    found = []
    for record in records:
        try:
            found.extend(feed_objects(record["body"]))
        except ValueError:
            continue
    return found


def settle(record: SQSRecord, results: Results) -> list[FileOutcome]:
    """The record's files' outcomes; raises (the record is retried) when one of them failed."""
    outcomes = []
    for source in feed_objects(record.body):
        result = results[source]
        if isinstance(result, FeedGone):
            logger.warning("feed object deleted before processing", extra={"object": str(result)})
            continue
        if isinstance(result, Exception):
            raise result
        logger.info(
            "feed processed",
            extra={"key": source.key, "versionId": source.version_id, **result.__dict__},
        )
        outcomes.append(result)
    return outcomes


def _record_metrics(results: list[tuple]) -> None:
    outcomes = [outcome for status, result, _ in results if status == "success" for outcome in result]
    metrics.add_metric("LinesApplied", MetricUnit.Count, sum(o.lines_applied for o in outcomes))
    metrics.add_metric("LinesRejected", MetricUnit.Count, sum(o.lines_rejected for o in outcomes))
    metrics.add_metric("FilesProcessed", MetricUnit.Count, len(outcomes))
    metrics.add_metric("FilesQuarantined", MetricUnit.Count, sum(o.status == "quarantined" for o in outcomes))
    metrics.add_metric("RecordsFailed", MetricUnit.Count, sum(status == "fail" for status, *_ in results))


def _log_failures(results: list[tuple]) -> None:
    """Why a record goes back to the queue (Powertools settles it silently): a denied permission, a
    service down. Its message is redelivered, so each failure of it is logged again."""
    for status, failure, record in results:
        if status == "fail":
            logger.error(
                "record failed; SQS redelivers it",
                extra={"error": failure, "messageId": record.get("messageId")},
            )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    results = feed_processor.process(_sources(event["Records"]))
    with batch_processor(
        records=event["Records"], handler=lambda record: settle(record, results), lambda_context=context
    ):
        settled = batch_processor.process()
    _record_metrics(settled)
    _log_failures(settled)
    return batch_processor.response()
