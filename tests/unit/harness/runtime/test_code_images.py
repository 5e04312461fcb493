"""Process mode's code images: packed reproducibly from the files an image's /var/task holds, named
the way image references are."""

import gzip
import io
import os
import tarfile

import pytest

from harness.images.project import FunctionImage, task_files
from harness.paths import Paths
from harness.runtime.code_images import pack, split_image_uri


def test_the_same_code_packs_to_the_same_digest_whatever_the_files_times(tmp_path):
    source = tmp_path / "app.py"
    source.write_text("def handler(event, context):\n    return 1\n")
    first = pack([("app.py", source)], "order-platform/x")
    os.utime(source, (1, 1))
    assert pack([("app.py", source)], "order-platform/x").digest == first.digest
    source.write_text("def handler(event, context):\n    return 2\n")
    assert pack([("app.py", source)], "order-platform/x").digest != first.digest


def test_a_function_s_folder_goes_over_the_shared_code_as_the_dockerfile_copies_them():
    paths = Paths.discover()
    files = dict(task_files(paths.root, FunctionImage("health", "functions", "order-platform/health")))
    assert "health_check/app.py" in files and "requirements.txt" in files
    assert any(name.startswith("orders_domain/") for name in files)  # functions/_shared/
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in files)
    layer = pack(files.items(), "order-platform/health").layer
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as archive:
        members = archive.getmembers()
    assert sorted(member.name for member in members) == sorted(files)
    assert {(member.mtime, member.uid, member.uname) for member in members} == {(0, 0, "")}


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("127.0.0.1:4566/order-platform/health@sha256:ab", ("order-platform/health", "sha256:ab")),
        ("000000000000.dkr.ecr.us-east-1.amazonaws.com/fixtures/probe:local", ("fixtures/probe", "local")),
        ("localhost/a/b", ("a/b", "latest")),
        ("order-platform/health:rev", ("order-platform/health", "rev")),
    ],
)
def test_an_image_uri_names_a_repository_and_a_digest_or_tag(uri, expected):
    assert split_image_uri(uri) == expected
