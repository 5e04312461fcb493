"""Reading template.yaml: CloudFormation YAML (short-form intrinsics such as ``!Ref``) as plain data."""

from __future__ import annotations

import json
from pathlib import Path

from cfnlint.decode import cfn_yaml


def load_template(path: Path) -> dict:
    return json.loads(json.dumps(cfn_yaml.loads(path.read_text(), str(path))))
