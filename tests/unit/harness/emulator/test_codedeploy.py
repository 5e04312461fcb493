"""CodeDeploy's pure parts: how each configuration shifts traffic on the local clock, the AppSpec, the
deployment record's hook and stop rules, the API's errors for bad input, the order in which a stack
update reaches the aliases it deploys."""

from __future__ import annotations

import threading

import pytest

from harness.clock import DEFAULT_TIME_SCALE, SCALE_ENV
from harness.emulator.services.codedeploy import alias_batch, appspec, clock, configs, lifecycle
from harness.emulator.services.codedeploy.deployment import Deployment, is_deployment_id, new_deployment_id
from harness.emulator.services.codedeploy.errors import CodeDeployError
from harness.emulator.services.codedeploy.service import CodeDeployService


class FakeClock:
    """AWS seconds that pass only when something waits."""

    def __init__(self):
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def wait(self, event: threading.Event, aws_seconds: float) -> bool:
        if event.is_set():
            return True
        self.t += aws_seconds
        return False


def shifted(name: str) -> list[tuple[float, int]]:
    """(AWS minutes since the start, percent on the new version) of each shift ``name`` makes."""
    fake, applied = FakeClock(), []
    lifecycle.shift_traffic(
        configs.PREDEFINED[name],
        fake,
        lambda p: applied.append((fake.now() / 60, p)),
        lambda: None,
        threading.Event(),
    )
    return applied


@pytest.mark.parametrize("minutes", [5, 10, 15, 30])
def test_a_canary_shifts_ten_percent_then_the_rest_after_its_interval(minutes):
    assert shifted(f"CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes") == [(0, 10), (minutes, 100)]


@pytest.mark.parametrize(
    ("name", "minutes"),
    [("Every1Minute", 1), ("Every2Minutes", 2), ("Every3Minutes", 3), ("Every10Minutes", 10)],
)
def test_a_linear_config_adds_ten_percent_at_the_start_of_each_interval(name, minutes):
    plan = shifted(f"CodeDeployDefault.LambdaLinear10Percent{name}")
    assert plan == [(i * minutes, 10 * (i + 1)) for i in range(10)]


def test_all_at_once_shifts_everything_immediately():
    assert shifted("CodeDeployDefault.LambdaAllAtOnce") == [(0, 100)]


def test_the_nine_predefined_lambda_configs():
    assert len(configs.PREDEFINED) == 9
    assert all(name.startswith("CodeDeployDefault.Lambda") for name in configs.PREDEFINED)


def test_custom_configs_shift_by_their_own_numbers():
    canary = {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 25, "canaryInterval": 7}}
    linear = {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 30, "linearInterval": 2}}
    assert [(s.after_s, s.percent) for s in configs.shifts(canary)] == [(0, 25), (420, 100)]
    assert [(s.after_s, s.percent) for s in configs.shifts(linear)] == [
        (0, 30),
        (120, 60),
        (240, 90),
        (360, 100),
    ]


@pytest.mark.parametrize(
    "routing",
    [
        {"type": "Blue"},
        {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 100, "canaryInterval": 5}},
        {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 0}},
    ],
)
def test_invalid_routing_is_explained(routing):
    assert configs.validate_routing(routing)


def test_checks_run_every_poll_while_waiting_and_a_halt_stops_the_shifting():
    fake, applied, checks = FakeClock(), [], []

    def check():
        checks.append(fake.now())
        if fake.now() >= 120:
            raise lifecycle.Halt("Stopped", "ALARM_ACTIVE", "alarm", lifecycle.ON_ALARM)

    with pytest.raises(lifecycle.Halt):
        lifecycle.shift_traffic(
            configs.PREDEFINED["CodeDeployDefault.LambdaCanary10Percent5Minutes"],
            fake,
            applied.append,
            check,
            threading.Event(),
        )
    assert applied == [10], "the rest of the traffic never moved"
    # once before the canary shift, then every poll until the alarm at 2 minutes
    assert checks == [0, *(i * lifecycle.POLL_S for i in range(13))]


def test_codedeploy_runs_on_the_stacks_one_clock(monkeypatch):
    monkeypatch.delenv(SCALE_ENV, raising=False)
    assert clock.ScaledClock().scale == DEFAULT_TIME_SCALE
    monkeypatch.setenv(SCALE_ENV, "0.5")
    assert clock.ScaledClock().scale == 0.5


