"""Each MiniStack patch: the gap it closes, shown on an emulator without it, and the fix, shown with it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.message import Message

import pytest
from botocore.exceptions import ClientError

from harness import aws
from harness.stack.deploy import DeployError, deploy_stack
from harness.stack.project import API_ID_TAG
from testkit.binomial import binomial_band
from testkit.emulator_clock import EmulatorClock
from testkit.faults import START_EXECUTION, EmulatorFaults
from testkit.fixture_functions import create_fixture_function, fixture_role, invoke, publish_weighted_alias
from testkit.fixture_state_machines import create_state_machine, run_to_completion
from testkit.logs import logged_lines
from testkit.metrics import metric_value
from testkit.policies import topic_may_send
from testkit.polling import until, wait_for

pytestmark = pytest.mark.same_in_both_modes


@pytest.fixture
def lambda_without(emulator_without):
    """``lambda_without("patch")``: a Lambda client of a fresh emulator lacking that one patch."""
    return lambda patch: aws.client("lambda", emulator_without(patch))


def create_probe(lambda_client) -> str:
    return create_fixture_function(lambda_client, "probe", "probe")


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


def test_without_proxy_errors_a_throttled_task_is_an_unknown_error(emulator_without):
    endpoint_url = emulator_without("proxy_errors")
    lambda_client, sfn = aws.client("lambda", endpoint_url), aws.client("stepfunctions", endpoint_url)
    name = create_probe(lambda_client)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    output, _ = run_to_completion(
        sfn, create_state_machine(sfn, "retry_catch.asl.json", arn), {"action": "echo"}
    )
    assert output["error"]["Error"] == "Lambda.Unknown"  # with the patch: Lambda.TooManyRequestsException


# --- weighted_aliases --------------------------------------------------------------------------------


def test_without_weighted_aliases_the_primary_version_takes_everything(lambda_without):
    lambda_client = lambda_without("weighted_aliases")
    name = create_probe(lambda_client)
    first, _ = publish_weighted_alias(lambda_client, name, 0.5)
    with ThreadPoolExecutor(4) as pool:
        versions = set(
            pool.map(
                lambda _: invoke(lambda_client, name, {}, Qualifier="live")[0]["ExecutedVersion"], range(100)
            )
        )
    assert versions == {first}


def test_weighted_alias_routes_calls_by_arn_from_step_functions(local_stack, lambda_client, make_function):
    name = make_function()
    first, second = publish_weighted_alias(lambda_client, name, 0.5)
    alias_arn = lambda_client.get_alias(FunctionName=name, Name="live")["AliasArn"]
    sfn = local_stack.client("stepfunctions")
    state_machine = create_state_machine(sfn, "map_versions.asl.json", alias_arn)
    output, _ = run_to_completion(sfn, state_machine, {"items": list(range(200))})
    versions = [item["version"] for item in output]
    low, high = binomial_band(200, 0.5)
    assert low <= versions.count(second) <= high, (versions.count(second), low, high)
    assert versions.count(first) + versions.count(second) == 200


def test_weighted_alias_routes_sqs_batches_and_metrics_name_the_executed_version(
    local_stack, lambda_client, make_function
):
    name = make_function()
    first, second = publish_weighted_alias(lambda_client, name, 0.5)
    sqs = local_stack.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{name}-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lambda_client.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=f"{name}:live", BatchSize=1
    )
    since = time.time()
    for start in range(0, 60, 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps({"n": i})} for i in range(start, start + 10)],
        )
    cloudwatch = local_stack.client("cloudwatch")

    def invocations(version: str) -> int:
        dimensions = {"FunctionName": name, "Resource": f"{name}:live", "ExecutedVersion": version}
        return int(metric_value(cloudwatch, "AWS/Lambda", "Invocations", dimensions, since=since))

    counts = wait_for(
        lambda: (c := (invocations(first), invocations(second))) and sum(c) >= 60 and c,
        timeout_s=30,
        what="60 invocations in the per-version metrics",
    )
    assert sum(counts) == 60
    low, high = binomial_band(60, 0.5)
    assert low <= counts[1] <= high, counts


# --- sfn_sns_attributes ------------------------------------------------------------------------------


def attributes_published_by_a_workflow(endpoint_url: str) -> dict:
    """The message attributes an SQS subscriber sees after an ``sns:publish`` task that sets one."""
    sns, sqs, sfn = (aws.client(service, endpoint_url) for service in ("sns", "sqs", "stepfunctions"))
    suffix = uuid.uuid4().hex[:8]
    topic_arn = sns.create_topic(Name=f"events-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"subscriber-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": topic_may_send(queue_arn, topic_arn)})
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    publish = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn": topic_arn,
            "Message": "hello",
            "MessageAttributes": {"eventType": {"DataType": "String", "StringValue.$": "$.eventType"}},
        },
        "End": True,
    }
    definition = json.dumps({"StartAt": "Publish", "States": {"Publish": publish}})
    state_machine = sfn.create_state_machine(
        name=f"publish-{suffix}", definition=definition, roleArn=fixture_role(sfn.meta.endpoint_url)
    )
    run_to_completion(sfn, state_machine["stateMachineArn"], {"eventType": "OrderConfirmed"})
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages"),
        what="the published message",
    )
    return json.loads(messages[0]["Body"]).get("MessageAttributes") or {}


def test_without_sfn_sns_attributes_a_workflow_publishes_no_attributes(emulator_without):
    assert attributes_published_by_a_workflow(emulator_without("sfn_sns_attributes")) == {}


def test_with_sfn_sns_attributes_subscribers_see_the_attributes(local_stack):
    attributes = attributes_published_by_a_workflow(local_stack.endpoint_url)
    assert attributes["eventType"] == {"Type": "String", "Value": "OrderConfirmed"}


# --- xray_sampling -----------------------------------------------------------------------------------

TRACE_SAMPLES = 60


def sampled_flags(lambda_client, name: str) -> list[bool]:
    """Sampled= of the trace header each of TRACE_SAMPLES back-to-back invocations saw."""
    flags = []
    for _ in range(TRACE_SAMPLES):
        _, payload = invoke(lambda_client, name, {"action": "env", "keys": ["_X_AMZN_TRACE_ID"]})
        flags.append(payload["_X_AMZN_TRACE_ID"].endswith("Sampled=1"))
    return flags


def test_without_xray_sampling_every_invocation_is_sampled(lambda_without):
    lambda_client = lambda_without("xray_sampling")
    name = create_probe(lambda_client)
    lambda_client.update_function_configuration(FunctionName=name, TracingConfig={"Mode": "Active"})
    assert all(sampled_flags(lambda_client, name))


def test_with_xray_sampling_the_default_rule_decides(lambda_client, make_function):
    name = make_function(TracingConfig={"Mode": "Active"})
    started = time.time()
    flags = sampled_flags(lambda_client, name)
    seconds_spanned = int(time.time()) - int(started) + 1
    assert flags[0]  # the first request of its second
    # One per second from the reservoir plus 5% of the rest (3 expected; 15 is far in the tail).
    assert sum(flags) <= seconds_spanned + 15, (sum(flags), seconds_spanned)


# --- xray ----------------------------------------------------------------------------------------------


def test_without_xray_the_trace_queries_are_an_unsupported_service(emulator_without):
    xray = aws.client("xray", emulator_without("xray"))
    with pytest.raises(ClientError) as raised:
        xray.get_trace_summaries(StartTime=time.time() - 60, EndTime=time.time())
    # upstream's body is {"error": "Unsupported service: xray"}: the CLI shows a 400 with no message
    assert raised.value.response["Error"]["Code"] == "400"


def test_with_xray_a_sampled_invocation_is_recorded_as_lambda_records_it(
    local_stack, lambda_client, make_function
):
    name = make_function(TracingConfig={"Mode": "Active"})

    def sampled_header():
        _, payload = invoke(lambda_client, name, {"action": "env", "keys": ["_X_AMZN_TRACE_ID"]})
        header = payload["_X_AMZN_TRACE_ID"]
        return header if header.endswith("Sampled=1") else None

    header = wait_for(sampled_header, 10, interval_s=0.2, what="an invocation the default rule samples")
    parts = dict(part.split("=", 1) for part in header.split(";"))
    xray = local_stack.client("xray")
    found = wait_for(
        lambda: xray.batch_get_traces(TraceIds=[parts["Root"]])["Traces"], 5, what="the invocation's trace"
    )
    documents = {json.loads(s["Document"])["origin"]: json.loads(s["Document"]) for s in found[0]["Segments"]}
    service, function = documents["AWS::Lambda"], documents["AWS::Lambda::Function"]
    # The function's SDK continues the function segment: the trace header's Parent is its id.
    assert function["id"] == parts["Parent"] and function["parent_id"] == service["id"]
    assert service["name"] == function["name"] == name and "parent_id" not in service


# --- filter_log_events_pages ---------------------------------------------------------------------------


def _filtered_event_count(endpoint_url: str) -> int:
    """Put 10,050 events in one stream, then count what a paginating FilterLogEvents client reads."""
    logs = aws.client("logs", endpoint_url)
    group = f"/test/pages-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    for first in range(0, 10_050, 5_000):
        batch = [{"timestamp": now, "message": f"line {i}"} for i in range(first, min(first + 5_000, 10_050))]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=batch)
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
    messages = [event["message"] for page in pages for event in page["events"]]
    assert messages == [f"line {i}" for i in range(len(messages))], "out of order or repeated"
    return len(messages)


def test_without_filter_log_events_pages_a_client_misses_lines_past_10000(emulator_without):
    assert _filtered_event_count(emulator_without("filter_log_events_pages")) == 10_000


def test_with_filter_log_events_pages_every_line_is_read(local_stack):
    assert _filtered_event_count(local_stack.endpoint_url) == 10_050


# --- log_filter_patterns -------------------------------------------------------------------------------

LOGGED = [
    "START RequestId: 1 Version: 1",
    '{"level": "ERROR", "latency": 900}',
    '{"level": "INFO"}',
    "a report",
]


def _log_group_of(endpoint_url: str) -> tuple[object, str]:
    """A log group holding LOGGED (one event each, in that order), and its logs client."""
    logs = aws.client("logs", endpoint_url)
    group = f"/test/patterns-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": message} for i, message in enumerate(LOGGED)]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    return logs, group


def _matching(logs, group: str, pattern: str) -> list[str]:
    found = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
    return [event["message"] for event in found]


def test_without_log_filter_patterns_terms_ignore_case_json_matches_all_and_any_pattern_goes(
    emulator_without,
):
    logs, group = _log_group_of(emulator_without("log_filter_patterns"))
    assert _matching(logs, group, "start") == [LOGGED[0]]
    assert _matching(logs, group, '{ $.level = "ERROR" }') == LOGGED
    assert _matching(logs, group, "Status: timeout") == []
    logs.put_subscription_filter(
        logGroupName=group, filterName="f", filterPattern="a(b", destinationArn="arn:aws:lambda:x"
    )
    assert len(logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]) == 1


def test_with_log_filter_patterns_every_form_as_cloudwatch_logs_defines_it(local_stack):
    logs, group = _log_group_of(local_stack.endpoint_url)
    assert _matching(logs, group, "start") == []  # terms are case-sensitive
    assert _matching(logs, group, "START -Version") == []
    assert _matching(logs, group, '?"RequestId: 1" ?report') == [LOGGED[0], LOGGED[3]]
    assert _matching(logs, group, '{ $.level = "ERROR" }') == [LOGGED[1]]
    assert _matching(logs, group, "{ $.latency > 500 || $.level = INFO }") == LOGGED[1:3]
    assert _matching(logs, group, "{ $.latency NOT EXISTS }") == [LOGGED[2]]  # JSON objects only
    assert _matching(logs, group, "[word, report = rep*]") == [LOGGED[3]]


def test_with_log_filter_patterns_a_bad_pattern_gets_cloudwatchs_error_and_changes_nothing(local_stack):
    logs, group = _log_group_of(local_stack.endpoint_url)
    refusals = [
        lambda: logs.filter_log_events(logGroupName=group, filterPattern="Status: timeout"),
        lambda: logs.put_subscription_filter(
            logGroupName=group,
            filterName="f",
            filterPattern="Status: timeout",
            destinationArn="arn:aws:lambda:x",
        ),
        lambda: logs.put_metric_filter(
            logGroupName=group,
            filterName="m",
            filterPattern="Status: timeout",
            metricTransformations=[{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}],
        ),
    ]
    for refused in refusals:
        with pytest.raises(ClientError) as raised:
            refused()
        error = raised.value.response["Error"]
        assert (error["Code"], error["Message"]) == (
            "InvalidParameterException",
            "Invalid character(s) in term ':'",
        )
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []
    with pytest.raises(ClientError, match="Invalid filter pattern"):
        logs.filter_log_events(logGroupName=group, filterPattern='{ $.level = "ERROR" ')


# --- codedeploy --------------------------------------------------------------------------------------


def test_without_codedeploy_the_service_is_unsupported(emulator_without):
    codedeploy = aws.client("codedeploy", emulator_without("codedeploy"))
    with pytest.raises(ClientError) as raised:
        codedeploy.list_deployment_configs()
    # upstream's body is {"error": "Unsupported service: codedeploy"}: no CodeDeploy error name at all
    assert raised.value.response["Error"]["Code"] == "400"


def test_with_codedeploy_the_predefined_lambda_configs_are_served(local_stack):
    listed = local_stack.client("codedeploy").list_deployment_configs()["deploymentConfigsList"]
    assert "CodeDeployDefault.LambdaLinear10PercentEvery1Minute" in listed


# --- loopback_hosts ------------------------------------------------------------------------------------


def _as_web_page(endpoint_url: str, host: str | None = None) -> tuple[int, Message]:
    """A preflight for ListFunctions as a page of another origin sends it (DNS rebinding: its Host), and
    the answer's status and headers (their names matched in any case, as a browser matches them)."""
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    if host:
        headers["Host"] = host
    request = urllib.request.Request(
        endpoint_url + "/2015-03-31/functions/", headers=headers, method="OPTIONS"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_without_loopback_hosts_a_web_page_can_drive_the_control_plane(emulator_without):
    endpoint = emulator_without("loopback_hosts")
    status, headers = _as_web_page(endpoint, host="evil.example")
    assert status == 200 and headers.get("Access-Control-Allow-Origin") == "*"


def test_with_loopback_hosts_a_foreign_host_is_refused_and_no_origin_may_read(local_stack):
    assert _as_web_page(local_stack.endpoint_url, host="evil.example")[0] == 403
    status, headers = _as_web_page(local_stack.endpoint_url)
    assert "Access-Control-Allow-Origin" not in headers, (status, headers)
    assert local_stack.client("lambda").list_functions()["Functions"] is not None  # SDK calls still work


# --- scheduled_rules_clock ---------------------------------------------------------------------------


@contextlib.contextmanager
def minute_rule_queue(endpoint_url: str):
    """A queue that a new ``rate(1 minute)`` rule delivers its scheduled events to; yields a function
    counting the events delivered so far."""
    sqs, events = aws.client("sqs", endpoint_url), aws.client("events", endpoint_url)
    name = f"every-minute-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    delivered = 0

    def delivered_so_far() -> int:
        nonlocal delivered
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        delivered += len(messages.get("Messages", []))
        return delivered

    try:
        yield delivered_so_far
    finally:
        events.remove_targets(Rule=name, Ids=["queue"])
        events.delete_rule(Name=name)
        sqs.delete_queue(QueueUrl=queue_url)


def test_without_scheduled_rules_clock_a_minute_rule_waits_a_real_minute(emulator_without):
    # Upstream's first firing comes a real minute after the rule is created: none within 4 s, on any
    # machine (a slower one only delivers later).
    with minute_rule_queue(emulator_without("scheduled_rules_clock")) as delivered_so_far:
        assert until(lambda: delivered_so_far() > 0, timeout_s=4, interval_s=0) is None


def test_with_scheduled_rules_clock_a_minute_rule_fires_every_local_minute(local_stack):
    # A rule firing every real minute delivers its third event three real minutes after it is created;
    # every local minute (a second at the default scale of 1/60), three come long before one real minute.
    with minute_rule_queue(local_stack.endpoint_url) as delivered_so_far:
        wait_for(lambda: delivered_so_far() >= 3, timeout_s=60, interval_s=0, what="three scheduled events")


# --- api_function_errors ------------------------------------------------------------------------------

FAILURE_DETAIL = "detail-only-the-logs-may-hold"


def probe_behind_rest_api(endpoint_url: str, pushed: dict[str, str] | None = None) -> tuple[str, str]:
    """(function, URL of ``POST /probe``): a new probe function behind a new REST API's Lambda proxy
    integration (``pushed``: the stack's images, in image mode)."""
    lambda_client, apigateway = aws.client("lambda", endpoint_url), aws.client("apigateway", endpoint_url)
    name = create_fixture_function(lambda_client, "probe", f"probe-{uuid.uuid4().hex[:8]}", pushed)
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    api = apigateway.create_rest_api(name=f"gap-{uuid.uuid4().hex[:8]}")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    resource = apigateway.create_resource(restApiId=api, parentId=root, pathPart="probe")["id"]
    apigateway.put_method(restApiId=api, resourceId=resource, httpMethod="POST", authorizationType="NONE")
    apigateway.put_integration(
        restApiId=api,
        resourceId=resource,
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{aws.REGION}:lambda:path/2015-03-31/functions/{arn}/invocations",
    )
    apigateway.create_deployment(restApiId=api, stageName="test")
    return name, f"{endpoint_url}/_aws/execute-api/{api}/test/probe"


def post(url: str, body: bytes) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def failure_through_rest_api(
    endpoint_url: str, pushed: dict[str, str] | None = None
) -> tuple[str, int, dict, bytes]:
    """(function, status, headers, body) of a POST through a REST API's Lambda proxy integration whose
    function raises an exception carrying FAILURE_DETAIL."""
    name, url = probe_behind_rest_api(endpoint_url, pushed)
    body = json.dumps({"action": "raise", "error": "declined", "message": FAILURE_DETAIL}).encode()
    return name, *post(url, body)


def test_without_api_function_errors_the_client_reads_the_functions_error(emulator_without):
    _, status, _, body = failure_through_rest_api(emulator_without("api_function_errors"))
    assert status == 502
    assert FAILURE_DETAIL in body.decode() and "stackTrace" in body.decode()


def test_with_api_function_errors_the_client_gets_what_aws_sends_and_the_log_the_detail(local_stack):
    name, status, headers, body = failure_through_rest_api(local_stack.endpoint_url, local_stack.images)
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    named = {name.lower(): value for name, value in headers.items()}  # HTTP header names have no case
    assert named["content-type"] == "application/json"
    assert named["x-amzn-errortype"] == "InternalServerErrorException"
    assert "PaymentDeclined" in logged_lines(local_stack, name, FAILURE_DETAIL)[0]


# --- api_payload_limit -------------------------------------------------------------------------------

# Over API Gateway's 10 MB, a request the probe would answer (an echo) were it ever invoked.
TOO_LONG = json.dumps({"action": "echo", "padding": "x" * (11 * 1024 * 1024)}).encode()


def test_without_api_payload_limit_an_11_mb_request_reaches_the_function_and_fails(emulator_without):
    _, url = probe_behind_rest_api(emulator_without("api_payload_limit"))
    assert post(url, TOO_LONG)[0] == 502


def test_with_api_payload_limit_an_11_mb_request_is_refused_before_the_function(local_stack):
    name, url = probe_behind_rest_api(local_stack.endpoint_url, local_stack.images)
    status, _, body = post(url, TOO_LONG)
    assert (status, json.loads(body)) == (413, {"message": "Request Too Long"})
    assert name not in local_stack.runtime_stats()["functions"], "the function never ran"
    status, _, body = post(url, json.dumps({"action": "echo", "value": "small"}).encode())
    assert (status, json.loads(body)["echo"]) == (200, "small")


# --- fault_injection (test-only) ---------------------------------------------------------------------


def test_without_fault_injection_there_is_no_faults_endpoint(emulator_without):
    faults = EmulatorFaults(emulator_without("fault_injection"))
    with pytest.raises(urllib.error.HTTPError):
        faults.arm(START_EXECUTION, failures=1)


def test_an_armed_fault_fails_the_chosen_calls_with_the_aws_error_until_disarmed(local_stack):
    faults = EmulatorFaults(local_stack.endpoint_url)
    stepfunctions = local_stack.client("stepfunctions")
    target = "AWSStepFunctions.ListStateMachines"
    # An error no SDK retries, so each call the client makes is one call the emulator sees.
    faults.arm(target, failures=2, every=2, error="ExecutionLimitExceeded")
    outcomes = []
    for _ in range(5):
        try:
            stepfunctions.list_state_machines()
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    assert outcomes == ["ExecutionLimitExceeded", "ok", "ExecutionLimitExceeded", "ok", "ok"]
    assert {k: faults.of(target)[k] for k in ("calls", "failed")} == {"calls": 5, "failed": 2}
    faults.arm(target, failures=1)
    faults.clear()
    stepfunctions.list_state_machines()


def test_a_fault_with_a_match_fails_only_the_calls_whose_body_holds_it(local_stack):
    faults = EmulatorFaults(local_stack.endpoint_url)
    stepfunctions = local_stack.client("stepfunctions")
    target = "AWSStepFunctions.DescribeExecution"
    arn = "arn:aws:states:us-east-1:000000000000:execution:machine:{}"
    faults.arm(target, failures=5, error="ExecutionLimitExceeded", match="mine-")
    try:
        codes = []
        for name in ("theirs-1", "mine-1", "theirs-2", "mine-2"):
            try:
                stepfunctions.describe_execution(executionArn=arn.format(name))
            except ClientError as error:
                codes.append(error.response["Error"]["Code"])
        # Another test's calls reach the service (no such execution); only this test's fail on purpose.
        assert codes == ["ExecutionDoesNotExist", "ExecutionLimitExceeded"] * 2
        assert {k: faults.of(target, "mine-")[k] for k in ("calls", "failed")} == {"calls": 2, "failed": 2}
        # One test's faults are disarmed without another's.
        theirs = EmulatorFaults(local_stack.endpoint_url)
        theirs.arm(target, failures=1, match="theirs-")
        faults.disarm_own()
        assert theirs.of(target, "theirs-")["failures"] == 1
        with pytest.raises(StopIteration):
            faults.of(target, "mine-")
    finally:
        faults.clear()


# --- clock_ticks (test-only) -------------------------------------------------------------------------


def test_without_clock_ticks_there_is_no_clock_endpoint(emulator_without):
    with pytest.raises(urllib.error.HTTPError):
        EmulatorClock(emulator_without("clock_ticks")).ticks()


def test_with_clock_ticks_each_tick_of_the_clock_is_counted(local_stack):
    clock = EmulatorClock(local_stack.endpoint_url)
    first = clock.ticks()
    wait_for(lambda: clock.ticks() >= first + 2, timeout_s=30, what="two more ticks of the emulator's clock")


# --- ecr_manifest_digests ------------------------------------------------------------------------------

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _manifest(repository: str) -> str:
    """A small image manifest of its own (no layers: only the registry's bookkeeping is under test)."""
    config = hashlib.sha256(repository.encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 2,
                "digest": f"sha256:{config}",
            },
            "layers": [],
        }
    )


