"""docs/openapi.json: the orders API's OpenAPI document, generated from the function's code.

``python -m harness.stack.openapi`` rewrites the file; tests/unit/harness/stack/test_openapi.py fails when it
drifts.
The document is produced by the Powertools resolver itself, in a process that sees what the
function's image holds (its packaged dependencies), with placeholder values for its environment.
"""

from __future__ import annotations

import os
import subprocess
import sys

from harness.paths import Paths
from harness.runtime.packaging import requirements_dir
from harness.template import load_template

FUNCTION_ID = "OrdersApiFunction"
FUNCTION_FOLDER = "orders_api"
DOCUMENT = "docs/openapi.json"
_PRINT_SCHEMA = "from order_service.app import app; print(app.get_openapi_json_schema())"


def generate(paths: Paths) -> str:
    source = paths.root / "functions" / FUNCTION_FOLDER
    deps = requirements_dir(source / "requirements.txt", paths.build, "deps")
    runtime = requirements_dir(paths.runtime_requirements, paths.build, "runtime")
    python_path = [source, paths.shared_code, *(path for path in (deps, runtime) if path is not None)]
    variables = load_template(paths.template)["Resources"][FUNCTION_ID]["Properties"]["Environment"][
        "Variables"
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(path) for path in python_path),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **{name: "openapi-generation" for name in variables},
    }
    interpreter = getattr(sys, "_base_executable", sys.executable)
    completed = subprocess.run(
        [interpreter, "-S", "-c", _PRINT_SCHEMA], env=env, cwd=source, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"generating the OpenAPI document failed:\n{completed.stderr[-4000:]}")
    return completed.stdout.rstrip("\n") + "\n"


def main() -> int:
    paths = Paths.discover()
    target = paths.root / DOCUMENT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(generate(paths))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
