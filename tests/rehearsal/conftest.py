"""The rehearsals: alarms provoked through the real paths and CodeDeploy deployments, on the local
clock. They test the emulator's services rather than how an instance starts, so `make test` runs them
once (`harness rehearse`), not in every mode."""

from tests.integration.conftest import lambda_client, make_function, runs_table  # noqa: F401 (fixtures)
