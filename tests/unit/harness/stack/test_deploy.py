import re

from harness.paths import Paths
from harness.stack.project import api_id, local_url
from harness.template import load_template

ROOT = Paths.discover().root


def test_execute_api_urls_become_emulator_urls():
    url = "https://abc123.execute-api.us-east-1.amazonaws.com/v1"
    assert local_url(url, "http://127.0.0.1:4566") == "http://127.0.0.1:4566/_aws/execute-api/abc123/v1"
    assert local_url("order-table", "http://127.0.0.1:4566") == "order-table"


def test_every_function_is_an_image_built_from_its_own_folder():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions
    for logical_id, resource in functions.items():
        properties, metadata = resource["Properties"], resource["Metadata"]
        folder = metadata["DockerBuildArgs"]["FUNCTION"]
        assert properties["PackageType"] == "Image", logical_id
        assert properties["ImageConfig"]["Command"], logical_id
        assert (ROOT / "functions" / folder).is_dir(), logical_id
        assert f"/{folder}:" in properties["ImageUri"]["Fn::Sub"], logical_id
        assert (ROOT / metadata["Dockerfile"]).is_file(), logical_id


def test_a_local_stacks_api_id_depends_on_its_name_alone():
    assert api_id("order-platform") == api_id("order-platform")
    assert re.fullmatch(r"[a-z0-9]{10}", api_id("order-platform"))
    assert api_id("order-platform") != api_id("rehearsal")
