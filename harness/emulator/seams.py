"""What each patch needs of MiniStack, and which of it the installed MiniStack lacks.

A patch needs the upstream names its record lists (the names it replaces or wraps) and every upstream
name its code reads or calls: its module's, and for a patch that plugs in a service, the service
package's of the same name (harness/emulator/services/<name>/), and the modules it shares with other
patches (harness/emulator/*.py). Those are found in the source: names
imported from ``ministack`` and attributes of the MiniStack modules it imports (a module passed on keeps
its import's name, ``ddb`` or ``lambda_svc``). Reading the source, not importing it, works on a MiniStack
the patches no longer import with.

``python -m harness.emulator.seams``: which patches the installed MiniStack breaks, and what each lacks;
exit status 1 if any. Run it with a new MiniStack installed before moving the pin.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from importlib.metadata import version
from pathlib import Path

from harness.emulator.patches import PATCHES, Patch

_EMULATOR = Path(__file__).resolve().parent


def code_of(patch: Patch) -> list[Path]:
    """The source files of ``patch``: its module, the service it plugs in (if any), and the modules it
    shares with other patches that these import (harness/emulator/*.py)."""
    service = _EMULATOR / "services" / patch.name
    own = [_EMULATOR / "patches" / f"{patch.name}.py", *sorted(service.rglob("*.py"))]
    shared = {shared for path in own for shared in _shared_modules(ast.parse(path.read_text()))}
    return [*own, *sorted(shared)]


def _shared_modules(tree: ast.Module) -> set[Path]:
    """The harness/emulator/*.py modules ``tree`` imports."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.module == "harness.emulator":
            found |= {_EMULATOR / f"{alias.name}.py" for alias in node.names}
        elif node.module.startswith("harness.emulator."):
            found.add(_EMULATOR / f"{node.module.removeprefix('harness.emulator.')}.py")
    return {path for path in found if path.exists()}


def names_used(source: str) -> set[str]:
    """The upstream names ("ministack.<module>:<name>") the code ``source`` imports or reads."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}  # local name -> the MiniStack module it stands for
    used: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("ministack")
        ):
            for alias in node.names:
                if _is_module(f"{node.module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                else:
                    used.add(f"{node.module}:{alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            used.add(f"{modules[node.value.id]}:{node.attr}")
    return used


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its package is gone: reported by the name's own check
        return False


def seams_of(patch: Patch) -> list[str]:
    """Every upstream name ``patch`` needs: its record's, then its code's."""
    in_code = set().union(*(names_used(path.read_text()) for path in code_of(patch)))
    listed = {seam.split("[")[0] for seam in patch.replaces}  # a listed dict item covers its dict
    return [*patch.replaces, *sorted(in_code - listed)]


def seam_missing(seam: str) -> str | None:
    """Why the installed MiniStack lacks ``seam`` ("ministack.<module>:<name>[<key>]..."), or None."""
    module_name, _, path = seam.partition(":")
    name, *keys = path.split("[")
    try:
        found: object = importlib.import_module(module_name)
    except ImportError:
        return f"no module {module_name}"
    if not hasattr(found, name):
        return f"{module_name} has no {name}"
    found, where = getattr(found, name), f"{module_name}.{name}"
    for key in (key.rstrip("]") for key in keys):
        if not isinstance(found, dict) or key not in found:
            return f"{where} has no key {key!r}"
        found, where = found[key], f"{where}[{key}]"
    return None


def missing_seams() -> dict[str, list[str]]:
    """{patch name: what the installed MiniStack lacks of what it needs}, for each patch that needs work."""
    missing = {
        patch.name: list(dict.fromkeys(why for seam in seams_of(patch) if (why := seam_missing(seam))))
        for patch in PATCHES
    }
    return {name: reasons for name, reasons in missing.items() if reasons}


def main() -> int:
    missing = missing_seams()
    for name, reasons in missing.items():
        print(f"{name}: {'; '.join(reasons)}")
    print(f"ministack {version('ministack')}: {len(missing)} of {len(PATCHES)} patches need work")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