# --- AppSpec ---------------------------------------------------------------------------------------

SPEC = appspec.AppSpec("fn", "live", "1", "2", {"BeforeAllowTraffic": "CodeDeployHook_pre"})


def test_an_appspec_round_trips():
    assert appspec.parse(appspec.render(SPEC)) == SPEC


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[1, 2", "neither YAML nor JSON"),
        ("Resources: []", "exactly one"),
        ('{"Resources": [{"r": {"Type": "AWS::ECS::Service"}}]}', "AWS::Lambda::Function"),
        ('{"Resources": [{"r": {"Type": "AWS::Lambda::Function", "Properties": {"Name": "f"}}}]}', "Alias"),
        (appspec.render(SPEC) + "Hooks: [{BeforeInstall: x}]", "not a Lambda lifecycle event"),
    ],
)
def test_a_bad_appspec_is_an_invalid_revision_naming_the_problem(content, reason):
    with pytest.raises(CodeDeployError, match=reason) as raised:
        appspec.parse(content)
    assert raised.value.code == "InvalidRevisionException"


# --- the deployment record -------------------------------------------------------------------------


def make_deployment() -> Deployment:
    info = {"deploymentId": new_deployment_id(), "status": "Created"}
    return Deployment(info, SPEC, configs.PREDEFINED["CodeDeployDefault.LambdaAllAtOnce"], [], False)


def test_deployment_ids_look_like_codedeploys():
    assert is_deployment_id(new_deployment_id())
    assert not is_deployment_id("d-123") and not is_deployment_id("x-ABCDEFGHI")


def test_a_hook_reports_once_with_succeeded_or_failed():
    deployment = make_deployment()
    execution = deployment.open_hook("BeforeAllowTraffic", "hook")
    for status, code in [("Done", "InvalidLifecycleEventHookExecutionStatusException")]:
        with pytest.raises(CodeDeployError) as raised:
            deployment.put_hook_status(execution, status)
        assert raised.value.code == code
    with pytest.raises(CodeDeployError) as raised:
        deployment.put_hook_status("not-an-execution", "Succeeded")
    assert raised.value.code == "InvalidLifecycleEventHookExecutionIdException"
    deployment.put_hook_status(execution, "Succeeded")
    assert deployment.wake.is_set()
    with pytest.raises(CodeDeployError) as raised:
        deployment.put_hook_status(execution, "Failed")
    assert raised.value.code == "LifecycleEventAlreadyCompletedException"


def test_a_finished_deployment_cannot_be_stopped():
    deployment = make_deployment()
    deployment.finish("Succeeded")
    with pytest.raises(CodeDeployError) as raised:
        deployment.request_stop(None)
    assert raised.value.code == "DeploymentAlreadyCompletedException"
    assert deployment.snapshot()["deploymentOverview"]["Succeeded"] == 1


# --- the API's answers to bad input (no deployment runs here) --------------------------------------


def api() -> CodeDeployService:
    def no_ports(region):
        raise AssertionError("no deployment runs in these tests")

    return CodeDeployService(no_ports, FakeClock())


def error_of(call) -> str:
    with pytest.raises(CodeDeployError) as raised:
        call()
    return raised.value.code


def test_unknown_names_and_ids_are_codedeploys_own_errors():
    cd = api()
    assert (
        error_of(lambda: cd.get_application({"applicationName": "nope"}))
        == "ApplicationDoesNotExistException"
    )
    assert error_of(lambda: cd.get_application({})) == "ApplicationNameRequiredException"
    assert (
        error_of(lambda: cd.get_deployment({"deploymentId": "d-AAAAAAAAA"}))
        == "DeploymentDoesNotExistException"
    )
    assert error_of(lambda: cd.get_deployment({"deploymentId": "123"})) == "InvalidDeploymentIdException"
    assert error_of(lambda: cd.get_deployment({})) == "DeploymentIdRequiredException"
    assert error_of(lambda: cd.get_deployment_config({"deploymentConfigName": "x"})) == (
        "DeploymentConfigDoesNotExistException"
    )
    assert error_of(lambda: cd.dispatch("DeleteEverything", {}, "us-east-1")) == "InvalidActionException"


