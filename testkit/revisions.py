"""Real revisions of the functions' code, for the release rehearsals: a scratch git repository holding
a copy of the checkout's template.yaml, images/ and functions/, where a test commits a change to a
function and pushes the revision into the running stack exactly as `harness push` does (process mode:
code images; image mode: container images built on the stack's own engine), so a promote releases code
that really differs, and fails where that code fails.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.images import engine as docker_engine
from harness.images.mode import ImageMode
from harness.images.process_mode import ProcessMode
from harness.images.project import revision_tag
from harness.paths import Paths
from testkit.orders import CLIENT_TIMEOUT_S

_COPIED = ("template.yaml", "images", "functions")
HEALTH_APP = "functions/health/health_check/app.py"
# How a revision of the health function fails (health_edit's ``fails``):
FAILS_NEVER = ""
# The ``sub`` claim of the traffic hooks' smoke request (HOOK_CALLER of
# functions/codedeploy_hooks/traffic_hooks/app.py, whose import would need AWS credentials).
TRAFFIC_HOOK_CALLER = "codedeploy-hook"
# A bug only real traffic finds: the traffic hooks' smoke request (the hook-only caller of
# functions/codedeploy_hooks) passes, every client call fails. So BeforeAllowTraffic lets the canary
# start, and the first client call the canary routes to the new version trips its alarm, however few
# calls a busy machine makes in the canary's five local seconds.
FAILS_CLIENT_CALLS = "client calls"
# Every call fails, the hook's too: BeforeAllowTraffic stops the deployment before any client meets it.
FAILS_EVERY_CALL = "every call"

_HEALTH_EDIT = """
# release rehearsal: a revision of its own
_rehearsed_handler = handler


def _from_the_traffic_hook(event: dict) -> bool:
    claims = ((event.get("requestContext") or {{}}).get("authorizer") or {{}}).get("claims") or {{}}
    return claims.get("sub") == "{hook_caller}"


def handler(event: dict, context) -> dict:
    fails = "{fails}"
    if fails == "{every_call}" or (fails == "{client_calls}" and not _from_the_traffic_hook(event)):
        raise RuntimeError("a faulty revision")
    answer = _rehearsed_handler(event, context)
    answer["body"] = json.dumps({{**json.loads(answer["body"]), "release": "{marker}"}})
    return answer
"""


def health_edit(marker: str, fails: str = FAILS_NEVER) -> Callable[[str], str]:
    """The edit of HEALTH_APP for a revision answering with ``marker`` (an earlier one's replaced) and
    failing as ``fails`` says (FAILS_*)."""
    if fails not in (FAILS_NEVER, FAILS_CLIENT_CALLS, FAILS_EVERY_CALL):
        raise ValueError(f"fails={fails!r}: one of the FAILS_* values")

    def edit(text: str) -> str:
        return text.split("\n# release rehearsal:", 1)[0] + _HEALTH_EDIT.format(
            marker=marker,
            fails=fails,
            hook_caller=TRAFFIC_HOOK_CALLER,
            client_calls=FAILS_CLIENT_CALLS,
            every_call=FAILS_EVERY_CALL,
        )

    return edit


_GIT_IDENTITY = ["-c", "user.name=release rehearsal", "-c", "user.email=rehearsal@localhost"]


def health_answer(api_url: str) -> tuple[int, dict]:
    """GET /health through the API: (status, body; {} for an error)."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=CLIENT_TIMEOUT_S) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


@contextlib.contextmanager
def health_requests(api_url: str, clients: int = 4) -> Iterator[list[tuple[int, dict]]]:
    """GET /health back to back from ``clients`` threads meanwhile (a canary of the health function
    meets real traffic); yields the (status, body) answers."""
    answers: list[tuple[int, dict]] = []
    stop = threading.Event()

    def ask():
        while not stop.is_set():
            answers.append(health_answer(api_url))

    threads = [threading.Thread(target=ask, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield answers
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


class Revisions:
    def __init__(self, root: Path, mode: str, endpoint_url: str):
        self.root = root
        self.mode = mode
        self.endpoint_url = endpoint_url
        checkout = Paths.discover().root
        root.mkdir(parents=True, exist_ok=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for name in _COPIED:
            source = checkout / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=ignore)
            else:
                shutil.copy2(source, root / name)
        self._git("init", "-q")
        self._git("add", "-A")
        self._git(*_GIT_IDENTITY, "commit", "-q", "-m", "the checkout's functions")

    def commit(self, edits: dict[str, Callable[[str], str]], message: str = "a change") -> str:
        """Apply ``edits`` (a path under the root -> its new text from the old) and commit them; returns
        the revision's tag (what `harness push` tags a committed revision with)."""
        for relative, edit in edits.items():
            path = self.root / relative
            path.write_text(edit(path.read_text()))
        self._git(*_GIT_IDENTITY, "commit", "-q", "-a", "-m", message)
        return revision_tag(self.root)

    def push(self) -> dict[str, str]:
        """Push the committed revision into the stack's ECR; function folder -> image digest."""
        paths = Paths(self.root)
        if self.mode == "image":
            # The stack's engine, found running: building here starts no engine, stopping stops none.
            engine = docker_engine.find_engine(Paths.discover().engine_state)
            assert engine is not None, "image mode without the stack's Docker engine"
            image_mode = ImageMode(paths).prepare(engine=engine)
            try:
                references = image_mode.template_references(image_mode.publish(self.endpoint_url))
            finally:
                image_mode.stop()
        else:
            process_mode = ProcessMode(paths)
            references = process_mode.template_references(process_mode.publish(self.endpoint_url))
        return {folder: reference.split("@", 1)[1] for folder, reference in references.items()}

    def _git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True)
