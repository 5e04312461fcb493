"""Lambda deployment configurations: the predefined ones and how any config shifts traffic.

Predefined configurations (CodeDeploy User Guide, "Deployment configurations on an AWS Lambda compute
platform"): ``CodeDeployDefault.LambdaCanary10Percent{5,10,15,30}Minutes`` shift 10% first and the rest
after the interval; ``CodeDeployDefault.LambdaLinear10PercentEvery{1,2,3,10}Minute(s)`` shift 10% at the
start of each interval; ``CodeDeployDefault.LambdaAllAtOnce`` shifts everything at once. Custom ones
are ``TimeBasedCanary`` / ``TimeBasedLinear`` / ``AllAtOnce`` with the same meaning (TimeBasedLinear:
"the percentage of traffic that is shifted at the start of each increment").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

PREFIX = "CodeDeployDefault.Lambda"
ALL_AT_ONCE = "AllAtOnce"
CANARY = "TimeBasedCanary"
LINEAR = "TimeBasedLinear"
ROUTING_TYPES = (CANARY, LINEAR, ALL_AT_ONCE)
_ID_NAMESPACE = uuid.UUID("5d2f0c58-8f8e-4b59-9a61-ccde0000c0de")


def _canary(percentage: int, minutes: int) -> dict:
    return {"type": CANARY, "timeBasedCanary": {"canaryPercentage": percentage, "canaryInterval": minutes}}


def _linear(percentage: int, minutes: int) -> dict:
    return {"type": LINEAR, "timeBasedLinear": {"linearPercentage": percentage, "linearInterval": minutes}}


# name -> trafficRoutingConfig, as GetDeploymentConfig answers for them.
PREDEFINED: dict[str, dict] = {
    f"{PREFIX}Canary10Percent5Minutes": _canary(10, 5),
    f"{PREFIX}Canary10Percent10Minutes": _canary(10, 10),
    f"{PREFIX}Canary10Percent15Minutes": _canary(10, 15),
    f"{PREFIX}Canary10Percent30Minutes": _canary(10, 30),
    f"{PREFIX}Linear10PercentEvery1Minute": _linear(10, 1),
    f"{PREFIX}Linear10PercentEvery2Minutes": _linear(10, 2),
    f"{PREFIX}Linear10PercentEvery3Minutes": _linear(10, 3),
    f"{PREFIX}Linear10PercentEvery10Minutes": _linear(10, 10),
    f"{PREFIX}AllAtOnce": {"type": ALL_AT_ONCE},
}


@dataclass(frozen=True)
class Shift:
    """At ``after_s`` AWS seconds from the start of traffic shifting, ``percent`` runs the new version."""

    after_s: float
    percent: int


def config_id(name: str) -> str:
    """A stable id for a predefined configuration (AWS gives each a fixed one)."""
    return str(uuid.uuid5(_ID_NAMESPACE, name))


def validate_routing(routing: dict) -> str | None:
    """Why ``routing`` (a trafficRoutingConfig) is invalid, or None."""
    kind = routing.get("type")
    if kind not in ROUTING_TYPES:
        return f"trafficRoutingConfig.type must be one of {', '.join(ROUTING_TYPES)}, got {kind!r}"
    if kind == ALL_AT_ONCE:
        return None
    key, fields = (
        ("timeBasedCanary", ("canaryPercentage", "canaryInterval"))
        if kind == CANARY
        else ("timeBasedLinear", ("linearPercentage", "linearInterval"))
    )
    settings = routing.get(key) or {}
    percentage, interval = (settings.get(field) for field in fields)
    if not isinstance(percentage, int) or not 1 <= percentage <= 99:
        return f"{key}.{fields[0]} must be an integer from 1 to 99, got {percentage!r}"
    if not isinstance(interval, int) or interval < 1:
        return f"{key}.{fields[1]} must be a positive number of minutes, got {interval!r}"
    return None


def shifts(routing: dict) -> list[Shift]:
    """The traffic shifts ``routing`` makes, in order; the last one is always 100%."""
    kind = routing["type"]
    if kind == ALL_AT_ONCE:
        return [Shift(0, 100)]
    if kind == CANARY:
        canary = routing["timeBasedCanary"]
        return [Shift(0, canary["canaryPercentage"]), Shift(canary["canaryInterval"] * 60, 100)]
    linear = routing["timeBasedLinear"]
    step, interval_s = linear["linearPercentage"], linear["linearInterval"] * 60
    plan, percent, after_s = [], step, 0
    while percent < 100:
        plan.append(Shift(after_s, percent))
        percent, after_s = percent + step, after_s + interval_s
    plan.append(Shift(after_s, 100))
    return plan
