"""``--apply SIZE``: the chosen MemorySize written into template.yaml, the one description of every
function, as a minimal text edit (comments, order and short-form intrinsics stay as written)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from harness.template import load_template

FUNCTION_TYPE = "AWS::Serverless::Function"
_RESOURCE_INDENT = "  "
_PROPERTY_INDENT = "      "


class TemplateEditError(Exception):
    """The template has no such function, or not in the shape this edit knows."""


def with_memory_size(template_text: str, logical_id: str, memory_mb: int) -> str:
    """``template_text`` with ``logical_id``'s MemorySize set to ``memory_mb`` (a line of its own in its
    Properties, added when the function took the Globals' size)."""
    lines = template_text.splitlines(keepends=True)
    start = next(
        (i for i, line in enumerate(lines) if line.rstrip() == f"{_RESOURCE_INDENT}{logical_id}:"), None
    )
    if start is None:
        raise TemplateEditError(f"no resource {logical_id} in the template")
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].strip() and not lines[i].startswith(_RESOURCE_INDENT + " ")
        ),
        len(lines),
    )
    properties = next((i for i in range(start, end) if lines[i].rstrip() == "    Properties:"), None)
    if properties is None:
        raise TemplateEditError(f"{logical_id} has no Properties block")
    line = f"{_PROPERTY_INDENT}MemorySize: {memory_mb}\n"
    memory = re.compile(rf"^{_PROPERTY_INDENT}MemorySize: *\S+")
    found = next((i for i in range(properties, end) if memory.match(lines[i])), None)
    if found is None:
        lines.insert(properties + 1, line)
    else:
        lines[found] = memory.sub(line.rstrip("\n"), lines[found])
    return "".join(lines)


def apply_memory_size(template: Path, logical_id: str, memory_mb: int) -> str:
    """Write ``memory_mb`` as ``logical_id``'s MemorySize into ``template``; returns the diff."""
    resources = load_template(template).get("Resources") or {}
    if (resources.get(logical_id) or {}).get("Type") != FUNCTION_TYPE:
        functions = sorted(name for name, r in resources.items() if r.get("Type") == FUNCTION_TYPE)
        raise TemplateEditError(
            f"{logical_id} is no function of {template.name} (its functions: {', '.join(functions)})"
        )
    before = template.read_text()
    after = with_memory_size(before, logical_id, memory_mb)
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"a/{template.name}",
            f"b/{template.name}",
        )
    )
    template.write_text(after)
    return diff
