"""When an idle instance of a version no alias routes to is stopped, and how the runtime learns routing.

Lambda keeps an execution environment "for some time in anticipation of another function invocation",
then shuts it down (Lambda developer guide, "Understanding the Lambda execution environment
lifecycle"); how long is not published. Locally an instance is stopped once it has been idle for
``IDLE_AWS_S`` of AWS time on the stack's clock (harness/clock.py: 5 s at the default 1/60) and its
version is not routed: no alias names it (as its version or in its weights) and it is not ``$LATEST``,
which the unqualified function name invokes. Five minutes is short enough that the versions a
``harness sync --watch`` session leaves behind on each save go within seconds, so the session's memory
stays flat; the routed versions' instances stay warm for the next request.
"""

from __future__ import annotations

import functools
import logging
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from harness import aws, clock

IDLE_AWS_S = 5 * 60
LATEST = "$LATEST"

log = logging.getLogger("harness.runtime")


def idle_retirement_s() -> float:
    """Local seconds an instance of an unrouted version may stay idle."""
    return clock.local_seconds(IDLE_AWS_S)


class Routing(Protocol):
    def routed_versions(self, function_name: str) -> set[str] | None:
        """The versions of the function that traffic can reach without naming them; None when the
        emulator could not say (keep everything)."""
        ...


class AliasRouting:
    """Routing as the Lambda API tells it: ``$LATEST`` and every version an alias names (ListAliases).
    A function that no longer exists has no routed version."""

    def __init__(self, endpoint_url: str | None):
        self.endpoint_url = endpoint_url

    @functools.cached_property
    def _lambda(self):
        return aws.client("lambda", self.endpoint_url)  # on first use, in the thread that reads

    def routed_versions(self, function_name: str) -> set[str] | None:
        routed = {LATEST}
        try:
            for page in self._lambda.get_paginator("list_aliases").paginate(FunctionName=function_name):
                for alias in page["Aliases"]:
                    routed.add(alias["FunctionVersion"])
                    routed.update((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        except self._lambda.exceptions.ResourceNotFoundException:
            return set()
        except (BotoCoreError, ClientError) as error:  # the emulator stopping: keep them, ask next time
            log.warning("cannot read the aliases of %s: %s", function_name, error)
            return None
        return routed
