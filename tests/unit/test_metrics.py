from harness.runtime.catalog import FunctionSpec
from harness.runtime.metrics import dimension_sets, invocation_datums

SPEC = FunctionSpec(
    name="f", version="2", revision="r", handler="app.handler", image_uri="x/f:1", environment={}
)


def names(dimensions):
    return [(d["Name"], d["Value"]) for d in dimensions]


def test_unqualified_invocation_counts_per_function_only():
    sets = dimension_sets(SPEC, "arn:aws:lambda:us-east-1:000000000000:function:f")
    assert [names(s) for s in sets] == [[("FunctionName", "f")]]


def test_alias_invocation_counts_per_alias_and_per_executed_version():
    sets = dimension_sets(SPEC, "arn:aws:lambda:us-east-1:000000000000:function:f:live")
    assert [names(s) for s in sets] == [
        [("FunctionName", "f")],
        [("FunctionName", "f"), ("Resource", "f:live")],
        [("FunctionName", "f"), ("Resource", "f:live"), ("ExecutedVersion", "2")],
    ]


def test_a_failed_invocation_counts_an_error_and_its_duration():
    datums = invocation_datums(
        SPEC, "arn:aws:lambda:us-east-1:0:function:f", 12.5, failed=True, throttled=False
    )
    assert {(d["MetricName"], d["Value"]) for d in datums} == {
        ("Invocations", 1.0),
        ("Errors", 1.0),
        ("Throttles", 0.0),
        ("Duration", 12.5),
    }


def test_a_throttle_is_not_an_invocation():
    datums = invocation_datums(
        SPEC, "arn:aws:lambda:us-east-1:0:function:f", None, failed=False, throttled=True
    )
    assert {(d["MetricName"], d["Value"]) for d in datums} == {("Throttles", 1.0)}
