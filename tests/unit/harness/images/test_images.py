"""Pure parts of image mode: which images exist, how the template is packaged, tags, CPU quotas."""

from __future__ import annotations

import subprocess

from harness.images.project import (
    FunctionImage,
    content_tags,
    project_images,
    revision_tag,
    template_functions,
)
from harness.paths import Paths
from harness.runtime.catalog import image_code_name
from harness.runtime.launchers import CPU_PERIOD_US, cpu_quota_us
from harness.template import folder_image_uris, image_functions, load_template, with_image_uris

ROOT = Paths.discover().root


def test_every_template_function_has_an_image_and_fixtures_have_their_own_repositories():
    functions = template_functions(ROOT / "template.yaml")
    assert "health" in functions
    repositories = {image.repository for image in project_images(Paths(ROOT))}
    assert {f"order-platform/{name}" for name in functions} <= repositories
    assert {"fixtures/probe", "fixtures/broken_import"} <= repositories


def test_packaging_replaces_each_image_uri_by_its_digest_reference():
    template = load_template(ROOT / "template.yaml")
    reference = "127.0.0.1:4566/order-platform/health@sha256:" + "a" * 64
    packaged = with_image_uris(template, folder_image_uris(template, {"health": reference}))
    assert packaged["Resources"]["HealthFunction"]["Properties"]["ImageUri"] == reference
    assert packaged["Resources"]["PaymentFunction"] == template["Resources"]["PaymentFunction"]
    assert template["Resources"]["HealthFunction"]["Properties"]["ImageUri"] != reference  # a copy


def test_image_functions_name_each_functions_folder_and_two_functions_may_share_one():
    functions = image_functions(load_template(ROOT / "template.yaml"))
    assert functions["HealthFunction"] == "health" and functions["OrdersApiFunction"] == "orders_api"
    hooks = [logical_id for logical_id, folder in functions.items() if folder == "codedeploy_hooks"]
    assert len(hooks) == 2
    assert template_functions(ROOT / "template.yaml").count("codedeploy_hooks") == 1


def test_a_digest_reference_with_a_registry_port_still_names_the_function_folder():
    assert image_code_name("127.0.0.1:4566/fixtures/probe@sha256:" + "b" * 64) == "probe"


def _project_repository(root):
    """A git work tree holding two functions, the shared code and the Dockerfile, committed."""

    def git(*args):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    for relative in (
        "images/Dockerfile",
        "functions/_shared/models.py",
        "functions/a/app.py",
        "functions/b/app.py",
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(relative)
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return [FunctionImage(name, "functions", f"order-platform/{name}") for name in ("a", "b")]


def test_content_tags_are_the_revision_until_a_functions_build_context_changes(tmp_path):
    a, b = _project_repository(tmp_path)
    clean = content_tags(tmp_path, [a, b])
    revision = revision_tag(tmp_path)
    assert len(revision) == 12 and clean == {a.repository: revision, b.repository: revision}

    (tmp_path / "functions" / "a" / "app.py").write_text("changed")
    (tmp_path / "functions" / "a" / "__pycache__").mkdir()
    (tmp_path / "functions" / "a" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"compiled")
    first = content_tags(tmp_path, [a, b])
    assert first[b.repository] == revision  # an unchanged function keeps its tag: nothing to rebuild
    assert first[a.repository].startswith(revision + "-dirty-") and len(first[a.repository]) == 12 + 7 + 12

    (tmp_path / "functions" / "a" / "app.py").write_text("changed again")
    second = content_tags(tmp_path, [a, b])
    assert second[a.repository] != first[a.repository]  # each change is a new immutable tag
    (tmp_path / "functions" / "a" / "app.py").write_text("changed")
    assert content_tags(tmp_path, [a, b]) == first  # the tag is the content's, not the moment's

    (tmp_path / "functions" / "_shared" / "new.py").write_text("shared by all")
    shared = content_tags(tmp_path, [a, b])
    assert shared[b.repository].startswith(revision + "-dirty-")  # every image carries _shared


def test_cpu_quota_is_the_memory_share_of_one_vcpu_with_dockers_minimum():
    assert cpu_quota_us(1769) == CPU_PERIOD_US
    assert cpu_quota_us(3538) == 2 * CPU_PERIOD_US
    assert cpu_quota_us(128) == 1447
    assert cpu_quota_us(16) == 1000
