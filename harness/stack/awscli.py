"""``harness aws ...``: the AWS CLI pointed at the running stack, as ``awslocal`` does.

``--endpoint-url`` and ``--region`` are passed as options, not only as variables: AWS CLI v1 reads
neither ``AWS_ENDPOINT_URL`` nor ``AWS_REGION`` (only ``AWS_DEFAULT_REGION``), v2 reads both; options
work with either version.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from harness import aws
from harness.errors import HarnessError


class AwsCliMissing(HarnessError):
    """No ``aws`` command on the PATH."""


# The shell's own credentials that would otherwise be sent along (a session token, a profile's keys).
_SHELL_CREDENTIALS = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE")


def run(endpoint_url: str, arguments: list[str]) -> int:
    """Run ``aws <arguments>`` against ``endpoint_url`` with the stack's region and root credential."""
    command = shutil.which("aws")
    if command is None:
        raise AwsCliMissing(
            "no `aws` command on the PATH: install the AWS CLI (v1 or v2), or use boto3 with "
            f"AWS_ENDPOINT_URL={endpoint_url}"
        )
    shell = {name: value for name, value in os.environ.items() if name not in _SHELL_CREDENTIALS}
    env = {**shell, **aws.client_environment(endpoint_url)}
    options = ["--endpoint-url", endpoint_url, "--region", aws.REGION]
    return subprocess.run([command, *options, *arguments], env=env).returncode
