"""The feed flow end to end: real S3 uploads, real S3 -> SQS notifications, the real event source
mapping delivering batches to the processor's live alias; outcomes read from S3 and DynamoDB."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import pytest

from testkit.feed_pipeline import FeedPipeline, csv_feed, unique_token
from testkit.polling import wait_for


@pytest.fixture(scope="module")
def feeds(local_stack) -> FeedPipeline:
    return FeedPipeline(local_stack)


@pytest.fixture
def token() -> str:
    return unique_token()


def test_csv_and_json_lines_restock_exactly_and_are_reported(feeds, token):
    feeds.seed(f"{token}-OLD", available=10, price_cents=500)
    csv_version = feeds.upload(
        f"{token}.csv",
        csv_feed([(f"{token}-OLD", 5, 450), (f"{token}-NEW", 3, None), (f"{token}-OLD", 2, None)]),
    )
    jsonl = "\n".join(
        json.dumps(line)
        for line in [
            {"sku": f"{token}-NEW", "quantity": 4, "priceCents": 1299},
            {"sku": f"{token}-J", "quantity": 1},
        ]
    )
    jsonl_version = feeds.upload(f"{token}.jsonl", jsonl.encode())

    csv_report = feeds.report(f"{token}.csv", csv_version)
    jsonl_report = feeds.report(f"{token}.jsonl", jsonl_version)

    assert feeds.stock(f"{token}-OLD") == {"available": 17, "priceCents": 450}
    assert feeds.stock(f"{token}-NEW") == {"available": 7, "priceCents": 1299}
    assert feeds.stock(f"{token}-J") == {"available": 1, "priceCents": None}
    assert (csv_report["status"], csv_report["linesApplied"], csv_report["linesRejected"]) == (
        "applied",
        3,
        0,
    )
    assert (jsonl_report["format"], jsonl_report["linesApplied"]) == ("jsonl", 2)
    assert csv_report["durationMs"] >= 0 and csv_report["startedAt"] <= csv_report["finishedAt"]


def test_bad_lines_are_rejected_with_their_numbers_and_the_rest_applied(feeds, token):
    rows = [
        (f"{token}-A", 2, 100),
        ("bad sku!", 1, 1),
        (f"{token}-B", 0, 5),
        (f"{token}-C", 1, "9.99"),
        (f"{token}-A", 3, None),
    ]
    version = feeds.upload(f"{token}.csv", csv_feed(rows))
    report = feeds.report(f"{token}.csv", version)
    assert (report["linesApplied"], report["linesRejected"]) == (2, 3)
    assert [(r["line"], r["reason"].split()[0]) for r in report["rejected"]] == [
        (3, "sku"),
        (4, "quantity"),
        (5, "priceCents"),
    ]
    assert feeds.stock(f"{token}-A") == {"available": 5, "priceCents": 100}
    assert feeds.stock(f"{token}-B") is None and feeds.stock(f"{token}-C") is None


def test_garbage_is_quarantined_with_its_report_and_the_rest_of_its_batch_applied(feeds, token):
    garbage = {
        f"{token}-binary.csv": b"sku,quantity,priceCents\n\x00\x01\x02\xff\xfe binary",
        f"{token}-truncated.jsonl": b'{"sku": "'
        + token.encode()
        + b'-T", "quantity": 1}\n{"sku": "X", "quan',
        f"{token}-header.csv": b"item,count\nABC-1,1\n",
        # Past the parser's limits, each before the end of the file: refused at once, never retried.
        f"{token}-long-line.csv": b"sku,quantity,priceCents\nABC-1,1," + b"9" * 600_000 + b"\nABC-2,1,1\n",
        f"{token}-long-field.csv": b'sku,quantity,priceCents\n"' + b"A" * 140_000 + b'",1,1\nABC-2,1,1\n',
        f"{token}-nested.jsonl": b"[" * 20_000 + b"]" * 20_000 + b'\n{"sku": "ABC-2", "quantity": 1}\n',
    }
    with feeds.delivery_paused():
        versions = {name: feeds.upload(name, body) for name, body in garbage.items()}
        good = feeds.upload(f"{token}-good.csv", csv_feed([(f"{token}-G", 4, 10)]))

    assert feeds.report(f"{token}-good.csv", good)["status"] == "applied"
    assert feeds.stock(f"{token}-G") == {"available": 4, "priceCents": 10}
    for name, version in versions.items():
        report = feeds.report(name, version)
        assert report["status"] == "quarantined", name
        copy, beside = feeds.quarantined(name)
        assert copy == garbage[name]
        assert json.loads(beside)["reason"] == report["reason"]
    assert feeds.stock(f"{token}-T") is None, "nothing of an unparseable file is applied"
    wait_for(feeds.queue_settled, what="every message acknowledged")
    assert feeds.dead_letters_naming(token) == []


def test_the_deployed_processor_has_no_fault_injection(feeds):
    live = feeds.lambda_client.get_function_configuration(FunctionName=feeds.function, Qualifier="live")
    assert not [name for name in live["Environment"]["Variables"] if "FAULT_INJECTION" in name.upper()]


def test_a_file_named_like_a_quarantine_report_overwrites_no_report(feeds, token):
    """``x.csv.report.json`` used to be quarantined onto the key of ``x.csv``'s quarantine report."""
    names = {f"{token}.csv": b"not,a,feed\n", f"{token}.csv.report.json": b'{"status": "applied"}'}
    with feeds.delivery_paused():
        versions = {name: feeds.upload(name, body) for name, body in names.items()}
    for name, version in versions.items():
        report = feeds.report(name, version)
        copy, beside = feeds.quarantined(name)
        assert copy == names[name]
        assert json.loads(beside) == report, name


