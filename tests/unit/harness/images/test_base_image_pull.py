"""A base image that cannot be pulled is tried once and remembered, then said in one FALLBACK line."""

from __future__ import annotations

import docker.errors

from harness.images import base
from harness.paths import Paths

REFERENCE = "public.ecr.aws/lambda/python:3.13"
EXPLANATION = (
    'Get "https://public.ecr.aws/v2/": dial tcp: lookup public.ecr.aws on 10.0.0.53:53: no such host'
)


class UnreachableRegistry:
    """The docker SDK's images API where no registry answers: each pull fails as the engine says."""

    def __init__(self):
        self.images = self
        self.pulls = 0

    def pull(self, reference):
        self.pulls += 1
        raise docker.errors.APIError("500 Server Error", explanation=EXPLANATION)


def test_a_failed_pull_is_tried_once_then_remembered(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("BASE_IMAGE_PULL", raising=False)
    paths, client = Paths(tmp_path), UnreachableRegistry()
    first = base.pull_failure(paths, client, REFERENCE)
    assert first == "lookup public.ecr.aws on 10.0.0.53:53: no such host"
    second = base.pull_failure(paths, client, REFERENCE)
    assert client.pulls == 1 and second.startswith(first) and "remembered in" in second
    assert "500 Server Error" not in capsys.readouterr().err

    monkeypatch.setenv("BASE_IMAGE_PULL", "always")
    base.pull_failure(paths, client, REFERENCE)
    assert client.pulls == 2
    monkeypatch.setenv("BASE_IMAGE_PULL", "never")
    assert base.pull_failure(paths, client, REFERENCE) == "BASE_IMAGE_PULL=never" and client.pulls == 2
