"""Feed flow benchmarks -> bench/results/feeds.json (`make bench`, or `python -m bench.feeds_bench`).

- objects_per_s / lines_per_s: 10,000 small feeds (10 lines, 10 distinct SKUs each) uploaded to the
  deployed feed bucket by 16 client threads; from the first upload until every report exists.
- noop_floor_objects_per_s: the same uploads through the same pipeline (a versioned bucket notifying
  an SQS queue with the same settings, the same event source mapping settings) to a consumer that
  acknowledges and does nothing: what the emulator itself allows on this machine. Same run.
- tuning_*: the processor's median objects/s over two interleaved rounds of 1,500 objects per setting of
  the mapping's MaximumConcurrency; the best one is used for the main run (the emulator caps BatchSize
  at 10 and does not wait for MaximumBatchingWindowInSeconds, so concurrency is the knob left).
- big_file_lines_per_s / big_file_rss_growth_mb: one 100 MB CSV; peak RSS of the instance process
  that processed it (found in /proc among the runtime's awslambdaric children) minus its RSS before.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from feed_processing.chunks import chunked
from feed_processing.events import ObjectVersion
from feed_processing.parsing import Restock
from feed_processing.stock import StockWriter

from bench.common import CpuMeter, sized, write
from harness import aws
from harness.paths import Paths
from harness.stack.lifecycle import running_stack
from harness.stack.servers import EmulatorAndRuntime
from testkit.fixture_functions import create_fixture_function
from testkit.policies import bucket_may_send
from testkit.polling import until

SMALL_OBJECTS = sized(10_000, 40)
TUNING_OBJECTS = sized(1_500, 20)
TUNING_ROUNDS = sized(2, 1)
LINES_PER_OBJECT = 10
UPLOADERS = 16
BIG_FILE_BYTES = sized(100, 2) * 1024 * 1024  # short: one block of the rows below (1.3 MB)
BIG_FILE_SKUS = 64
CONCURRENCY_CHOICES = (2, 4, 8)
CALL_COST_SAMPLES = sized(100, 3)


def small_feed(run: str, index: int) -> bytes:
    rows = "".join(f"B{run}-{index:05d}-{line},{line + 1},{100 + line}\n" for line in range(LINES_PER_OBJECT))
    return b"sku,quantity,priceCents\n" + rows.encode()


def big_feed(run: str) -> bytes:
    rows = [f"BIG{run}-{i:03d},{i % 9 + 1},{1000 + i}\n".encode() for i in range(BIG_FILE_SKUS)]
    block = b"".join(rows) * 1000
    body = bytearray(b"sku,quantity,priceCents\n")
    while len(body) + len(block) <= BIG_FILE_BYTES:
        body += block
    return bytes(body)


def upload_all(s3, bucket: str, prefix: str, count: int, run: str) -> None:
    def put(index: int) -> None:
        s3.put_object(Bucket=bucket, Key=f"incoming/{prefix}/{index:05d}.csv", Body=small_feed(run, index))

    with ThreadPoolExecutor(UPLOADERS) as pool:
        list(pool.map(put, range(count)))


def queue_empty(sqs, queue_url: str) -> bool:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"]
        == attributes["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )


def count_keys(s3, bucket: str, prefix: str) -> int:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sum(page.get("KeyCount", 0) for page in pages)


def drain_seconds(s3, sqs, bucket: str, queue_url: str, count: int, report_prefix: str | None) -> float:
    """Upload ``count`` small feeds; seconds until the queue is drained (and every report exists).

    Only the queue is polled while the feeds are processed: listing thousands of reports every poll
    would load the emulator during the processor's run and not during the floor's. A record is
    deleted from the queue only after its report was written, so the count is checked once drained.
    """
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    upload_all(s3, bucket, prefix, count, prefix[-6:].upper())

    def drained_s() -> float | None:
        if not queue_empty(sqs, queue_url):
            return None
        drained = time.monotonic() - started
        if report_prefix is None or count_keys(s3, bucket, f"{report_prefix}{prefix}/") >= count:
            return drained
        return None

    drained = until(drained_s, 900 - (time.monotonic() - started), interval_s=0.2)
    if drained is None:
        raise SystemExit(f"{count} objects not processed within 900 s")
    return drained


def noop_pipeline(endpoint_url: str, template_queue: dict, mapping: dict) -> tuple[str, str]:
    """A bucket -> queue -> no-op function pipeline with the deployed pipeline's settings."""
    s3, sqs, lambda_client = (aws.client(s, endpoint_url) for s in ("s3", "sqs", "lambda"))
    name = f"feed-noop-{uuid.uuid4().hex[:6]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    queue_url = sqs.create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": template_queue["VisibilityTimeout"]}
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # PutBucketNotificationConfiguration first sends the queue a test notification, which only the
    # queue's policy can allow (AWS S3 API reference); the template's feed queue has its own.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": bucket_may_send(queue_arn, name)})
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
                }
            ]
        },
    )
    create_fixture_function(lambda_client, "feed_noop", name, MemorySize=1024)
    lambda_client.create_event_source_mapping(
        FunctionName=name,
        EventSourceArn=queue_arn,
        BatchSize=mapping["BatchSize"],
        MaximumBatchingWindowInSeconds=mapping.get("MaximumBatchingWindowInSeconds", 0),
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig=mapping.get("ScalingConfig", {}),
    )
    return name, queue_url


