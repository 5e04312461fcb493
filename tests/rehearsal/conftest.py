"""The rehearsals: alarms provoked through the real paths, CodeDeploy deployments and releases, on the
local clock. They test the emulator's services rather than how an instance starts, so `make test` runs
them once (`harness rehearse`), not in every mode; except the releases of real revisions
(test_release.py), which CI runs in both modes, since what a version runs differs between them."""

import pytest

from testkit.revisions import Revisions
from tests.rehearsal.releases import Releaser


@pytest.fixture(scope="module")
def release(local_stack, tmp_path_factory) -> Releaser:
    """A module's releases: real revisions in a scratch repository, promoted into the local stage."""
    revisions = Revisions(tmp_path_factory.mktemp("revisions"), local_stack.mode, local_stack.endpoint_url)
    return Releaser(local_stack, revisions)
