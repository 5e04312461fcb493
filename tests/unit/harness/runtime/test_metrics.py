from harness.runtime.catalog import FunctionSpec
from harness.runtime.metrics import concurrency_datums, dimension_sets, distributions, invocation_datums

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


def test_a_second_of_invocations_folds_into_one_distribution_per_metric():
    arn = "arn:aws:lambda:us-east-1:0:function:f"
    datums = [
        *invocation_datums(SPEC, arn, 10.0, failed=False, throttled=False),
        *invocation_datums(SPEC, arn, 10.0, failed=True, throttled=False),
        *invocation_datums(SPEC, arn, 30.0, failed=False, throttled=False),
    ]
    folded = {d["MetricName"]: d for d in distributions(datums)}
    assert len(distributions(datums)) == 4
    assert (folded["Invocations"]["Values"], folded["Invocations"]["Counts"]) == ([1.0], [3.0])
    assert (folded["Errors"]["Values"], folded["Errors"]["Counts"]) == ([0.0, 1.0], [2.0, 1.0])
    assert (folded["Duration"]["Values"], folded["Duration"]["Counts"]) == ([10.0, 30.0], [2.0, 1.0])
    assert folded["Duration"]["Unit"] == "Milliseconds"
    assert folded["Duration"]["Timestamp"] == min(d["Timestamp"] for d in datums)


def test_a_distribution_of_many_distinct_values_is_split_at_the_api_limit():
    arn = "arn:aws:lambda:us-east-1:0:function:f"
    datums = [d for ms in range(400) for d in invocation_datums(SPEC, arn, float(ms), False, False)]
    durations = [d for d in distributions(datums) if d["MetricName"] == "Duration"]
    assert [len(d["Values"]) for d in durations] == [150, 150, 100]
    assert sorted(v for d in durations for v in d["Values"]) == [float(ms) for ms in range(400)]


def test_concurrent_executions_per_function_resource_and_account():
    datums = concurrency_datums(
        SPEC, "arn:aws:lambda:us-east-1:0:function:f:live", {"function": 3, "resource": 2, "account": 7}
    )
    assert [(names(d["Dimensions"]), d["Value"]) for d in datums] == [
        ([("FunctionName", "f")], 3.0),
        ([("FunctionName", "f"), ("Resource", "f:live")], 2.0),
        ([], 7.0),
    ]
    assert {d["MetricName"] for d in datums} == {"ConcurrentExecutions"}
    unqualified = concurrency_datums(
        SPEC, "arn:aws:lambda:us-east-1:0:function:f", {"function": 1, "account": 1}
    )
    assert [names(d["Dimensions"]) for d in unqualified] == [[("FunctionName", "f")], []]
