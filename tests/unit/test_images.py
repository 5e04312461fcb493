"""Pure parts of image mode: which images exist, how the template is packaged, tags, CPU quotas."""

from __future__ import annotations

import subprocess

from harness.images.project import project_images, revision_tag, template_functions
from harness.paths import Paths
from harness.runtime.catalog import image_code_name
from harness.runtime.launchers import CPU_PERIOD_US, cpu_quota_us
from harness.stack.deploy import with_image_uris
from harness.template import load_template

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
    packaged = with_image_uris(template, {"health": reference})
    assert packaged["Resources"]["HealthFunction"]["Properties"]["ImageUri"] == reference
    assert template["Resources"]["HealthFunction"]["Properties"]["ImageUri"] != reference  # a copy


def test_a_digest_reference_with_a_registry_port_still_names_the_function_folder():
    assert image_code_name("127.0.0.1:4566/fixtures/probe@sha256:" + "b" * 64) == "probe"


def test_revision_tag_is_the_git_revision_marked_dirty_when_the_tree_changed(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a").write_text("1")
    git("add", "a")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    clean = revision_tag(tmp_path)
    assert len(clean) == 12 and "-" not in clean
    (tmp_path / "a").write_text("2")
    assert revision_tag(tmp_path) == clean + "-dirty"


def test_cpu_quota_is_the_memory_share_of_one_vcpu_with_dockers_minimum():
    assert cpu_quota_us(1769) == CPU_PERIOD_US
    assert cpu_quota_us(3538) == 2 * CPU_PERIOD_US
    assert cpu_quota_us(128) == 1447
    assert cpu_quota_us(16) == 1000
