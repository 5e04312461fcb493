"""Each function's folder is one import root (its image's /var/task): the dev install, mypy and
coverage list every one, and the template's handler of each function is in its folder's package."""

import tomllib

import pytest

from harness.paths import Paths
from harness.template import load_template

ROOT = Paths.discover().root
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FOLDERS = sorted(f"functions/{path.name}" for path in (ROOT / "functions").iterdir() if path.is_dir())


@pytest.mark.parametrize(
    ("setting", "roots"),
    [
        ("setuptools packages.find where", PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"]),
        ("mypy mypy_path", PYPROJECT["tool"]["mypy"]["mypy_path"]),
        ("coverage run source", PYPROJECT["tool"]["coverage"]["run"]["source"]),
    ],
)
def test_every_function_folder_is_an_import_root(setting, roots):
    assert sorted(root for root in roots if root.startswith("functions/")) == FOLDERS, setting


def test_each_functions_handler_is_in_its_own_folders_package():
    for logical_id, resource in load_template(Paths.discover().template)["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        folder = ROOT / "functions" / resource["Metadata"]["DockerBuildArgs"]["FUNCTION"]
        module = resource["Properties"]["ImageConfig"]["Command"][0].rsplit(".", 1)[0]
        package, _, name = module.partition(".")
        assert (folder / package / "__init__.py").is_file() and (folder / package / f"{name}.py").is_file(), (
            logical_id
        )
