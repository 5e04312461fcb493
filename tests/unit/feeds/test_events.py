import json

import pytest
from feed_processing.events import ObjectVersion, feed_objects


def notification(key: str, event: str = "ObjectCreated:Put", version: str = "v1") -> str:
    record = {
        "eventName": event,
        "s3": {"bucket": {"name": "b"}, "object": {"key": key, "versionId": version}},
    }
    return json.dumps({"Records": [record]})


def test_keys_arrive_url_encoded_and_are_decoded():
    [found] = feed_objects(notification("incoming/spring+stock%2B2026.csv"))
    assert found == ObjectVersion("b", "incoming/spring stock+2026.csv", "v1")
    assert found.name == "spring stock+2026.csv"
    assert found.ledger_id == "b/incoming/spring stock+2026.csv#v1"


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}),
        notification("reports/a.csv.json"),
        notification("incoming/a.csv", event="ObjectRemoved:Delete"),
    ],
)
def test_test_events_other_prefixes_and_other_events_are_ignored(body):
    assert feed_objects(body) == []


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"hello": 1}),
        "not json",
        json.dumps("a string"),
        json.dumps([1]),
        json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}),
        json.dumps({"Records": 5}),
    ],
)
def test_a_body_that_is_no_notification_is_a_value_error(body):
    with pytest.raises(ValueError):
        feed_objects(body)
