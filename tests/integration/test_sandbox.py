"""Process mode runs each instance in a sandbox, as Lambda runs each in an execution environment of its
own (issue 24, item 5: an instance was a host process of the owner: ``OPENSSL_CONF`` naming a provider
library ran it as root, and the X-Ray SDK's /tmp/.aws-xray/initialized, in the host's /tmp, let another
local user make the owner truncate any file through a symlink).

Each case asks a probe instance to read, write or list a path, and checks the host side; the symlink is
planted as ``nobody``, as the finding was made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from harness.paths import Paths
from harness.runtime.sandbox import LAMBDA_GID, LAMBDA_UID
from testkit.fixture_functions import invoke
from testkit.outsiders import as_nobody

EROFS = 30  # errno: read-only file system


@pytest.fixture(autouse=True)
def process_mode(local_stack):
    if local_stack.mode == "image":
        pytest.skip("image mode: each instance is a container (its sandbox: test_images.py)")


@pytest.fixture
def probe(lambda_client, make_function):
    """``probe(event)``: the payload of one invoke of a probe function of this test's own."""
    name = make_function()

    def ask(event: dict) -> dict:
        response, payload = invoke(lambda_client, name, event)
        assert "FunctionError" not in response, payload
        return payload

    return ask


def file(probe, op: str, path: Path | str, **extra) -> dict:
    return probe({"action": "file", "op": op, "path": str(path), **extra})


def test_an_instance_runs_as_lambdas_user_without_privileges(probe):
    status = file(probe, "read", "/proc/self/status")["text"]
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["Uid"].split()[:2] == [str(LAMBDA_UID)] * 2
    assert fields["Gid"].split()[:2] == [str(LAMBDA_GID)] * 2
    assert probe({"action": "sandbox"}) == {
        "capabilities": "0000000000000000",
        "no_new_privileges": "1",
        "root_writable": False,
        "tmp_writable": True,
    }


def test_an_instance_cannot_read_the_stacks_state_folder(probe):
    state = Paths.discover().state
    outputs = state / "outputs.json"
    assert outputs.is_file(), "the stack keeps its outputs (and its root credential) there"
    assert file(probe, "read", outputs)["error"] == "FileNotFoundError"
    # Only the way to the instance's own code and packages, when they are kept there
    listing = file(probe, "list", state)
    assert set(listing.get("entries", [])) <= {"build", "code-images"}, listing


def test_an_instance_cannot_read_the_owners_home(probe):
    secret = Path.home() / f".sandbox-test-{uuid.uuid4().hex[:8]}"
    secret.write_text("the owner's")
    try:
        assert file(probe, "read", secret)["error"] == "FileNotFoundError"
    finally:
        secret.unlink()


def test_an_instance_cannot_write_its_code(probe):
    task_root = Path(probe({"action": "env", "keys": ["LAMBDA_TASK_ROOT"]})["LAMBDA_TASK_ROOT"])
    planted = task_root / f"planted_{uuid.uuid4().hex[:8]}.py"
    try:
        assert file(probe, "write", planted, text="print('planted')") == {"error": "OSError", "errno": EROFS}
        assert file(probe, "write", task_root / "app.py")["errno"] == EROFS
    finally:
        planted.unlink(missing_ok=True)
    assert not planted.exists()


def test_an_instances_tmp_is_its_own(probe):
    name = f"sandbox-test-{uuid.uuid4().hex[:8]}"
    inside, outside = Path("/tmp") / f"{name}-inside", Path("/tmp") / f"{name}-outside"
    outside.write_text("the host's")
    try:
        assert file(probe, "write", inside, text="the instance's") == {"written": True}
        assert file(probe, "read", inside) == {"text": "the instance's"}
        assert not inside.exists()
        assert file(probe, "read", outside)["error"] == "FileNotFoundError"
    finally:
        outside.unlink()
        inside.unlink(missing_ok=True)
    mounts = file(probe, "read", "/proc/self/mountinfo")["text"].splitlines()
    tmp = [line.split(" - ")[1].split() for line in mounts if line.split()[4] == "/tmp"]
    assert tmp[-1][0] == "tmpfs" and "size=524288k" in tmp[-1][2].split(","), tmp  # Lambda's 512 MB


def test_a_symlink_another_user_plants_in_the_hosts_tmp_is_not_followed(probe, tmp_path):
    """``nobody`` makes the folder the X-Ray SDK writes into (here under a name of this test's own) and
    links the file the SDK truncates to a file of the owner's."""
    victim = tmp_path / "victim"
    victim.write_text("kept")
    folder = Path("/tmp") / f".aws-xray-{uuid.uuid4().hex[:8]}"
    planted = as_nobody(
        "sh", "-c", 'mkdir "$1" && ln -s "$2" "$1/initialized"', "sh", str(folder), str(victim)
    )
    assert planted.returncode == 0, planted.stderr
    try:
        assert file(probe, "make", folder) == {"made": True}
        assert file(probe, "write", folder / "initialized") == {"written": True}
    finally:
        shutil.rmtree(folder)
    assert victim.read_text() == "kept"


MARKING_LIBRARY = r"""
#include <stdio.h>
__attribute__((constructor)) static void mark(void) {
    FILE *marker = fopen("%s", "w");
    if (marker) { fputs("ran", marker); fclose(marker); }
}
"""

OPENSSL_CONFIG = """openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
marking = marking_sect
[marking_sect]
module = {library}
activate = 1
"""


@pytest.mark.parametrize("variable", ["OPENSSL_CONF", "LD_PRELOAD"])
def test_a_variable_naming_a_library_of_the_host_never_loads_it(
    make_function, lambda_client, tmp_path, variable
):
    """The library's constructor would leave a marker: the function's variables reach only the process
    inside the sandbox (not bwrap), where the host's files are not."""
    assert shutil.which("gcc"), "the machine's gcc builds the library"
    marker, library = tmp_path / "marker", tmp_path / "marking.so"
    (tmp_path / "marking.c").write_text(MARKING_LIBRARY % marker)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", library, tmp_path / "marking.c"], check=True)
    config = tmp_path / "openssl.cnf"
    config.write_text(OPENSSL_CONFIG.format(library=library))
    value = {"OPENSSL_CONF": config, "LD_PRELOAD": library}[variable]
    os.chmod(tmp_path, 0o755)  # nothing but the sandbox keeps the instance from them
    name = make_function(Environment={"Variables": {variable: str(value)}})
    response, payload = invoke(lambda_client, name, {"action": "import", "module": "hashlib"})
    assert not marker.exists()
    assert "FunctionError" not in response, payload
    assert payload == {"imported": "hashlib"}