def instance_rss_kb(function_name: str) -> dict[int, int]:
    """RSS of every running instance of ``function_name`` (awslambdaric processes), by PID."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"awslambdaric" not in (entry / "cmdline").read_bytes():
                continue
            if f"AWS_LAMBDA_FUNCTION_NAME={function_name}".encode() not in (entry / "environ").read_bytes():
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        found[int(entry.name)] = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
    return found


class InstanceMemory:
    """Samples instance RSS every 20 ms; growth = the largest rise of one PID over its first sample."""

    def __init__(self, function_name: str):
        self.function_name = function_name
        self.first: dict[int, int] = instance_rss_kb(function_name)
        self.peak: dict[int, int] = dict(self.first)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            for pid, kb in instance_rss_kb(self.function_name).items():
                self.first.setdefault(pid, kb)
                self.peak[pid] = max(self.peak.get(pid, 0), kb)

    def __enter__(self) -> InstanceMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def growth_mb(self) -> float:
        return max((self.peak[pid] - self.first[pid] for pid in self.peak), default=0) / 1024


def big_file(s3, bucket: str, function_name: str) -> dict:
    run = uuid.uuid4().hex[:6].upper()
    body = big_feed(run)
    lines = body.count(b"\n") - 1
    name = f"bench-big-{run}.csv"
    # A warm instance first, so the growth measured is the file's, not the imports'.
    s3.put_object(Bucket=bucket, Key=f"incoming/warm-{run}.csv", Body=small_feed(run, 0))
    wait_report(s3, bucket, f"reports/warm-{run}.csv.json", 60)
    with InstanceMemory(function_name) as memory:
        started = time.monotonic()
        s3.put_object(Bucket=bucket, Key=f"incoming/{name}", Body=body)
        report = wait_report(s3, bucket, f"reports/{name}.json", 900)
        seconds = time.monotonic() - started
    assert report["linesApplied"] == lines, report
    return {
        "big_file_mb": round(len(body) / 1024 / 1024, 1),
        "big_file_lines": lines,
        "big_file_seconds": round(seconds, 1),
        "big_file_lines_per_s": round(lines / seconds),
        "big_file_processor_ms": report["durationMs"],
        "big_file_rss_growth_mb": round(memory.growth_mb(), 1),
    }


def wait_report(s3, bucket: str, key: str, timeout_s: float) -> dict:
    def written() -> dict | None:
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    report = until(written, timeout_s)
    if report is None:
        raise SystemExit(f"no {key} after {timeout_s}s")
    return report


def cpu_figures(prefix: str, cpu: CpuMeter) -> dict[str, float]:
    """CPU ms per small object by part (emulator, runtime, instances, the uploading client threads)."""
    return {
        f"{prefix}cpu_ms_per_object_{part}": round(spent * 1000 / SMALL_OBJECTS, 2)
        for part, spent in cpu.spent.items()
    }


def emulator_call_costs(servers: EmulatorAndRuntime, s3, dynamodb, outputs: dict) -> dict[str, float]:
    """The emulator's CPU ms for each call the processor makes per small object, and for the
    transaction of a batch's 10 objects in one (10 ledger items + 90 updates: the most that fits)."""
    bucket, catalog, ledger = (
        outputs[name] for name in ("FeedBucketName", "CatalogTableName", "FeedLedgerTableName")
    )
    s3.put_object(Bucket=bucket, Key="bench-probe/feed.csv", Body=small_feed("PROBE", 0))
    report = json.dumps({"linesApplied": 10, "rejected": [], "padding": "x" * 400}).encode()

    writer = StockWriter(dynamodb, catalog, ledger)

    def transaction(objects: int, skus_per_object: int) -> None:
        """One TransactWriteItems applying ``objects`` one-chunk objects, as the processor builds it."""
        entries = []
        for index in range(objects):
            source = ObjectVersion(bucket, f"incoming/bench-probe/{uuid.uuid4().hex}.csv", "v1")
            skus = [f"BENCH-PROBE-{index}-{line}" for line in range(skus_per_object)]
            restocks = [Restock(line + 2, sku, 1, 100) for line, sku in enumerate(skus)]
            entries.append((source, next(chunked(restocks))))
        dynamodb.transact_write_items(TransactItems=writer.transaction_items(entries))

    calls = {
        "get_object": lambda: s3.get_object(Bucket=bucket, Key="bench-probe/feed.csv")["Body"].read(),
        "put_report": lambda: s3.put_object(Bucket=bucket, Key="bench-probe/report.json", Body=report),
        "transaction_1_object": lambda: transaction(1, LINES_PER_OBJECT),
        "transaction_10_objects": lambda: transaction(10, LINES_PER_OBJECT - 1),
    }
    costs = {}
    for name, call in calls.items():
        call()
        cpu = CpuMeter(servers)
        cpu.start()
        for _ in range(CALL_COST_SAMPLES):
            call()
        cpu.stop()
        costs[f"emulator_cpu_ms_{name}"] = round(cpu.spent["emulator"] * 1000 / CALL_COST_SAMPLES, 2)
    return costs


