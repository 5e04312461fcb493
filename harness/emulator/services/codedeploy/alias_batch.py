"""The slow resource updates of one stack operation, run side by side where no dependency orders them, as
CloudFormation runs resources ("CloudFormation creates, updates, and deletes resources in parallel to the
extent possible", DependsOn attribute, CloudFormation User Guide).

MiniStack's engine (``stacks._deploy_stack_async``) walks the resources one after another and
awaits each step. The one step that waits long here is an alias update running a CodeDeploy deployment
(minutes on AWS, a canary's seconds locally), so a promote of six functions ran six canaries in a row.
Without changing the walk, this gives it a parallel walk's outcome. A slow resource's wave is the number
of slow resources chained before it (through Ref, Fn::GetAtt, Fn::Sub, DependsOn): wave 0 depends on
none, wave 1 on some of wave 0 (a state machine between two aliases and a function that names it), ...

- ``together``: the engine's order, wave by wave: everything else that can go before a wave's slow
  resources, then those, one after another;
- ``Batch.take``: the first slow resource of a wave to reach its step starts the slow work of the whole
  wave, each from its properties resolved as the engine resolves them (all in place by then); each
  one's step then takes its own work over and waits for it, so it completes or fails, with its own
  events and reason, as it did alone;
- ``Batch.cancel_untaken``: work whose step never ran (a step before it failed, or the update was
  cancelled) is cancelled before the rollback starts, as CloudFormation cancels updates in progress;
  the engine rolls back the rest.

The events stay the walk's: a resource's UPDATE_IN_PROGRESS is recorded when the walk reaches it, after
the steps before it completed, though its work started with theirs (CreateDeployment's createTime).

What the slow work is (start, cancel) is the caller's: harness/emulator/services/codedeploy/cloudformation.py.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Work = TypeVar("Work")


def together(ordered: list[str], resources: dict, slow: set[str]) -> list[str]:
    """``ordered`` (a topological order of ``resources``) wave by wave, each wave's slow resources last;
    still a topological order, and ``ordered`` itself when nothing is slow."""
    wave = waves(ordered, resources, slow)
    return sorted(ordered, key=lambda name: (wave[name], name in slow))  # stable: the engine's order within


def waves(ordered: list[str], resources: dict, slow: set[str]) -> dict[str, int]:
    """Each resource's wave: the most slow resources one after another among its dependencies, directly
    or not (a slow resource is in the wave it starts in; those depending on it are later)."""
    from ministack.services.cloudformation.engine import _extract_deps

    names = set(ordered)
    wave: dict[str, int] = {}
    for name in ordered:  # a topological order: a resource's dependencies come before it
        dependencies = _extract_deps(resources[name], names) - {name}
        wave[name] = max((wave[d] + (d in slow) for d in dependencies), default=0)
    return wave


class Operation:
    """A stack update in progress: what the engine's step updates a resource with."""

    def __init__(self, stack_name: str, stack_id: str, template: dict, param_values: dict, previous: dict):
        self.stack_name = stack_name
        self.stack_id = stack_id
        self.template = template
        self.param_values = param_values
        self.previous_resources = (previous or {}).get("_resources") or {}

    @functools.cached_property
    def conditions(self) -> dict:
        from ministack.services.cloudformation.engine import _evaluate_conditions

        return _evaluate_conditions(self.template, self.param_values)

    @functools.cached_property
    def ordered(self) -> list[str]:
        """The engine's order of the active resources (``stacks._topological_sort``, as its walk)."""
        from ministack.services.cloudformation import stacks

        return stacks._topological_sort(self.template.get("Resources") or {}, self.conditions)

    def update_props(self, logical_id: str) -> dict | None:
        """The properties the engine's step will hand ``logical_id``'s update handler, resolved as the
        step resolves them, against the resources provisioned so far; None when it calls none (a new
        resource, or one whose properties did not change)."""
        from ministack.services.cloudformation import _stacks, stacks
        from ministack.services.cloudformation.engine import _NO_VALUE

        previous = self.previous_resources.get(logical_id)
        if previous is None:
            return None
        resolved = stacks._resolve_refs(
            copy.deepcopy(self.template["Resources"][logical_id].get("Properties") or {}),
            _stacks[self.stack_name].get("_resources", {}),
            self.param_values,
            self.conditions,
            self.template.get("Mappings", {}),
            self.stack_name,
            self.stack_id,
        )
        props = {key: value for key, value in resolved.items() if value is not _NO_VALUE}
        return None if props == previous.get("Properties") else props


class Batch(Generic[Work]):
    """The slow work of one stack update: ``start(props)`` begins a slow resource's (None: nothing to do),
    ``cancel(works)`` stops work no step took over and undoes it."""

    def __init__(
        self,
        operation: Operation,
        slow: set[str],
        start: Callable[[dict], Work | None],
        cancel: Callable[[list[Work]], None],
    ):
        self.operation = operation
        self._slow = slow
        self._start = start
        self._cancel = cancel
        self._lock = threading.Lock()
        self._begun: set[int] = set()  # the waves whose work was started
        self._started: dict[str, tuple[dict, Work]] = {}  # slow resource -> (the props it started from, work)
        self._taken: set[str] = set()

    def take(self, logical_id: str, props: dict) -> Work | None:
        """The work started for this slow resource's update to ``props``, which its step now owns; None
        when the step is to do the work itself (not slow, taken already, or nothing was started)."""
        with self._lock:
            wave = self._waves.get(logical_id) if logical_id in self._slow else None
            if wave is None or logical_id in self._taken:
                return None
            if wave not in self._begun:
                self._begun.add(wave)
                self._start_wave(wave, logical_id, props)
            self._taken.add(logical_id)
            started = self._started.get(logical_id)
        if started is None:
            return None
        started_props, work = started
        if started_props != props:  # resolved otherwise at its step than ahead of it: it starts again
            self._cancel([work])
            return None
        return work

    def cancel_untaken(self) -> None:
        """Cancel the work no step took over (nothing is cancelled twice)."""
        with self._lock:
            untaken = [work for name, (_, work) in self._started.items() if name not in self._taken]
            self._taken |= set(self._started)
        if untaken:
            self._cancel(untaken)

    @functools.cached_property
    def _waves(self) -> dict[str, int]:
        resources = self.operation.template.get("Resources") or {}
        return waves(self.operation.ordered, resources, self._slow)

    def _start_wave(self, wave: int, taker: str, taker_props: dict) -> None:
        for name in self.operation.ordered:
            if name not in self._slow or self._waves[name] != wave:
                continue
            try:
                props = taker_props if name == taker else self.operation.update_props(name)
                work = self._start(props) if props is not None else None
            except Exception:  # its own step starts it again and reports why it fails
                continue
            if props is not None and work is not None:
                self._started[name] = (props, work)


_current: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("harness_cfn_batch", default=None)


@contextlib.contextmanager
def running(batch: Batch) -> Iterator[Batch]:
    """``batch`` is the running operation's (its steps run on threads that copy this context)."""
    token = _current.set(batch)
    try:
        yield batch
    finally:
        _current.reset(token)


def current(stack_name: str) -> Batch | None:
    """The batch of the operation running on ``stack_name`` here (not a nested stack's parent's)."""
    batch = _current.get()
    return batch if batch is not None and batch.operation.stack_name == stack_name else None
