"""A stage: where a release goes. The same boto3 calls reach the emulator or AWS; only the endpoint and
credentials differ (``endpoint_url`` None means AWS with the default credential chain or a profile)."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config

from harness import aws
from harness.images.project import REPOSITORY_PREFIX, emulator_registry
from harness.stack.project import STACK_NAME

LOCAL = "local"
# The parameter holding a stage's release records; its SSM version history is the release history.
RECORD_PARAMETER = "/order-platform/releases/{stack}"


@dataclass(frozen=True)
class Stage:
    name: str
    stack_name: str
    endpoint_url: str | None = None  # None: AWS
    region: str | None = None
    profile: str | None = None

    @classmethod
    def local(cls, name: str, endpoint_url: str) -> Stage:
        """``local`` is the harness's stack; any other name a stack of its own in the same emulator."""
        stack = STACK_NAME if name == LOCAL else f"{STACK_NAME}-{name}"
        return cls(name, stack, endpoint_url)

    @classmethod
    def on_aws(cls, stack_name: str, region: str | None, profile: str | None) -> Stage:
        return cls(stack_name, stack_name, None, region, profile)

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    @property
    def record_parameter(self) -> str:
        return RECORD_PARAMETER.format(stack=self.stack_name)

    def client(self, service: str):
        if self.is_local:
            return aws.client(service, self.endpoint_url)
        session = boto3.Session(profile_name=self.profile, region_name=self.region)
        return session.client(service, config=Config(retries={"max_attempts": 5, "mode": "standard"}))

    def image_uri(self, repository_uri: str, digest: str) -> str:
        """``registry/repository@digest``. The emulator answers repositoryUri with AWS's host name but
        serves the registry on its own port, which is where the function runtime pulls from."""
        if self.is_local:
            assert self.endpoint_url is not None
            repository = repository_uri.split("/", 1)[1]
            return f"{emulator_registry(self.endpoint_url)}/{repository}@{digest}"
        return f"{repository_uri}@{digest}"

    def describe(self) -> str:
        where = self.endpoint_url or f"AWS {self.region or '(default region)'}"
        return f"stage {self.name} (stack {self.stack_name}, {where})"


def repository_for(function_folder: str) -> str:
    return f"{REPOSITORY_PREFIX}/{function_folder}"
