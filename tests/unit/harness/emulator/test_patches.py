import pytest

from harness.emulator import patches
from harness.emulator.patches.filter_log_events_pages import page_of
from harness.emulator.patches.loopback_hosts import allowed_host
from harness.emulator.patches.sfn_sns_attributes import query_form_attributes
from harness.emulator.patches.weighted_aliases import pick_version
from harness.emulator.services.xray.sampling import DefaultSamplingRule


def test_pick_version_follows_the_weights():
    alias = {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}}}
    assert [pick_version(alias, draw) for draw in (0.0, 0.0999, 0.1, 0.5, 0.9999)] == [
        "2",
        "2",
        "1",
        "1",
        "1",
    ]


def test_pick_version_without_routing_is_the_primary():
    assert pick_version({"FunctionVersion": "3"}, 0.0) == "3"


def test_unknown_patch_names_are_refused():
    with pytest.raises(ValueError, match="unknown patch"):
        patches.apply({"no_such_patch"})


def test_json_message_attributes_become_query_form_entries():
    parameters = {
        "TopicArn": "t",
        "MessageAttributes": {"eventType": {"DataType": "String", "StringValue": "X"}},
    }
    assert query_form_attributes(parameters) == {
        "TopicArn": "t",
        "MessageAttributes.entry.1.Name": "eventType",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "X",
    }
    assert query_form_attributes({"TopicArn": "t"}) == {"TopicArn": "t"}


def test_default_sampling_rule_takes_the_first_request_of_each_second_then_five_percent():
    now = [100.2]
    draws = iter([0.04, 0.06, 0.5, 0.0499])
    rule = DefaultSamplingRule(clock=lambda: now[0], draw=lambda: next(draws))
    decisions = [rule.sampled() for _ in range(5)]  # the reservoir's one, then four draws
    now[0] = 101.0
    assert decisions == [True, True, False, False, True]
    assert rule.sampled()  # a new second refills the reservoir without a draw


def test_page_of_pages_by_count_and_by_size():
    small = [{"message": str(i)} for i in range(25)]
    assert page_of(iter(small), 10, 0) == (small[:10], True)
    assert page_of(iter(small), 10, 20) == (small[20:], False)
    big = [{"message": "x" * 400_000}] * 4
    page, more = page_of(iter(big), 10_000, 0)
    assert len(page) == 2 and more  # a third would pass 1 MB


def test_loopback_hosts_allows_loopback_names_only():
    for host in (
        "127.0.0.1:4566",
        "localhost",
        "LOCALHOST:1",
        "[::1]:4566",
        "abc.execute-api.localhost:4566",
    ):
        assert allowed_host(host), host
    for host in (
        "evil.example",
        "127.0.0.1.evil.example",
        "localhost.evil.example:4566",
        "10.0.0.1:4566",
        "",
    ):
        assert not allowed_host(host), host
