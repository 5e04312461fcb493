import pytest

from harness.emulator import ministack_patches
from harness.emulator.ministack_patches import pick_version, query_form_attributes


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
        ministack_patches.apply({"no_such_patch"})


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
