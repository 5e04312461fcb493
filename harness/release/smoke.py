"""Post-deployment tests: the smoke subset of the suites (tests/smoke) against the stage's own API, after
traffic has shifted. They run as a separate pytest, the way a deployer would run them, and only count
as passed when every test ran and passed (a skip proves nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from harness import aws
from harness.console import say
from harness.release.stages import Stage
from harness.stack.current import OUTPUTS_ENV


def run_smoke_tests(root: Path, stage: Stage) -> bool:
    env = {**os.environ, "HARNESS_STACK_NAME": stage.stack_name}
    env.pop(OUTPUTS_ENV, None)  # the stage's stack, never a run's outputs file
    if stage.is_local:
        assert stage.endpoint_url is not None
        target = ["--emulator", "url", "--emulator-url", stage.endpoint_url]
        env.update(aws.client_environment(stage.endpoint_url))  # the stack's root credential
    else:
        target = ["--emulator", "aws"]
        env.update(
            {k: v for k, v in (("AWS_PROFILE", stage.profile), ("AWS_DEFAULT_REGION", stage.region)) if v}
        )
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "smoke.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *target]
        say(f"smoke tests against {stage.describe()}")
        code = subprocess.run([*command, f"--junitxml={report}", "tests/smoke"], cwd=root, env=env).returncode
        suite = ElementTree.parse(report).getroot() if report.exists() else None
    if suite is None:
        return False
    counts = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert counts is not None
    ran, skipped = int(counts.get("tests", 0)), int(counts.get("skipped", 0))
    return code == 0 and ran > 0 and skipped == 0