def _put_image_then_pull_by_digest(endpoint_url: str) -> tuple[str, tuple[int, Message, bytes]]:
    """A manifest stored with ECR's PutImage, then GET by its digest from the registry, as an engine pulls
    ``repository@sha256:...`` (logged in with the ECR token); the digest and (status, headers, body)."""
    ecr = aws.client("ecr", endpoint_url)
    repository = f"patches/{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=repository)
    body = _manifest(repository)
    digest = ecr.put_image(repositoryName=repository, imageManifest=body, imageTag="r1")["image"]["imageId"][
        "imageDigest"
    ]
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    request = urllib.request.Request(
        f"{endpoint_url}/v2/{repository}/manifests/{digest}",
        headers={"Authorization": f"Basic {token}", "Accept": DOCKER_MANIFEST},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return digest, (response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return digest, (error.code, error.headers, error.read())


def test_without_ecr_manifest_digests_a_put_image_manifest_is_unknown_by_digest(emulator_without):
    _, (status, _, body) = _put_image_then_pull_by_digest(emulator_without("ecr_manifest_digests"))
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_with_ecr_manifest_digests_a_put_image_manifest_is_served_by_digest(local_stack):
    digest, (status, headers, body) = _put_image_then_pull_by_digest(local_stack.endpoint_url)
    assert status == 200
    assert headers["Docker-Content-Digest"] == digest == f"sha256:{hashlib.sha256(body).hexdigest()}"
    assert headers["Content-Type"] == DOCKER_MANIFEST


def test_with_ecr_manifest_digests_a_put_image_naming_another_digest_is_refused(local_stack):
    ecr = local_stack.client("ecr")
    repository = f"patches/{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=repository)
    with pytest.raises(ecr.exceptions.ImageDigestDoesNotMatchException):
        ecr.put_image(
            repositoryName=repository,
            imageManifest=_manifest(repository),
            imageDigest=f"sha256:{'0' * 64}",
        )
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []


# --- rest_api_overwrite ------------------------------------------------------------------------------


def api_template(paths: list[str]) -> dict:
    """A stack of one REST API whose OpenAPI body has a GET (a mock integration) on each of ``paths``."""
    mock = {"x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {}}}
    body = {"swagger": "2.0", "info": {"title": "routes"}, "paths": {path: {"get": mock} for path in paths}}
    return {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "routes", "Body": body}}
        }
    }


