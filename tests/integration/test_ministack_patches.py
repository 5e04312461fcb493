"""Each MiniStack patch: the gap it closes, shown on an emulator without it, and the fix, shown with it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import aws, stack
from harness.paths import Paths
from harness.session import Session
from tests.conftest import wait_for
from tests.integration.conftest import FIXTURE_IMAGE, ROLE, invoke
from tests.integration.test_step_functions import create_state_machine, run_to_completion


@pytest.fixture
def lambda_without():
    """``lambda_without("patch")``: a Lambda client of a fresh emulator lacking that one patch."""
    sessions = []

    def start(patch: str):
        paths = Paths.discover()
        stack.build_function_packages(paths)  # process mode's packages, also when the suite runs on images
        session = Session(paths, disabled_patches=(patch,)).start()
        sessions.append(session)
        return aws.client("lambda", session.endpoint_url)

    yield start
    for session in sessions:
        session.stop()


def create_probe(lambda_client, name: str = "probe") -> str:
    lambda_client.create_function(
        FunctionName=name,
        PackageType="Image",
        Role=ROLE,
        Code={"ImageUri": FIXTURE_IMAGE.format(name="probe")},
        ImageConfig={"Command": ["app.handler"]},
    )
    return name


def two_versions_weighted(lambda_client, name: str, weight: float) -> tuple[str, str]:
    first = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_function_configuration(FunctionName=name, Description="second")
    second = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion=first,
        RoutingConfig={"AdditionalVersionWeights": {second: weight}},
    )
    return first, second


# --- default_proxy -----------------------------------------------------------------------------------


def test_without_default_proxy_functions_never_reach_the_runtime(lambda_without):
    lambda_client = lambda_without("default_proxy")
    response, payload = invoke(lambda_client, create_probe(lambda_client), {"action": "echo", "value": 1})
    assert response.get("FunctionError"), payload


def test_with_default_proxy_every_function_runs_in_the_runtime(lambda_client, make_function):
    _, payload = invoke(lambda_client, make_function(), {"action": "echo", "value": 1})
    assert payload["echo"] == 1


# --- proxy_errors ------------------------------------------------------------------------------------


def test_without_proxy_errors_a_raised_exception_looks_like_success(lambda_without):
    lambda_client = lambda_without("proxy_errors")
    response, payload = invoke(
        lambda_client, create_probe(lambda_client), {"action": "raise", "error": "declined"}
    )
    assert "FunctionError" not in response
    assert payload["errorType"] == "PaymentDeclined"  # the error body, delivered as a result


def test_with_proxy_errors_the_error_is_a_function_error(lambda_client, make_function):
    response, payload = invoke(lambda_client, make_function(), {"action": "raise", "error": "declined"})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "PaymentDeclined"


# --- weighted_aliases --------------------------------------------------------------------------------


def test_without_weighted_aliases_the_primary_version_takes_everything(lambda_without):
    lambda_client = lambda_without("weighted_aliases")
    name = create_probe(lambda_client)
    first, _ = two_versions_weighted(lambda_client, name, 0.5)
    with ThreadPoolExecutor(4) as pool:
        versions = set(
            pool.map(
                lambda _: invoke(lambda_client, name, {}, Qualifier="live")[0]["ExecutedVersion"], range(100)
            )
        )
    assert versions == {first}


def test_weighted_alias_routes_calls_by_arn_from_step_functions(local_stack, lambda_client, make_function):
    name = make_function()
    first, second = two_versions_weighted(lambda_client, name, 0.5)
    alias_arn = lambda_client.get_alias(FunctionName=name, Name="live")["AliasArn"]
    sfn = local_stack.client("stepfunctions")
    state_machine = create_state_machine(sfn, "map_versions.asl.json", alias_arn)
    output, _ = run_to_completion(sfn, state_machine, {"items": list(range(200))})
    versions = [item["version"] for item in output]
    assert 60 <= versions.count(second) <= 140, versions.count(second)
    assert versions.count(first) + versions.count(second) == 200


def test_weighted_alias_routes_sqs_batches_and_metrics_name_the_executed_version(
    local_stack, lambda_client, make_function
):
    name = make_function()
    first, second = two_versions_weighted(lambda_client, name, 0.5)
    sqs = local_stack.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{name}-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lambda_client.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=f"{name}:live", BatchSize=1
    )
    for start in range(0, 60, 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps({"n": i})} for i in range(start, start + 10)],
        )
    cloudwatch = local_stack.client("cloudwatch")

    def invocations(version: str) -> int:
        dimensions = [
            {"Name": "FunctionName", "Value": name},
            {"Name": "Resource", "Value": f"{name}:live"},
            {"Name": "ExecutedVersion", "Value": version},
        ]
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            Dimensions=dimensions,
            StartTime="2020-01-01T00:00:00Z",
            EndTime="2100-01-01T00:00:00Z",
            Period=86400,
            Statistics=["Sum"],
        )["Datapoints"]
        return int(sum(point["Sum"] for point in points))

    counts = wait_for(
        lambda: (c := (invocations(first), invocations(second))) and sum(c) >= 60 and c,
        timeout_s=30,
        what="60 invocations in the per-version metrics",
    )
    assert sum(counts) == 60
    assert min(counts) >= 10, counts
