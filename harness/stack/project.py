"""The project's stack on a running session: build function packages, deploy, prewarm, write outputs."""

from __future__ import annotations

import hashlib
import json
import re
import string
import time
from collections.abc import Callable
from pathlib import Path

from harness import aws
from harness.console import say
from harness.paths import Paths
from harness.runtime.client import RuntimeClient
from harness.runtime.packaging import requirements_dir
from harness.stack.deploy import (
    DeployResult,
    deploy_stack,
    ensure_bucket,
    function_names,
    package,
)
from harness.template import folder_image_uris, load_template, with_image_uris

STACK_NAME = "order-platform"
ARTIFACTS_BUCKET = "harness-deploy-artifacts"
# API Gateway chooses a REST API's id itself, so its URL changes whenever the API is created again.
# MiniStack (1.5.33) lets the creator choose it with the tag `ms-custom-id` (its issue #400; it refuses
# LocalStack's `ls-custom-id`): a local deploy tags its stack with an id derived from the stack's
# name, CloudFormation passes stack tags on to the REST API it creates, and the API's URL is the same
# after every `harness up` or `reset` (the template, what goes to AWS, is not changed).
API_ID_TAG = "ms-custom-id"
_EXECUTE_API_URL = re.compile(
    r"^https://(?P<api>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com/(?P<rest>.*)$"
)


def build_function_packages(paths: Paths) -> None:
    """Install every function's requirements once, before traffic (process mode's `make images`)."""
    for requirements in sorted(paths.root.glob("functions/*/requirements.txt")):
        requirements_dir(requirements, paths.build, "deps")
    requirements_dir(paths.runtime_requirements, paths.build, "runtime")


def local_url(value: str, endpoint_url: str) -> str:
    """An execute-api URL as the emulator serves it; any other value unchanged."""
    match = _EXECUTE_API_URL.match(value)
    if not match:
        return value
    return f"{endpoint_url}/_aws/execute-api/{match['api']}/{match['rest']}"


def api_id(stack_name: str) -> str:
    """The REST API id of the local stack named ``stack_name``: 10 characters of [a-z0-9], as AWS's."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(
        alphabet[byte % len(alphabet)] for byte in hashlib.sha256(stack_name.encode()).digest()[:10]
    )


def deploy(
    paths: Paths,
    endpoint_url: str,
    runtime: RuntimeClient,
    *,
    template_path: Path | None = None,
    stack_name: str = STACK_NAME,
    parameters: dict[str, str] | None = None,
    image_uris: dict[str, str],
    build_packages: bool = False,
    template_edit: Callable[[dict], dict] | None = None,
) -> DeployResult:
    """Deploy the template with ``image_uris`` (function folder -> reference) as the functions'
    ImageUris; ``build_packages``: process mode installs the function packages first;
    ``template_edit`` deploys a changed copy of it (tests: the template without one permission)."""
    started = time.monotonic()
    template_path = template_path or paths.template
    if build_packages:
        say("building function packages (process mode)")
        build_function_packages(paths)
    s3 = aws.client("s3", endpoint_url)
    ensure_bucket(s3, ARTIFACTS_BUCKET)
    template = load_template(template_path)
    packaged = package(
        template_edit(template) if template_edit else template, template_path.parent, s3, ARTIFACTS_BUCKET
    )
    say("packaging: ImageUri of each function -> its image by content")
    packaged = with_image_uris(packaged, folder_image_uris(packaged, image_uris))
    say(f"deploying {template_path.name} as stack {stack_name}")
    cloudformation = aws.client("cloudformation", endpoint_url)
    outputs = deploy_stack(
        cloudformation, stack_name, packaged, parameters or {}, tags={API_ID_TAG: api_id(stack_name)}
    )
    provision(aws.client("lambda", endpoint_url), function_names(cloudformation, stack_name), runtime)
    result = DeployResult(
        stack_name=stack_name,
        outputs={key: local_url(value, endpoint_url) for key, value in outputs.items()},
        seconds=time.monotonic() - started,
    )
    say(f"stack {stack_name} deployed in {result.seconds:.1f}s")
    return result


def provision(lambda_client, functions: dict[str, str], runtime: RuntimeClient) -> None:
    """Start the instances each alias's provisioned concurrency asks for."""
    entries = []
    for name in functions.values():
        for alias in lambda_client.list_aliases(FunctionName=name)["Aliases"]:
            # Asked per alias: MiniStack's ListProvisionedConcurrencyConfigs finds none.
            try:
                config = lambda_client.get_provisioned_concurrency_config(
                    FunctionName=name, Qualifier=alias["Name"]
                )
            except lambda_client.exceptions.ProvisionedConcurrencyConfigNotFoundException:
                continue
            count = config["RequestedProvisionedConcurrentExecutions"]
            entries.append({"function": name, "version": alias["FunctionVersion"], "count": count})
    if not entries:
        return
    summary = ", ".join(f"{e['function']}:{e['version']} x{e['count']}" for e in entries)
    say(f"starting provisioned instances: {summary}")
    runtime.provision(entries)


def write_outputs(
    paths: Paths,
    result: DeployResult,
    endpoint_url: str,
    runtime: RuntimeClient,
    images: dict[str, str] | None = None,
) -> Path:
    """The outputs file the suites read; ``images`` (image mode) maps repository -> digest reference."""
    document = {
        "mode": "image" if images is not None else "process",
        "images": images or {},
        "stackName": result.stack_name,
        "region": aws.REGION,
        "endpointUrl": endpoint_url,
        "runtimeUrl": runtime.url,
        # The runtime's session secret, for the suites' runtime checks (the state folder is private).
        "runtimeToken": runtime.token,
        # The account root of the stack, for the suites' and benchmarks' clients (harness env prints it).
        "rootCredential": aws.stack_credential(endpoint_url).document(),
        "outputs": result.outputs,
        "functions": function_names(aws.client("cloudformation", endpoint_url), result.stack_name),
    }
    paths.outputs.parent.mkdir(parents=True, exist_ok=True)
    paths.outputs.write_text(json.dumps(document, indent=2) + "\n")
    return paths.outputs
