"""``harness sync``: changed function code into the running stack in seconds, nothing else touched.

As ``sam sync`` does on AWS, code goes around CloudFormation, through the Lambda API: each function
whose image (by content tag, harness/images/project.py) differs from the one it runs gets
UpdateFunctionCode, then, for a function with an ``AutoPublishAlias``, PublishVersion and UpdateAlias
to that version (aws-sam-cli's ``AliasVersionSyncFlow``; no CodeDeploy canary, as with ``sam sync``).
Data, users, tokens, the API and its URL stay as they are. The runtime sees the new revision and
retires the old instances; the next request runs the new code. ``watch`` does it on every save, for
the functions whose code changed since it started (not those that merely differ from what the stack
runs: a release's digests, say), and ends when its stack stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from harness import aws
from harness.console import say
from harness.images import project as images
from harness.images.mode import ImageMode
from harness.images.process_mode import ProcessMode
from harness.paths import Paths
from harness.stack import project
from harness.template import image_functions, load_template

WATCH_INTERVAL_S = 0.2
UPDATE_TIMEOUT_S = 60


@dataclass(frozen=True)
class StackFunction:
    logical_id: str
    name: str  # physical
    folder: str  # under functions/ (harness/template.py image_functions)
    alias: str | None  # AutoPublishAlias


def deployed_image_functions(paths: Paths, physical_names: dict[str, str]) -> list[StackFunction]:
    """The template's image functions deployed in the stack, with their folders and aliases."""
    template = load_template(paths.template)
    default_alias = ((template.get("Globals") or {}).get("Function") or {}).get("AutoPublishAlias")
    resources = template["Resources"]
    return [
        StackFunction(
            logical_id,
            physical_names[logical_id],
            folder,
            (resources[logical_id].get("Properties") or {}).get("AutoPublishAlias", default_alias),
        )
        for logical_id, folder in image_functions(template).items()
        if logical_id in physical_names
    ]


class CodeSync:
    """Brings the stack's functions to the code under functions/ (image mode: built and pushed)."""

    def __init__(self, paths: Paths, endpoint_url: str, image_mode: ImageMode | None):
        self.paths = paths
        self.endpoint_url = endpoint_url
        self.image_mode = image_mode
        self._lambda = aws.client("lambda", endpoint_url)
        names = project.function_names(aws.client("cloudformation", endpoint_url), project.STACK_NAME)
        self.functions = deployed_image_functions(paths, names)

    def image_uris(self) -> dict[str, str]:
        """Function folder -> the ImageUri of its current code, pushed (image mode: built first)."""
        if self.image_mode is None:
            publisher = ProcessMode(self.paths)
            return publisher.template_references(publisher.publish(self.endpoint_url))
        self.image_mode.build()
        return self.image_mode.template_references(self.image_mode.publish(self.endpoint_url))

    def sync(self, folders: Collection[str] | None = None) -> list[StackFunction]:
        """Update every function (of ``folders`` when given) whose code differs from the code it runs;
        returns them (none: nothing was called)."""
        uris = self.image_uris()
        changed = [
            function
            for function in self.functions
            if function.folder in uris
            and (folders is None or function.folder in folders)
            and self._running_uri(function) != uris[function.folder]
        ]
        for function in changed:
            self._update(function, uris[function.folder])
        return changed

    def _running_uri(self, function: StackFunction) -> str:
        return self._lambda.get_function(FunctionName=function.name)["Code"].get("ImageUri", "")

    def _update(self, function: StackFunction, image_uri: str) -> None:
        self._lambda.update_function_code(FunctionName=function.name, ImageUri=image_uri)
        self._lambda.get_waiter("function_updated_v2").wait(
            FunctionName=function.name, WaiterConfig={"Delay": 0.1, "MaxAttempts": UPDATE_TIMEOUT_S * 10}
        )
        if function.alias:
            version = self._lambda.publish_version(FunctionName=function.name)["Version"]
            # RoutingConfig emptied: a canary left half-way would keep sending traffic to old code.
            self._lambda.update_alias(
                FunctionName=function.name,
                Name=function.alias,
                FunctionVersion=version,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )
        say(f"synced {function.logical_id} ({image_uri.rsplit('/', 1)[-1]})")


def source_fingerprint(folders: list[Path]) -> tuple:
    """(path, size, mtime) of every file under ``folders``: cheap to take, changes on every save."""
    entries = []
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else [folder]:
            if "__pycache__" in path.parts or not path.is_file():
                continue
            stat = path.stat()
            entries.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def code_contents(paths: Paths) -> dict[str, str]:
    """Function folder -> a hash of what its image is built from (its folder, functions/_shared,
    images/Dockerfile): changes exactly when the function's code does."""
    return {
        image.function: images.context_hash(paths.root, image)
        for image in images.project_images(paths, with_fixtures=False)
    }


def watch(
    code_sync: CodeSync,
    on_error: Callable[[Exception], None],
    stack_running: Callable[[], bool],
    interval_s: float = WATCH_INTERVAL_S,
) -> None:
    """On every save under functions/ (or to images/Dockerfile), sync the functions whose code changed
    since the watch started; a failed sync (a syntax error in a build, ...) is reported and tried again
    at the next save. Ends when the stack stops (``harness down``), so that it never reaches the stack
    a later ``harness up`` starts."""
    watched = [code_sync.paths.root / "functions", code_sync.paths.root / "images" / "Dockerfile"]
    # Both taken before the watch says it watches: a save after that line is a change.
    synced, seen = code_contents(code_sync.paths), source_fingerprint(watched)
    say("watching functions/ for changes (Ctrl-C to stop)")
    while stack_running():
        time.sleep(interval_s)  # polling: a stat of each file, no watcher dependency
        current_files = source_fingerprint(watched)
        if current_files == seen:
            continue
        seen, current = current_files, code_contents(code_sync.paths)
        edited = {folder for folder, content in current.items() if synced.get(folder) != content}
        if not edited:
            continue
        try:
            code_sync.sync(edited)
        except Exception as error:  # reported; the next save tries again
            if stack_running():
                on_error(error)
            continue
        synced.update({folder: current[folder] for folder in edited})
    say("the stack stopped (`harness down`): no longer watching")
