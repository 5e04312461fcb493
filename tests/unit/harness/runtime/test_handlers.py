"""A handler is a function of the function's own code (runtime/handlers.py), case by case on a folder
laid out as a function's /var/task."""

from __future__ import annotations

import ast
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.runtime.handlers import HandlerNotInCode, check_handler


@pytest.fixture
def code(tmp_path):
    """A function's folder and a shared folder, as the process launcher searches them."""
    own, shared = tmp_path / "own", tmp_path / "shared"
    files = {
        own / "service" / "__init__.py": "from .app import handler as handler\n",
        own / "service" / "app.py": """
            import json
            from os import system
            from shutil import rmtree as tidy
            from settings import load
            from . import helpers

            class Handler:
                pass

            def handler(event, context):
                return json.dumps(event)

            async def async_handler(event, context):
                return None

            wrapped = handler
            annotated: object = handler
            system2 = system
            """,
        own / "service" / "helpers.py": "from service.app import handler as again\n",
        own / "single.py": "def handler(event, context):\n    return 1\n",
        own / "broken.py": "def handler(:\n",
        own / "json.py": "def handler(event, context):\n    return 1\n",
        shared / "settings" / "__init__.py": "def load(kind):\n    return kind\n",
        tmp_path / "outside.py": "def handler(event, context):\n    return 1\n",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (own / "escape.py").symlink_to(tmp_path / "outside.py")
    return [own, shared]


@pytest.mark.parametrize(
    "handler",
    [
        "single.handler",
        "service.app.handler",
        "service/app.handler",  # the runtime client takes a path too
        "service.app.async_handler",
        "service.app.Handler",
        "service.app.wrapped",
        "service.app.annotated",
        "service.handler",  # re-exported by the package from its own module
        "service.helpers.again",  # re-exported by absolute name
        "service.app.load",  # imported from the shared code
        "settings.load",  # the shared code is in /var/task too
        "service.app.system2",  # an assignment of the function's own code: its choice
        "broken.handler",  # the runtime client reports the syntax error
    ],
)
def test_a_function_of_the_functions_own_code_is_its_handler(code, handler):
    check_handler(handler, code)


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("pty.spawn", "Runtime.ImportModuleError", "Unable to import module 'pty': No module named 'pty'"),
        ("json.handler", "Runtime.ImportModuleError", "Unable to import module 'json'"),  # shadowed
        ("outside.handler", "Runtime.ImportModuleError", None),
        ("escape.handler", "Runtime.ImportModuleError", None),  # a link out of the folder
        ("service..app.handler", "Runtime.ImportModuleError", None),
        ("../outside.handler", "Runtime.ImportModuleError", None),
        ("service.app.system", "Runtime.HandlerNotFound", "Handler 'system' missing on module 'service.app'"),
        ("service.app.tidy", "Runtime.HandlerNotFound", None),
        ("service.app.json", "Runtime.HandlerNotFound", None),  # a module of the standard library
        ("service.app.helpers", "Runtime.HandlerNotFound", None),  # a module
        ("service.app.nothing", "Runtime.HandlerNotFound", None),
        ("sys.exit", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
        ("handler", "Runtime.MalformedHandlerName", "Bad handler 'handler': not enough values to unpack"),
    ],
)
def test_anything_else_is_refused_as_the_runtime_client_refuses_a_handler(code, handler, error_type, message):
    with pytest.raises(HandlerNotInCode) as refused:
        check_handler(handler, code)
    assert refused.value.error_type == error_type
    assert message is None or str(refused.value).startswith(message)


def test_instances_launched_side_by_side_parse_their_code_one_at_a_time(code, monkeypatch):
    """CPython 3.11 fails one of two threads parsing at once (python/cpython#106905): the launcher's
    threads take turns."""
    parse, inside, most = ast.parse, [0], [0]
    lock = threading.Lock()

    def watched_parse(*arguments, **options):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)  # long enough for another thread to come in, were it let in
        try:
            return parse(*arguments, **options)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(ast, "parse", watched_parse)
    with ThreadPoolExecutor(4) as threads:
        list(threads.map(lambda _: check_handler("service.handler", code), range(8)))
    assert most[0] == 1