def test_events_outside_incoming_and_test_events_are_acknowledged(feeds, token):
    feeds.sqs.send_message(
        QueueUrl=feeds.queue_url, MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    )
    feeds.s3.put_object(
        Bucket=feeds.bucket, Key=f"reports/{token}.csv", Body=csv_feed([(f"{token}-X", 1, 1)])
    )
    feeds.notify(f"reports/{token}.csv", "null")  # as if another prefix were configured to notify
    wait_for(feeds.queue_settled, what="both messages acknowledged")
    assert feeds.dead_letters_naming(token) == []
    assert feeds.stock(f"{token}-X") is None


def test_a_reupload_is_a_new_version_and_is_applied_again(feeds, token):
    body = csv_feed([(f"{token}-R", 5, 300)])
    first = feeds.upload(f"{token}.csv", body)
    feeds.report(f"{token}.csv", first)
    second = feeds.upload(f"{token}.csv", body)
    assert second != first
    feeds.report(f"{token}.csv", second)
    assert feeds.stock(f"{token}-R") == {"available": 10, "priceCents": 300}


def many_skus(token: str, count: int) -> list[tuple]:
    """One line per SKU: ``count`` SKUs make ceil(count / 99) chunks."""
    return [(f"{token}-{i:04d}", i % 7 + 1, 100 + i) for i in range(count)]


def assert_applied_once(feeds, rows: list[tuple]) -> None:
    for sku, quantity, price in rows[:: max(1, len(rows) // 25)] + rows[-1:]:
        assert feeds.stock(sku) == {"available": quantity, "priceCents": price}, sku


def test_a_duplicate_delivery_changes_nothing(feeds, token):
    rows = many_skus(token, 150)
    version = feeds.upload(f"{token}.csv", csv_feed(rows))
    feeds.report(f"{token}.csv", version)
    feeds.redeliver(f"{token}.csv", version)
    wait_for(lambda: len(feeds.report_versions(f"{token}.csv")) == 2, what="the duplicate's report")
    duplicate = max(feeds.report_versions(f"{token}.csv"), key=lambda r: r["finishedAt"])
    assert (duplicate["chunks"], duplicate["chunksAlreadyApplied"]) == (2, 2)
    assert (duplicate["linesApplied"], duplicate["linesAppliedByThisDelivery"]) == (150, 0)
    assert_applied_once(feeds, rows)


def test_an_instance_killed_halfway_is_redelivered_and_applies_each_line_once(feeds, token):
    rows = many_skus(token, 4 * 99)
    # Long enough for the first delivery to reach its crash on a busy machine before the message is
    # handed to another: then only the crash redelivers it. Chunk 2 begins with SKU 198.
    with feeds.visibility_timeout(10), feeds.crash_at_write(f"{token}-0198", event_match=token) as crash:
        version = feeds.upload(f"{token}.csv", csv_feed(rows))
        crash()
        report = feeds.report(f"{token}.csv", version)
    # A delivery applied chunks 0 and 1 and died; the one that finished found exactly those in the ledger.
    applied = (report["chunksAlreadyApplied"], report["chunksAppliedByThisDelivery"])
    assert report["chunks"] == 4 and applied == (2, 2), report
    assert_applied_once(feeds, rows)


def test_concurrent_deliveries_of_one_message_apply_each_line_once(feeds, token):
    rows = many_skus(token, 6 * 99)
    # Three instances wait for the three deliveries, so each runs as soon as it is handed over; each
    # delivery lasts 1.8 s at least (six chunk writes held 0.3 s each), so they overlap even when a busy
    # machine hands them over a second apart (at 0.04 s, beside a CI run at load 15, they did not).
    feeds.warm(3)
    with feeds.slow_writes(token, seconds=0.3), feeds.batch_size(1):
        with feeds.delivery_paused():
            version = feeds.upload(f"{token}.csv", csv_feed(rows))
            feeds.redeliver(f"{token}.csv", version, copies=2)
        wait_for(lambda: len(feeds.report_versions(f"{token}.csv")) == 3, what="three deliveries' reports")
    reports = feeds.report_versions(f"{token}.csv")
    assert sum(r["chunksAppliedByThisDelivery"] for r in reports) == 6
    assert sum(r["linesAppliedByThisDelivery"] for r in reports) == len(rows)
    spans = sorted(
        (datetime.fromisoformat(r["startedAt"]), datetime.fromisoformat(r["finishedAt"])) for r in reports
    )
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)), "overlapping runs"
    assert_applied_once(feeds, rows)


