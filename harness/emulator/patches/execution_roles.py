"""Execution-role credentials, issued by the emulator the way the Lambda service obtains them on AWS.

On AWS the Lambda service (the principal ``lambda.amazonaws.com``) assumes a function's execution role
and hands the execution environment the session's credentials in ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` ("Lambda execution role", Lambda Developer Guide).
The project's function runtime plays the execution environment, so it asks here::

    POST /_harness/execution-role-credentials   (header X-Harness-Runtime-Token: the session's token)
    {"functionArn": "arn:aws:lambda:...:function:name:version"}

The emulator reads the role from its own record of that function version (never from the caller),
evaluates the role's trust policy for ``lambda.amazonaws.com`` with the confused-deputy keys Lambda
sets (``aws:SourceAccount``, ``aws:SourceArn``), and registers an STS session for the role, valid for
the role's ``MaxSessionDuration``, that MiniStack's IAM evaluator resolves to
``arn:aws:sts::<account>:assumed-role/<role>/<function>``. A role that does not exist or does not
trust Lambda answers 403 with the message AWS gives for such a role. Only the runtime (the holder of
the session token) can ask; the endpoint is local-only (behind ``loopback_hosts``) and not an AWS API.
"""

from __future__ import annotations

import hmac
import json
import time
import urllib.parse

from harness.emulator import runtime_connections
from harness.emulator.asgi_replies import header, read_body, reply

PATH = "/_harness/execution-role-credentials"
TOKEN_HEADER = b"x-harness-runtime-token"
LAMBDA_SERVICE_PRINCIPAL = "lambda.amazonaws.com"
# CreateFunction's answer for such a role (InvalidParameterValueException) is the message AWS gives.
UNASSUMABLE_ROLE = "The role defined for the function cannot be assumed by Lambda."
DEFAULT_MAX_SESSION_S = 3600


def runtime_token(runtime_url: str) -> str:
    """The session token: the last segment of the runtime URL the emulator hands invocations to."""
    return urllib.parse.urlsplit(runtime_url).path.rstrip("/").rsplit("/", 1)[-1]


def is_service_principal(caller: str) -> bool:
    return not caller.startswith("arn:") and caller.endswith(".amazonaws.com")


def service_aware(original):
    """MiniStack's trust-policy principal match, where a service principal matches only ``Service``.

    Upstream knows no service caller (its own service calls use root credentials, which every
    ``Service`` principal lets through); a caller named ``lambda.amazonaws.com`` must match a
    statement that names that service and nothing else."""

    def principal_matches(principal, caller_arn: str, federated: bool) -> bool:
        if not is_service_principal(caller_arn):
            return original(principal, caller_arn, federated)
        if principal == "*":
            return True
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        return caller_arn in ([services] if isinstance(services, str) else services)

    return principal_matches


def issue(function_arn: str) -> tuple[int, dict]:
    """(status, body): the credentials of ``function_arn``'s execution role, or why there are none."""
    from ministack.core.iam_evaluator import EvalContext, evaluate_trust_policy
    from ministack.core.responses import get_account_id, get_region
    from ministack.services import iam as iam_svc
    from ministack.services import lambda_svc
    from ministack.services import sts as sts_svc

    _record, config, name = lambda_svc._get_func_record_for_ref(function_arn)
    if not config:
        return 404, {"message": f"Function not found: {function_arn}"}
    role_arn = config.get("Role", "")
    role = iam_svc._roles.get(role_arn.rsplit("/", 1)[-1]) if ":role/" in role_arn else None
    account = get_account_id()
    if role is None:
        return 403, {"message": f"{UNASSUMABLE_ROLE} Role: {role_arn}"}
    trusted = evaluate_trust_policy(
        role.get("AssumeRolePolicyDocument", "{}"),
        LAMBDA_SERVICE_PRINCIPAL,
        EvalContext(
            principal_arn=LAMBDA_SERVICE_PRINCIPAL,
            principal_type="Service",
            principal_account="",
            action="sts:AssumeRole",
            resource_arn=role_arn,
            region=get_region(),
            service_context={"aws:sourceaccount": account, "aws:sourcearn": config.get("FunctionArn", "")},
        ),
    )
    if not trusted:
        return 403, {"message": f"{UNASSUMABLE_ROLE} Role: {role_arn}"}
    duration = int(role.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_S)
    access_key = sts_svc._gen_session_access_key()
    session = {
        "Arn": f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{name[:64]}",
        "UserId": f"{role.get('RoleId', '')}:{name[:64]}",
        "SecretAccessKey": sts_svc._gen_secret(),
        "SessionToken": sts_svc._gen_session_token(),
        "Expiration": time.time() + duration,
        "AccountId": account,
        "PrincipalType": "AssumedRole",
        "SourcePrincipalArn": LAMBDA_SERVICE_PRINCIPAL,
    }
    sts_svc.register_session(access_key, session)
    return 200, {
        "AccessKeyId": access_key,
        "SecretAccessKey": session["SecretAccessKey"],
        "SessionToken": session["SessionToken"],
        "Expiration": session["Expiration"],
        "RoleArn": role_arn,
    }


def inject(app, runtime_url: str):
    """``app`` (an ASGI application) with the execution-role credentials endpoint."""
    token = runtime_token(runtime_url)

    async def with_execution_roles(scope, receive, send):
        if scope["type"] != "http" or scope.get("path") != PATH:
            return await app(scope, receive, send)
        if not token or not hmac.compare_digest(header(scope, TOKEN_HEADER), token):
            return await reply(send, 403, {"message": "only the stack's function runtime can ask"})
        if scope["method"] != "POST":
            return await reply(send, 405, {"message": "POST"})
        try:
            function_arn = json.loads(await read_body(receive))["functionArn"]
        except (ValueError, KeyError, TypeError):
            return await reply(send, 400, {"message": 'body: {"functionArn": "..."}'})
        status, body = issue(function_arn)
        return await reply(send, status, body)

    return with_execution_roles


def install() -> None:
    from ministack import app as ministack_app
    from ministack.core import iam_evaluator

    iam_evaluator._trust_principal_matches = service_aware(iam_evaluator._trust_principal_matches)
    ministack_app.app = inject(ministack_app.app, runtime_connections.runtime_url())
