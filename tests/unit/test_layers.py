"""The harness's imports flow one way, from the CLI down, and never in a circle (harness/__init__.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "harness"
# Lowest first; a module may import its own layer or any below it. A module is in the layer of the longest
# name that it is or lies under.
LAYERS = [
    (
        "harness.console",
        "harness.errors",
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
    # The emulator's own rooms: the Emulator face, the pinned version and what patches and services share;
    # the services MiniStack lacks; the patches that plug them and every other change into MiniStack; the
    # ways to run it.
    ("harness.emulator",),
    ("harness.emulator.services",),
    ("harness.emulator.patches", "harness.emulator.seams"),
    ("harness.emulator.run",),
    ("harness.stack",),
    ("harness.release",),
    ("harness.inspect", "harness.tune"),
    ("harness.cli", "harness.commands"),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    under = [
        (len(member), index)
        for index, members in enumerate(LAYERS)
        for member in members
        if module == member or module.startswith(member + ".")
    ]
    assert under, f"{module} is in no layer of tests/unit/test_layers.py"
    return max(under)[1]


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
    [
        ("harness.images.engine", "harness.stack.servers"),
        ("harness.runtime.pool", "harness.cli"),
        ("harness.emulator.services.xray.store", "harness.emulator.patches.xray"),
        ("harness.emulator.emulator_clock", "harness.emulator.services.service_metrics"),
    ],
)
def test_an_upward_import_is_caught(source, imported):
    assert layer(imported) > layer(source)
