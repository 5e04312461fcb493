"""--feed's events are what the feed processor takes from its queue; the picture is a real image."""

from __future__ import annotations

import json

from feed_processing.events import ObjectVersion, feed_objects

from harness.tune.feed import FeedEvents
from harness.tune.picture import draw
from harness.tune.results import Invoked, SizeResult


def test_a_feed_event_is_an_sqs_batch_whose_body_the_processor_reads_as_that_object_version(tmp_path):
    feed = tmp_path / "spring sale.csv"
    feed.write_text("sku,quantity,priceCents\nAB-1,1,\n")
    events = FeedEvents(None, "feeds", "arn:aws:sqs:us-east-1:000000000000:FeedQueue", feed)
    key = "incoming/tune-1/00001-spring sale.csv"
    [record] = events.sqs_event(key, "v7", "etag")["Records"]
    assert (record["eventSource"], record["eventSourceARN"]) == (
        "aws:sqs",
        "arn:aws:sqs:us-east-1:000000000000:FeedQueue",
    )
    assert feed_objects(record["body"]) == [ObjectVersion("feeds", key, "v7")]
    assert json.loads(record["body"])["Records"][0]["s3"]["object"]["size"] == feed.stat().st_size


def test_the_picture_is_drawn_for_png_and_svg(tmp_path):
    results = [
        SizeResult(size, Invoked(3 * ms, 3 * int(ms), 50, init_ms=300.0), (Invoked(ms, int(ms) + 1, 50),) * 3)
        for size, ms in ((128, 40.0), (512, 12.0))
    ]
    draw(results, "probe", tmp_path / "tune.png")
    draw(results, "probe", tmp_path / "tune.svg")
    assert (tmp_path / "tune.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "tune.svg").read_bytes()[:500]
