"""AWS/SQS queue metrics, per ``QueueName``: gauges sampled once a local minute, counts from the
request path.

- ``ApproximateNumberOfMessagesVisible``, ``ApproximateNumberOfMessagesNotVisible`` (in flight) and
  ``ApproximateAgeOfOldestMessage`` (Seconds, of the oldest message not deleted, on the local clock:
  a message that waited 15 local seconds at scale 1/60 is 900 seconds old, so an age alarm keeps its
  proportions) are sampled by the emulator's clock at each whole local minute.
- ``NumberOfMessagesReceived`` counts what every receive hands out (ReceiveMessage and the Lambda event
  source mapping), ``NumberOfMessagesDeleted`` what DeleteMessage, DeleteMessageBatch and the mapping
  delete, and ``NumberOfMessagesSent`` each message the first time it is seen (received, or found by the
  sampler), whoever sent it (the API, S3, SNS or EventBridge). As on AWS, a message moved to a
  dead-letter queue after failed receives is not counted as sent there (it keeps its message id).
- As on AWS, a queue is reported while it is active: it holds messages or was used within the last six
  hours (of local-clock time, six minutes at scale 1/60), so idle queues stop adding datapoints.
"""

from __future__ import annotations

import collections
import threading

from harness.clock import LOCAL_MINUTE_S, aws_seconds, local_seconds
from harness.emulator import emulator_clock
from harness.emulator.services.service_metrics.store import put

NAMESPACE = "AWS/SQS"
ACTIVE_FOR_S = local_seconds(6 * 3600)

_lock = threading.Lock()
_counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)  # by QueueArn
_seen: set[str] = set()  # ids of messages already counted as sent
_last_active: dict[str, float] = {}


def install() -> None:
    from ministack.services import sqs

    collect = sqs._collect_msgs

    def counted_collect(q: dict, *args):
        received = collect(q, *args)
        _observe(q, received, "NumberOfMessagesReceived", len(received))
        return received

    sqs._collect_msgs = counted_collect
    for name, action in (
        ("_act_delete_message", "DeleteMessage"),
        ("_act_delete_message_batch", "DeleteMessageBatch"),
    ):
        counted = _counting_deletes(sqs, getattr(sqs, name), lambda data, qurl: data.get("QueueUrl", qurl))
        setattr(sqs, name, counted)
        sqs._HANDLERS[action] = counted
    sqs._delete_messages_for_esm = _counting_deletes(
        sqs, sqs._delete_messages_for_esm, lambda url, _handles: url
    )
    emulator_clock.on_tick(lambda now: sample(sqs, now), sampler=True)


def _counting_deletes(sqs, delete, queue_url_of):
    def counted(*args):
        try:
            q = sqs._get_q(queue_url_of(*args))
        except sqs._Err:
            return delete(*args)  # let upstream answer as it does
        before = len(q["messages"])
        result = delete(*args)
        _observe(q, [], "NumberOfMessagesDeleted", before - len(q["messages"]))
        return result

    return counted


def _observe(q: dict, messages: list[dict], metric: str, count: int) -> None:
    arn = q["attributes"]["QueueArn"]
    with _lock:
        fresh = [m["id"] for m in messages if m.get("id") and m["id"] not in _seen]
        _seen.update(fresh)
        _counts[arn]["NumberOfMessagesSent"] += len(fresh)
        _counts[arn][metric] += count


def sample(sqs, now: float) -> None:
    """Publish every active queue's gauges and counts of the local minute ending at ``now``."""
    stamp = now - LOCAL_MINUTE_S
    with sqs._queues_lock:
        queues = [(scope, q, list(q["messages"])) for (*scope, _url), q in sqs._queues.all_items()]
    present: set[str] = set()
    for (account_id, region), q, messages in queues:
        arn = q["attributes"]["QueueArn"]
        ids = {m["id"] for m in messages if m.get("id")}
        present |= ids
        with _lock:
            fresh = ids - _seen
            _seen.update(fresh)
            counts = _counts.pop(arn, collections.Counter())
        counts["NumberOfMessagesSent"] += len(fresh)
        if messages or any(counts.values()) or arn not in _last_active:
            _last_active[arn] = now
        if now - _last_active[arn] > ACTIVE_FOR_S:
            continue
        visible = sum(1 for m in messages if m["visible_at"] <= now)
        in_flight = sum(1 for m in messages if m["visible_at"] > now and m.get("receive_count"))
        oldest = min((m.get("enqueued_at", m["sent_at"]) for m in messages), default=now)
        dimensions = [{"QueueName": q["name"]}]
        with emulator_clock.scope(account_id, region):
            put(NAMESPACE, "ApproximateNumberOfMessagesVisible", dimensions, visible, "Count", stamp)
            put(NAMESPACE, "ApproximateNumberOfMessagesNotVisible", dimensions, in_flight, "Count", stamp)
            put(
                NAMESPACE,
                "ApproximateAgeOfOldestMessage",
                dimensions,
                aws_seconds(now - oldest),
                "Seconds",
                stamp,
            )
            for metric in ("NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted"):
                put(NAMESPACE, metric, dimensions, counts[metric], "Count", stamp)
    with _lock:
        _seen.intersection_update(present)  # gone messages cannot be seen again
