"""MiniStack patch ``xray_sampling``: an invocation of a function with active tracing is sampled by X-Ray's
default rule, the first request each second and 5% of the rest, as on AWS.

Upstream marks every one ``Sampled=1``, so Powertools' Tracer records and sends segments for every
invocation, which no deployed function does under the default rule.
"""

from __future__ import annotations

import collections

from harness.emulator.services.xray.sampling import DefaultSamplingRule


def install() -> None:
    from ministack.services import lambda_svc

    trace_id_for_invocation = lambda_svc._xray_trace_id_for_invocation
    rules: collections.defaultdict[str, DefaultSamplingRule] = collections.defaultdict(DefaultSamplingRule)

    def _xray_trace_id_for_invocation(config: dict, inbound_trace_header: str | None = None) -> str | None:
        if inbound_trace_header:  # an upstream service already decided
            return inbound_trace_header
        trace_id = trace_id_for_invocation(config)
        if trace_id is None:
            return None
        sampled = rules[config.get("FunctionName", "")].sampled()
        return trace_id.replace("Sampled=1", f"Sampled={int(sampled)}")

    lambda_svc._xray_trace_id_for_invocation = _xray_trace_id_for_invocation
