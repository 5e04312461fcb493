"""Image mode: what the function images hold, and containers cleaned up after a failed init.

Runs only when the suite runs on images (``harness test --mode image``); process mode skips it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import aws
from harness.images import engine as docker_engine
from harness.images.project import (
    BUILD_CONTEXT_LABEL,
    REPOSITORY_PREFIX,
    SOURCE_LABEL,
    context_hash,
    project_images,
)
from harness.paths import Paths
from harness.runtime.launchers import FUNCTION_LABEL
from harness.template import image_functions, load_template
from testkit.fixture_functions import create_image_function, invoke
from testkit.polling import wait_for

DEV_PACKAGES = ("pytest", "_pytest", "ruff", "hypothesis", "pip", "setuptools", "tests", "conftest.py")


def handler_entry(repository: str) -> str:
    """The /var/task entry holding the handler Lambda runs: the package of the template's
    ImageConfig.Command for a function of the project, app.py (the image's CMD) for a test fixture."""
    if not repository.startswith(f"{REPOSITORY_PREFIX}/"):
        return "app.py"
    folder = repository.rsplit("/", 1)[-1]
    template = load_template(Paths.discover().template)
    for logical_id, function_folder in image_functions(template).items():
        if function_folder == folder:
            return template["Resources"][logical_id]["Properties"]["ImageConfig"]["Command"][0].split(".", 1)[
                0
            ]
    raise AssertionError(f"no function of the template builds {repository}")


@pytest.fixture(scope="module")
def docker(local_stack):
    if local_stack.mode != "image":
        pytest.skip("the stack runs functions as processes (image mode only)")
    engine = docker_engine.find_engine(Paths.discover().engine_state)
    assert engine is not None, "image mode without a reachable Docker engine"
    return engine.client()


def test_every_function_image_honours_the_lambda_contract(local_stack, docker):
    assert any(repository.startswith("order-platform/") for repository in local_stack.images)
    paths = Paths.discover()
    build_contexts = {image.repository: context_hash(paths.root, image) for image in project_images(paths)}
    for repository, reference in local_stack.images.items():
        image = docker.images.get(reference)
        config = image.attrs["Config"]
        assert config["Entrypoint"] == ["/lambda-entrypoint.sh"], repository
        assert config["Cmd"] == ["app.handler"], repository
        assert config["WorkingDir"] == "/var/task", repository
        assert "LAMBDA_TASK_ROOT=/var/task" in config["Env"], repository
        assert "LAMBDA_RUNTIME_DIR=/var/runtime" in config["Env"], repository
        assert config["Labels"][SOURCE_LABEL].startswith("http"), repository
        assert config["Labels"][BUILD_CONTEXT_LABEL] == build_contexts[repository], repository
        assert reference.split("@", 1)[1] in " ".join(image.attrs["RepoDigests"]), repository


def test_every_image_is_in_the_emulators_ecr_with_immutable_tags_and_scan_on_push(local_stack, docker):
    ecr = local_stack.client("ecr")
    for repository, reference in local_stack.images.items():
        described = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
        assert described["imageTagMutability"] == "IMMUTABLE"
        assert described["imageScanningConfiguration"] == {"scanOnPush": True}
        digests = {image["imageDigest"] for image in ecr.list_images(repositoryName=repository)["imageIds"]}
        assert reference.split("@", 1)[1] in digests, (repository, digests)


def test_task_root_holds_no_test_or_dev_packages(local_stack, docker):
    for repository, reference in local_stack.images.items():
        listing = docker.containers.run(
            reference, entrypoint=["ls", "-1", "/var/task"], network_mode="host", remove=True
        ).decode()
        entries = set(listing.split())
        assert handler_entry(repository) in entries, (repository, entries)
        assert not {entry for entry in entries if entry.split("-")[0] in DEV_PACKAGES}, (repository, entries)


def test_broken_import_reports_import_module_error_and_leaves_no_container(
    local_stack, docker, lambda_client, make_function
):
    name = make_function("broken_import")
    response, payload = invoke(lambda_client, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_does_not_exist" in payload["errorMessage"]

    def containers_left():
        return docker.containers.list(all=True, filters={"label": f"{FUNCTION_LABEL}={name}"})

    wait_for(lambda: not containers_left(), what=f"the containers of {name} to be removed")


def test_memory_size_is_the_containers_limit(local_stack, docker, lambda_client, make_function):
    name = make_function(MemorySize=128)
    _, payload = invoke(lambda_client, name, {"action": "allocate", "mb": 16})
    assert payload == {"allocated_mb": 16}
    _, payload = invoke(lambda_client, name, {"action": "allocate", "mb": 256})
    assert payload["errorType"] == "Runtime.ExitError", payload  # killed by the kernel's OOM killer
    _, payload = invoke(lambda_client, name, {"action": "allocate", "mb": 16})
    assert payload == {"allocated_mb": 16}  # a new instance takes over


def test_an_instance_weighs_its_own_cpu_share_against_the_machines_processes(
    local_stack, docker, lambda_client, make_function
):
    """Its container's control group is its own at the root (not one the engine's instances share),
    weighted by its memory's share of a vCPU."""
    if docker.info()["CgroupDriver"] != "cgroupfs":
        pytest.skip("the systemd cgroup driver: Docker places the containers")
    name = make_function(MemorySize=512)
    invoke(lambda_client, name, {"action": "echo", "value": 1})
    [container] = docker.containers.list(filters={"label": f"{FUNCTION_LABEL}={name}"})
    cpu_group = next(
        line.rsplit(":", 1)[1]
        for line in Path(f"/proc/{container.attrs['State']['Pid']}/cgroup").read_text().splitlines()
        if "cpu" in line.split(":")[1].split(",")
    )
    assert cpu_group == f"/{container.id}"
    shares = Path(f"/sys/fs/cgroup/cpu{cpu_group}/cpu.shares")
    if shares.exists():  # cgroup v1 (v2 keeps cpu.weight, converted from the same shares)
        assert int(shares.read_text()) == 296  # 1,024 x 512 MB / 1,769 MB (a vCPU's memory)


def test_an_image_the_engine_lacks_is_pulled_from_the_registry(
    local_stack, docker, lambda_client, make_function
):
    reference = local_stack.images["fixtures/probe"]
    docker.images.remove(reference)  # only this name: the image's layers stay, the registry has it
    name = make_function()
    _, payload = invoke(lambda_client, name, {"action": "echo", "value": "pulled"})
    assert payload["echo"] == "pulled"
    assert docker.images.get(reference).id


def test_an_instance_runs_in_lambdas_sandbox(local_stack, docker, lambda_client, make_function):
    _, payload = invoke(lambda_client, make_function(), {"action": "sandbox"})
    assert payload == {
        "capabilities": "0000000000000000",
        "no_new_privileges": "1",
        "root_writable": False,
        "tmp_writable": True,
    }


def test_an_image_outside_the_stacks_registry_never_runs(local_stack, docker, lambda_client):
    foreign = f"{aws.ACCOUNT_ID}.dkr.ecr.{aws.REGION}.amazonaws.com/fixtures/probe:latest"
    name = create_image_function(lambda_client, "foreign-image", foreign)
    try:
        response, payload = invoke(lambda_client, name, {"action": "echo"})
    finally:
        lambda_client.delete_function(FunctionName=name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.InvalidEntrypoint"
    assert "not in the stack's registry" in payload["errorMessage"]
