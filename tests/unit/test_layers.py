"""The harness's imports flow one way, from the CLI down, and never in a circle (harness/__init__.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "harness"
# Lowest first; a module may import its own layer or any below it.
LAYERS = [
    (
        "harness.console",
        "harness.paths",
        "harness.aws",
        "harness.processes",
        "harness.template",
        "harness.clock",
        "harness.metric_dimensions",
        "harness.filter_patterns",
    ),
    ("harness.runtime",),
    ("harness.images",),
    ("harness.emulator",),
    ("harness.stack",),
    ("harness.release",),
    ("harness.inspect", "harness.tune"),
    ("harness.cli", "harness.commands"),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    for index, members in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    raise AssertionError(f"{module} is in no layer of tests/unit/test_layers.py")


def harness_imports(path: Path) -> set[str]:
    """Every harness module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("harness.")}


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in HARNESS.rglob("*.py")}
    return {
        name: {imported for imported in harness_imports(path) if imported in modules and imported != name}
        for name, path in modules.items()
    }


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"{module} -> {imported}"
        for module, imports in graph().items()
        for imported in imports
        if layer(imported) > layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    imports, state, circles = graph(), {}, []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(imports[module]):
            if state.get(imported) == "open":
                circles.append(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(imports):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize(
    ("source", "imported"),
    [("harness.images.engine", "harness.stack.session"), ("harness.runtime.pool", "harness.cli")],
)
def test_an_upward_import_is_caught(source, imported):
    assert layer(imported) > layer(source)
