"""The faults tests provoke from outside a function, so its package carries no test hook: the
emulator's S3 read faults (S3's own XML error), its slow calls that are then served, and the function
runtime killing an instance mid-invocation (as an out-of-memory kill would)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from harness.emulator.patches.fault_injection import S3_GET_OBJECT
from harness.runtime.client import RuntimeRefused
from testkit.faults import EmulatorFaults
from testkit.fixture_functions import invoke, runs
from testkit.polling import wait_for


@pytest.fixture
def faults(local_stack):
    faults = EmulatorFaults(local_stack.endpoint_url)
    yield faults
    faults.disarm_own()


@pytest.fixture
def bucket(local_stack):
    s3, name = local_stack.client("s3"), f"faults-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    yield name
    for listed in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=listed["Key"])
    s3.delete_bucket(Bucket=name)


def test_an_s3_read_fault_answers_s3s_error_for_the_matching_keys_only(local_stack, faults, bucket):
    s3 = local_stack.client("s3", retries={"total_max_attempts": 1})  # a read: one call, never retried
    for key in ("incoming/mine-1.csv", "incoming/theirs-1.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"sku,quantity\n")
    faults.arm(S3_GET_OBJECT, failures=1, error="SlowDown", status=503, match="mine-")
    assert s3.get_object(Bucket=bucket, Key="incoming/theirs-1.csv")["Body"].read() == b"sku,quantity\n"
    s3.put_object(Bucket=bucket, Key="incoming/mine-2.csv", Body=b"")  # a write is no read
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=bucket, Key="incoming/mine-1.csv")
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("SlowDown", 503)
    assert "injected fault" in error["Error"]["Message"]
    assert s3.get_object(Bucket=bucket, Key="incoming/mine-1.csv")["ContentLength"] > 0  # budget spent
    assert {k: faults.of(S3_GET_OBJECT, "mine-")[k] for k in ("calls", "failed")} == {"calls": 2, "failed": 1}


def test_a_delay_only_fault_serves_the_call_after_its_delay(local_stack, faults):
    dynamodb = local_stack.client("dynamodb")
    missing = f"no-such-table-{uuid.uuid4().hex[:8]}"
    faults.arm("DynamoDB_20120810.DescribeTable", failures=1, delaySeconds=0.5, delayOnly=True, match=missing)
    started = time.monotonic()
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):  # the service's own answer
        dynamodb.describe_table(TableName=missing)
    assert time.monotonic() - started >= 0.5
    assert faults.of("DynamoDB_20120810.DescribeTable", missing)["failed"] == 1


def test_the_runtime_kills_an_instance_mid_invocation_as_an_out_of_memory_kill_would(
    local_stack, lambda_client, make_function, runs_table
):
    name, key = make_function(Timeout=30), uuid.uuid4().hex
    runtime = local_stack.runtime
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(invoke, lambda_client, name, {"action": "hold", "table": runs_table, "key": key})
        wait_for(lambda: runs(local_stack, runs_table, key) == 1, what="the held run")
        assert runtime.crash(name, "not-in-any-event") == 0
        assert runtime.crash(name, key) == 1
        response, payload = call.result()
    assert response["FunctionError"] == "Unhandled" and payload["errorType"] == "Runtime.ExitError"
    assert invoke(lambda_client, name, {"action": "echo", "value": 1})[1]["echo"] == 1  # a new instance
    with pytest.raises(RuntimeRefused, match="a function and a match"):
        runtime.crash(name, "")