def tune_concurrency(
    s3, sqs, lambda_client, mapping_uuid: str, bucket: str, queue_url: str
) -> tuple[dict, int]:
    """objects/s per MaximumConcurrency, rounds interleaved so load from elsewhere hits every choice alike."""
    samples: dict[int, list[float]] = {choice: [] for choice in CONCURRENCY_CHOICES}
    for _ in range(TUNING_ROUNDS):
        for choice in CONCURRENCY_CHOICES:
            lambda_client.update_event_source_mapping(
                UUID=mapping_uuid, ScalingConfig={"MaximumConcurrency": choice}
            )
            seconds = drain_seconds(s3, sqs, bucket, queue_url, TUNING_OBJECTS, "reports/")
            samples[choice].append(TUNING_OBJECTS / seconds)
            print(f"MaximumConcurrency {choice}: {TUNING_OBJECTS / seconds:.0f} objects/s", flush=True)
    medians = {choice: statistics.median(rates) for choice, rates in samples.items()}
    figures = {f"tuning_concurrency_{choice}_objects_per_s": round(rate) for choice, rate in medians.items()}
    return figures, max(medians, key=medians.get)


def main() -> None:
    paths = Paths.discover()
    with running_stack(paths, "process", with_fixtures=True) as running:
        session = running.servers
        endpoint = running.endpoint_url
        outputs = running.deploy().outputs
        s3, sqs, lambda_client = (
            aws.client(s, endpoint, max_pool_connections=UPLOADERS) for s in ("s3", "sqs", "lambda")
        )
        bucket, queue_url = outputs["FeedBucketName"], outputs["FeedQueueUrl"]
        function_name = outputs["FeedProcessorFunctionName"]
        [mapping] = lambda_client.list_event_source_mappings(FunctionName=function_name)[
            "EventSourceMappings"
        ]
        queue_settings = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]

        tuning, chosen = tune_concurrency(s3, sqs, lambda_client, mapping["UUID"], bucket, queue_url)
        lambda_client.update_event_source_mapping(
            UUID=mapping["UUID"], ScalingConfig={"MaximumConcurrency": chosen}
        )

        noop_bucket, noop_queue = noop_pipeline(
            endpoint, queue_settings, {**mapping, "ScalingConfig": {"MaximumConcurrency": chosen}}
        )
        noop_cpu, cpu = CpuMeter(session), CpuMeter(session)
        noop_cpu.start()
        noop_seconds = drain_seconds(s3, sqs, noop_bucket, noop_queue, SMALL_OBJECTS, None)
        noop_cpu.stop()
        cpu.start()
        seconds = drain_seconds(s3, sqs, bucket, queue_url, SMALL_OBJECTS, "reports/")
        cpu.stop()
        big = big_file(s3, bucket, function_name)
        call_costs = emulator_call_costs(session, s3, aws.client("dynamodb", endpoint), outputs)
        load = os.getloadavg()[1]

    objects_per_s = SMALL_OBJECTS / seconds
    floor = SMALL_OBJECTS / noop_seconds
    write(
        "feeds",
        {
            "objects_per_s": round(objects_per_s),
            "lines_per_s": round(objects_per_s * LINES_PER_OBJECT),
            "noop_floor_objects_per_s": round(floor),
            "floor_ratio": round(floor / objects_per_s, 2),
            **cpu_figures("", cpu),
            **cpu_figures("noop_floor_", noop_cpu),
            "small_objects": SMALL_OBJECTS,
            "machine_load_average_5m": round(load, 1),
            **big,
            **call_costs,
            "batch_size": mapping["BatchSize"],
            "batching_window_s": mapping.get("MaximumBatchingWindowInSeconds", 0),
            "maximum_concurrency": chosen,
            "maximum_concurrency_in_template": mapping["ScalingConfig"]["MaximumConcurrency"],
            **tuning,
        },
        notes=(
            "Small objects: 10,000 CSV feeds of 10 lines (10 distinct SKUs) uploaded by 16 client threads "
            "on the same 2-core machine as the emulator, runtime and instances; timed from the first upload "
            "until the queue is drained and every report exists. The floor is a no-op consumer behind an "
            "identical bucket -> queue -> mapping, timed until its queue is drained. The emulator caps an "
            "SQS mapping's batch at 10 messages and does not wait for a batching window, so BatchSize 10 and "
            "window 0 are what it runs; MaximumConcurrency is the best median of the tuning_* runs "
            "(2 interleaved rounds of 1,500 objects), used for the main run. The big file cycles 64 SKUs "
            "(5,000-line chunks of 64 SKUs), so its figure measures "
            "streaming, validation and chunking rather than DynamoDB writes per line; RSS growth is the "
            "instance process's peak RSS minus its RSS when warm, sampled every 20 ms from /proc. "
            "cpu_ms_per_object_*: CPU per small object of the emulator (one process: its share is bound "
            "by one core whatever the machine has), the function runtime, the instances and this "
            "benchmark's uploading threads, for the processor run and (noop_floor_*) the floor run. "
            "emulator_cpu_ms_*: the emulator's CPU for one of each call the processor makes per object "
            "(100 sequential calls each), and for one transaction carrying 10 objects (9 SKUs each)."
        ),
    )


if __name__ == "__main__":
    main()
