"""Where a function's handler lives: ``module.function`` of the function's own code, checked before a
process-mode instance starts.

Lambda's runtime client (awslambdaric ``bootstrap._get_handler``) splits the handler at its last dot,
refuses a built-in module, imports the module and takes the function from it. On Lambda that import
may reach the standard library or the runtime, but inside the function's sandbox. A process-mode
instance runs as the stack's owner, so the harness holds the handler to the function's own code (its
folder and the shared code its image carries in /var/task): a module found there, and a name that
module defines (or imports from the function's own code). Anything else is refused with the error the
runtime client gives for a handler it cannot load, and nothing starts.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from harness.runtime.catalog import FunctionCodeNotFound

# How many ``from a import b`` re-exports a handler may pass through (a cycle would never end).
_MAX_REEXPORTS = 8
# One parse at a time: CPython 3.11's AST constructor keeps its recursion depth in per-interpreter state,
# and two threads parsing at once (instances launched side by side) fail one of them with "SystemError:
# AST constructor recursion depth mismatch" (python/cpython#106905): a cold start failing at random.
_PARSING = threading.Lock()


class HandlerNotInCode(FunctionCodeNotFound):
    """The handler names nothing of the function's own code; ``error_type`` is awslambdaric's."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def check_handler(handler: str, code_dirs: Sequence[Path]) -> None:
    """Raise HandlerNotInCode unless ``handler`` is a function of the code under ``code_dirs`` (searched
    in order, as the runtime client's ``sys.path`` is); the errors are awslambdaric's."""
    try:
        module, function = handler.rsplit(".", 1)
    except ValueError as error:
        raise HandlerNotInCode("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}") from None
    if module.split(".")[0] in sys.builtin_module_names:
        raise HandlerNotInCode(
            "Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module} as a handler module"
        )
    dotted = module.replace("/", ".")  # the runtime client takes a path too: dir/app.handler
    if _module_source(dotted, code_dirs) is None:
        raise HandlerNotInCode(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module}': No module named '{module}' in the function's code",
        )
    if not _defines(dotted, function, code_dirs):
        raise HandlerNotInCode(
            "Runtime.HandlerNotFound", f"Handler '{function}' missing on module '{module}'"
        )


def _module_source(module: str, code_dirs: Sequence[Path]) -> Path | None:
    """The file of ``module`` (``a/b.py`` or ``a/b/__init__.py``) in the first code folder holding its
    top-level name; None when it is elsewhere. A name of the standard library always is: the
    interpreter has imported many of them before the handler's module, whatever the folder holds."""
    parts = module.split(".")
    if not all(part.isidentifier() for part in parts) or parts[0] in sys.stdlib_module_names:
        return None
    for root in code_dirs:
        if (root / parts[0]).is_dir() or (root / f"{parts[0]}.py").is_file():
            base = root.joinpath(*parts)
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file() and candidate.resolve().is_relative_to(root.resolve()):
                    return candidate
            return None
    return None


def _defines(module: str, name: str, code_dirs: Sequence[Path]) -> bool:
    """Whether ``module`` of the function's code defines ``name``: the last statement of its top level
    that binds the name is a ``def``, a ``class`` or an assignment, or a ``from ... import`` of it from
    a module of the function's code that defines it."""
    for _ in range(_MAX_REEXPORTS):
        source = _module_source(module, code_dirs)
        if source is None:
            return False
        try:
            with _PARSING:
                tree = ast.parse(source.read_bytes(), str(source))
            statement = _last_binding(tree, name)
        except (SyntaxError, ValueError):
            return True  # the function's own file: the runtime client reports Runtime.UserCodeSyntaxError
        if not isinstance(statement, ast.ImportFrom):
            return statement is not None and not isinstance(statement, ast.Import)
        package = module if source.name == "__init__.py" else module.rpartition(".")[0]
        try:
            module = importlib.util.resolve_name("." * statement.level + (statement.module or ""), package)
        except (ImportError, ValueError):  # beyond the top-level package
            return False
        name = next(alias.name for alias in statement.names if (alias.asname or alias.name) == name)
    return False


def _last_binding(tree: ast.Module, name: str) -> ast.stmt | None:
    """The last statement of the module's top level that binds ``name``."""
    found = None
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = [statement.name]
        elif isinstance(statement, ast.Assign):
            bound = [target.id for target in statement.targets if isinstance(target, ast.Name)]
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            bound = [statement.target.id] if isinstance(statement.target, ast.Name) else []
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            bound = [alias.asname or alias.name.split(".")[0] for alias in statement.names]
        else:
            continue
        if name in bound:
            found = statement
    return found