def test_a_transient_failure_retries_only_its_record_then_dead_letters_it(feeds, token):
    # One batch holds the flaky record and two good ones; the function names only the flaky one in its
    # batchItemFailures, so only that one is received again, three times, then dead-lettered. Had the
    # whole batch failed, the good ones would have been received with it each time and dead-lettered
    # with it. A good record may be delivered twice (when the batch outlives the visibility timeout on a
    # busy machine, as on AWS): it is applied once all the same. A warm instance waits for the batch.
    feeds.warm(1)
    with feeds.visibility_timeout(10), feeds.failing_reads(f"{token}-flaky"):
        with feeds.delivery_paused():
            flaky = feeds.upload(f"{token}-flaky.csv", csv_feed([(f"{token}-F", 1, 1)]))
            good = [
                feeds.upload(f"{token}-ok{i}.csv", csv_feed([(f"{token}-OK{i}", 2, 20)])) for i in range(2)
            ]
        # Once only the flaky record is left (in flight for 10 s from its first receive), its next
        # receives come 2 s apart: a message is hidden for the queue's visibility timeout at each receive.
        wait_for(lambda: feeds.messages_queued() == 1, what="the good records acknowledged")
        with feeds.visibility_timeout(2):
            dead = wait_for(
                lambda: feeds.dead_letters_naming(f"{token}-flaky"), timeout_s=90, what="the DLQ message"
            )
        # Asked while its reads still fail: a delivery of it may outlast the 2 s, its read still being
        # retried by the SDK now, and that read would pass once the failures end.
        assert feeds.stock(f"{token}-F") is None
    assert flaky in dead[0]["Body"]
    assert int(dead[0]["Attributes"]["ApproximateReceiveCount"]) >= 3
    # This case's dead letters, looked at once more (their receipt handles are the latest now).
    dead = feeds.dead_letters_naming(token)
    assert [flaky in message["Body"] for message in dead] == [True], "the good ones were not retried with it"
    for i, version in enumerate(good):
        feeds.report(f"{token}-ok{i}.csv", version)
        reports = feeds.report_versions(f"{token}-ok{i}.csv")
        assert sum(r["chunksAppliedByThisDelivery"] for r in reports) == 1, reports
        assert feeds.stock(f"{token}-OK{i}") == {"available": 2, "priceCents": 20}
    feeds.delete_dead_letters(dead)


def test_a_number_too_long_to_convert_rejects_its_line_with_a_report(feeds, token):
    """5,000 zeros and a digit passed the digit guard, then int() raised (Python's 4,300-digit limit):
    the file was retried into the DLQ with no report (issue 24, item 8)."""
    rows = [
        (f"{token}-Q", "0" * 5000 + "1", 100),
        (f"{token}-P", 1, "0" * 5000 + "1"),
        (f"{token}-OK", 2, 20),
    ]
    version = feeds.upload(f"{token}.csv", csv_feed(rows))
    report = feeds.report(f"{token}.csv", version)
    assert (report["linesApplied"], report["linesRejected"]) == (1, 2)
    assert [(r["line"], r["reason"].split()[0]) for r in report["rejected"]] == [
        (2, "quantity"),
        (3, "priceCents"),
    ]
    assert feeds.stock(f"{token}-OK") == {"available": 2, "priceCents": 20}
    assert feeds.stock(f"{token}-Q") is None and feeds.stock(f"{token}-P") is None
    assert feeds.dead_letters_naming(token) == []