def test_groups_of_a_lambda_application():
    cd = api()
    cd.create_application({"applicationName": "app", "computePlatform": "Lambda"})
    assert (
        error_of(lambda: cd.create_application({"applicationName": "app"}))
        == "ApplicationAlreadyExistsException"
    )
    group = {"applicationName": "app", "deploymentGroupName": "g"}
    assert error_of(lambda: cd.create_deployment_group(group)) == "RoleRequiredException"
    role = "arn:aws:iam::000000000000:role/cd"
    assert error_of(
        lambda: cd.create_deployment_group({**group, "serviceRoleArn": role, "deploymentConfigName": "nope"})
    ) == ("DeploymentConfigDoesNotExistException")
    cd.create_deployment_group({**group, "serviceRoleArn": role})
    info = cd.get_deployment_group(group)["deploymentGroupInfo"]
    assert info["deploymentConfigName"] == "CodeDeployDefault.LambdaAllAtOnce"
    assert info["deploymentStyle"] == {
        "deploymentType": "BLUE_GREEN",
        "deploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert cd.list_deployment_groups({"applicationName": "app"})["deploymentGroups"] == ["g"]
    assert error_of(
        lambda: cd.create_deployment({**group, "revision": {"revisionType": "S3"}}, "us-east-1")
    ) == ("InvalidRevisionException")
    assert error_of(lambda: cd.create_deployment(group, "us-east-1")) == "RevisionRequiredException"


def test_custom_configs_are_listed_after_the_predefined_ones():
    cd = api()
    routing = {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 50, "linearInterval": 1}}
    cd.create_deployment_config(
        {"deploymentConfigName": "Half", "computePlatform": "Lambda", "trafficRoutingConfig": routing}
    )
    assert cd.list_deployment_configs({})["deploymentConfigsList"][-1] == "Half"
    assert cd.get_deployment_config({"deploymentConfigName": "Half"})["deploymentConfigInfo"][
        "trafficRoutingConfig"
    ] == (routing)
    bad = {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 0, "linearInterval": 1}}
    assert error_of(
        lambda: cd.create_deployment_config(
            {"deploymentConfigName": "Bad", "computePlatform": "Lambda", "trafficRoutingConfig": bad}
        )
    ) == ("InvalidTrafficRoutingConfigurationException")


def test_a_stack_update_reaches_the_aliases_it_deploys_wave_by_wave():
    from ministack.services.cloudformation.engine import _topological_sort

    def resource(kind: str, **properties) -> dict:
        return {"Type": f"AWS::{kind}", "Properties": properties}

    resources = {
        "V1": resource("Lambda::Version"),
        "V2": resource("Lambda::Version"),
        "A1": resource("Lambda::Alias", FunctionVersion={"Fn::GetAtt": ["V1", "Version"]}),
        "A2": resource("Lambda::Alias", FunctionVersion={"Fn::GetAtt": ["V2", "Version"]}),
        # A function naming a state machine that names A1 waits for A1's deployment, and so its alias.
        "Machine": resource("StepFunctions::StateMachine", DefinitionSubstitutions={"P": {"Ref": "A1"}}),
        "F3": resource("Lambda::Function", Environment={"Variables": {"M": {"Ref": "Machine"}}}),
        "V3": resource("Lambda::Version", FunctionName={"Ref": "F3"}),
        "A3": resource("Lambda::Alias", FunctionVersion={"Fn::GetAtt": ["V3", "Version"]}),
        "Permission": resource("Lambda::Permission", FunctionName={"Ref": "A2"}),
    }
    deploying = {"A1", "A2", "A3"}
    walk = _topological_sort(resources, {})
    assert walk == ["V1", "A1", "Machine", "F3", "V2", "A2", "Permission", "V3", "A3"]  # A2 after A1's wait
    waves = alias_batch.waves(walk, resources, deploying)
    assert [waves["A1"], waves["A2"], waves["A3"]] == [0, 0, 1]
    assert alias_batch.together(walk, resources, deploying) == [
        "V1", "V2", "A1", "A2", "Machine", "F3", "Permission", "V3", "A3",
    ]  # fmt: skip
    assert alias_batch.together(walk, resources, set()) == walk
