import pytest

from harness.runtime.catalog import (
    CPU_QUOTA_TAG,
    FunctionCodeNotFound,
    image_code_name,
    spec_from_configuration,
)


@pytest.mark.parametrize(
    "image_uri",
    [
        "000000000000.dkr.ecr.us-east-1.amazonaws.com/order-platform/health:local",
        "000000000000.dkr.ecr.us-east-1.amazonaws.com/order-platform/health@sha256:abc",
        "127.0.0.1:5000/health:1a2b3c",
        "health",
    ],
)
def test_code_name_is_the_last_repository_segment(image_uri):
    assert image_code_name(image_uri) == "health"


def test_spec_takes_handler_environment_and_limits_from_the_configuration():
    spec = spec_from_configuration(
        {
            "FunctionName": "f",
            "Version": "3",
            "RevisionId": "r",
            "ImageUri": "x/orders:1",
            "ImageConfigResponse": {"ImageConfig": {"Command": ["app.handler"]}},
            "Environment": {"Variables": {"A": "1"}},
            "Timeout": 7,
            "MemorySize": 1024,
        },
        reserved_concurrency=2,
    )
    assert (spec.handler, spec.version, spec.code_name) == ("app.handler", "3", "orders")
    assert (spec.timeout_s, spec.memory_mb, spec.reserved_concurrency) == (7, 1024, 2)
    assert spec.environment == {"A": "1"}
    assert spec.log_group == "/aws/lambda/f"
    assert spec.key == ("f", "3", "r")


@pytest.mark.parametrize(
    ("tags", "hard_quota"), [(None, False), ({"team": "a"}, False), ({CPU_QUOTA_TAG: "tune"}, True)]
)
def test_only_a_function_tagged_for_it_asks_for_a_hard_cpu_quota(tags, hard_quota):
    config = {
        "FunctionName": "f",
        "ImageUri": "x/f:1",
        "ImageConfigResponse": {"ImageConfig": {"Command": ["a.h"]}},
    }
    assert spec_from_configuration(config, None, tags).cpu_quota is hard_quota


def test_spec_without_a_handler_is_refused_with_the_fix():
    with pytest.raises(FunctionCodeNotFound, match=r"ImageConfig\.Command"):
        spec_from_configuration({"FunctionName": "f", "ImageUri": "x/f:1"}, None)


class CountingLambda:
    """A Lambda client answering GetFunction for one published version, counting the calls."""

    def __init__(self):
        self.calls, self.reserved = 0, None

    def get_function(self, FunctionName, Qualifier):
        self.calls += 1
        concurrency = {"ReservedConcurrentExecutions": self.reserved} if self.reserved is not None else {}
        return {
            "Configuration": {
                "FunctionName": FunctionName,
                "Version": Qualifier,
                "RevisionId": "r1",
                "ImageConfigResponse": {"ImageConfig": {"Command": ["app.handler"]}},
            },
            "Code": {"ImageUri": "x/f:1"},
            "Concurrency": concurrency,
        }


def test_a_held_spec_is_read_again_after_a_second_so_reserved_concurrency_applies():
    from harness.runtime.catalog import SPEC_REFRESH_S, FunctionCatalog

    now = [0.0]
    lambda_client = CountingLambda()
    catalog = FunctionCatalog(lambda_client, clock=lambda: now[0])
    assert catalog.get("f", "3").reserved_concurrency is None
    lambda_client.reserved = 1
    assert catalog.cached("f", "3", "r1") is not None and lambda_client.calls == 1  # held, fresh
    now[0] += SPEC_REFRESH_S + 0.01
    assert catalog.cached("f", "3", "r1") is None
    assert catalog.get("f", "3", "r1").reserved_concurrency == 1 and lambda_client.calls == 2