def api_ids_and_routes(endpoint_url: str, tags: dict[str, str] | None = None) -> tuple[str, str, set[str]]:
    """(the API's id, its id after an update that changes its routes, the routes it has then)."""
    cloudformation = aws.client("cloudformation", endpoint_url)
    name = f"routes-{uuid.uuid4().hex[:8]}"

    def api_id() -> str:
        found = cloudformation.describe_stack_resource(StackName=name, LogicalResourceId="Api")
        return found["StackResourceDetail"]["PhysicalResourceId"]

    deploy_stack(cloudformation, name, api_template(["/a"]), {}, tags=tags)
    created = api_id()
    deploy_stack(cloudformation, name, api_template(["/b", "/b/c"]), {}, tags=tags)
    updated = api_id()
    resources = aws.client("apigateway", endpoint_url).get_resources(restApiId=updated)["items"]
    return created, updated, {resource["path"] for resource in resources}


def test_without_rest_api_overwrite_a_change_of_routes_is_a_new_api(emulator_without):
    created, updated, routes = api_ids_and_routes(emulator_without("rest_api_overwrite"))
    assert created != updated and routes == {"/", "/b", "/b/c"}


def test_without_rest_api_overwrite_a_pinned_api_id_fails_a_change_of_routes(emulator_without):
    with pytest.raises(DeployError, match="Api"):
        api_ids_and_routes(emulator_without("rest_api_overwrite"), {API_ID_TAG: "pinned1234"})


def test_with_rest_api_overwrite_a_change_of_routes_changes_the_same_api(local_stack):
    pinned = f"pin{uuid.uuid4().hex[:7]}"
    created, updated, routes = api_ids_and_routes(local_stack.endpoint_url, {API_ID_TAG: pinned})
    assert created == updated == pinned
    assert routes == {"/", "/b", "/b/c"}  # /a is gone: the new definition overwrites the old
