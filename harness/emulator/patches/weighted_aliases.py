"""MiniStack patch ``weighted_aliases``: an alias with ``RoutingConfig.AdditionalVersionWeights`` routes
each invocation by those weights (upstream always runs the primary version).

Every path that resolves an alias routes: Invoke, event source mappings and everything that invokes by
ARN (API Gateway, Step Functions, SNS, S3). The executed version is reported and the alias ARN reaches
the runtime (``invoked_alias_arn``, read by ``proxy_errors``), so metrics can be recorded per alias and
per executed version.
"""

from __future__ import annotations

import contextvars
import random

# The alias ARN of a direct Invoke whose alias routed to a non-primary version.
invoked_alias_arn: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "harness_invoked_alias_arn", default=None
)


def pick_version(alias: dict, draw: float) -> str:
    """The version an invocation of ``alias`` runs, for a uniform ``draw`` in [0, 1)."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    cumulative = 0.0
    for version_name, weight in weights.items():
        cumulative += float(weight)
        if draw < cumulative:
            return str(version_name)
    return alias.get("FunctionVersion", "$LATEST")


def install() -> None:
    from ministack.services import lambda_svc

    def routed(func: dict | None, qualifier: str | None):
        """(record, config) of the version ``qualifier``'s alias routes this call to, or None."""
        func = func or {}
        alias = func.get("aliases", {}).get(qualifier or "")
        if alias is None:
            return None
        chosen = pick_version(alias, random.random())
        record = func if chosen == "$LATEST" else func["versions"].get(chosen)
        if record is None:
            return None
        config = dict(record.get("config") or {})
        config["FunctionArn"] = f"{lambda_svc._func_arn(config['FunctionName'])}:{qualifier}"
        return record, config

    original_ref = lambda_svc._get_func_record_for_ref

    def _get_func_record_for_ref(function_ref: str):
        record, config, name = original_ref(function_ref)
        if record is not None and isinstance(function_ref, str):
            if function_ref.startswith("arn:"):
                _, qualifier = lambda_svc._lambda_function_name_and_qualifier_from_arn(function_ref)
            else:
                _, qualifier = lambda_svc._resolve_name_and_qualifier(function_ref)
            choice = routed(lambda_svc._functions.get(name), qualifier)
            if choice is not None:
                record, config = choice
        return record, config, name

    original_sqs_batch = lambda_svc._run_sqs_batch

    def _run_sqs_batch(esm, func_rec, event, *args):
        choice = routed(lambda_svc._functions.get(esm["FunctionName"]), esm.get("Qualifier"))
        if choice is not None:
            func_rec = lambda_svc._execution_record_for_config(*choice)
        return original_sqs_batch(esm, func_rec, event, *args)

    original_invoke = lambda_svc._invoke

    async def _invoke(name, event, headers, path_qualifier=None, query_params=None):
        qualifier = lambda_svc._qualifier_from_path_or_query(path_qualifier, query_params) or (
            lambda_svc._qp_first(headers, "x-amz-qualifier")
        )
        alias = lambda_svc._functions.get(name, {}).get("aliases", {}).get(qualifier or "")
        if alias is None or not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
            return await original_invoke(name, event, headers, path_qualifier, query_params)
        chosen = pick_version(alias, random.random())
        if chosen == alias.get("FunctionVersion"):
            return await original_invoke(name, event, headers, path_qualifier, query_params)
        token = invoked_alias_arn.set(f"{lambda_svc._func_arn(name)}:{qualifier}")
        try:
            return await original_invoke(name, event, headers, chosen, None)
        finally:
            invoked_alias_arn.reset(token)

    lambda_svc._get_func_record_for_ref = _get_func_record_for_ref
    lambda_svc._run_sqs_batch = _run_sqs_batch
    lambda_svc._invoke = _invoke
