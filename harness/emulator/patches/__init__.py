"""Every change this project makes to MiniStack: one module per patch in this folder, one record per patch
here (``PATCHES``), applied in the records' order by ``apply`` in the emulator's process before MiniStack
serves (harness/emulator/run/server.py).

A record names the patch (and so its module: ``harness.emulator.patches.<name>``, whose ``install()``
applies it), its kind, what it changes, the upstream MiniStack names it replaces or wraps (its seams;
harness/emulator/seams.py checks them, and the names the patch's code reads, against the installed
MiniStack, naming the patches an upgrade breaks) and the patches it must run after (it wraps what they
installed). Each patch closes one gap between MiniStack and AWS that the project cannot close from
outside, is written so it could be proposed upstream, and has a test that fails without it
(``HARNESS_DISABLE_PATCHES`` leaves patches out by name: tests/integration/test_ministack_patches.py and
its neighbours start an emulator without one). docs/patches.md is this table, written by
``python -m harness.emulator.patches``.

Imports no patch module by name (``apply`` loads each by its record), so any patch may import another's
helpers.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass
from importlib.metadata import version

from harness.emulator import MINISTACK_VERSION

DISABLE_ENV = "HARNESS_DISABLE_PATCHES"


class Kind(enum.Enum):
    FIDELITY = "fidelity"  # MiniStack answers otherwise than AWS
    SECURITY = "security"  # someone other than the stack's owner could drive or read the stack
    CPU = "CPU"  # same answers as upstream, less work
    TEST_ONLY = "test-only"  # an endpoint for tests; AWS has no such thing


@dataclass(frozen=True)
class Patch:
    name: str  # also the module's name in this package
    kind: Kind
    summary: str  # what upstream does, and what the patch does instead
    replaces: tuple[str, ...]  # upstream names it replaces or wraps: "ministack.<module>:<name>[<key>]"
    after: tuple[str, ...] = ()  # patches whose installed code it wraps, so it is applied after them

    @property
    def module(self) -> str:
        return f"{__name__}.{self.name}"


def upstream(module: str, *names: str) -> tuple[str, ...]:
    """Seams ``names`` of MiniStack's module ``ministack.<module>``."""
    return tuple(f"ministack.{module}:{name}" for name in names)


_ASGI_APP = upstream("app", "app")  # the application MiniStack's server serves, wrapped by each guard
_ON_RESET = upstream("app", "_reset_all_state")  # what /_ministack/reset runs (ministack_reset.py)
_HANDLERS = "services.cloudformation.provisioners"  # CloudFormation's resource handlers

PATCHES = (
    Patch(
        "default_proxy",
        Kind.FIDELITY,
        "only functions carrying MINISTACK_LAMBDA_PROXY_URL go to a proxy; every function is handed to the "
        "project's function runtime, so the template needs no emulator-only variable",
        upstream("services.lambda_svc", "_proxy_url_for"),
    ),
    Patch(
        "proxy_errors",
        Kind.FIDELITY,
        "every proxied failure is Runtime.HandlerError and a 429 is no throttle; function errors keep "
        "their errorType (Step Functions Retry/Catch match), throttles are Lambda.TooManyRequestsException, "
        "the runtime writes the invocation's log, and invocations reuse connections",
        upstream("services.lambda_svc", "_execute_function_proxy", "_throttle_response", "_emit_lambda_logs"),
    ),
    Patch(
        "weighted_aliases",
        Kind.FIDELITY,
        "an alias always runs its primary version; its RoutingConfig weights route every path that "
        "resolves it (Invoke, event source mappings, invocations by ARN)",
        upstream("services.lambda_svc", "_get_func_record_for_ref", "_run_sqs_batch", "_invoke"),
    ),
    Patch(
        "sfn_sns_attributes",
        Kind.FIDELITY,
        "a Step Functions sns:publish task drops its JSON MessageAttributes; they reach the subscribers",
        upstream("services.stepfunctions", "_SERVICE_DISPATCH[arn:aws:states:::sns:publish]"),
    ),
    Patch(
        "xray_sampling",
        Kind.FIDELITY,
        "every traced invocation is Sampled=1; X-Ray's default rule samples (the first each second, 5% of "
        "the rest)",
        upstream("services.lambda_svc", "_xray_trace_id_for_invocation"),
    ),
    Patch(
        "filter_log_events_pages",
        Kind.FIDELITY,
        "FilterLogEvents returns the first 10,000 events and no nextToken; it pages as CloudWatch Logs does "
        "(10,000 events or 1 MB)",
        upstream("services.cloudwatch_logs", "_filter_log_events"),
    ),
    Patch(
        "log_filter_patterns",
        Kind.FIDELITY,
        "filter patterns match terms in any case, a JSON pattern matches everything, any pattern is "
        "accepted; evaluated as CloudWatch Logs defines them, InvalidParameterException for a bad one",
        upstream(
            "services.cloudwatch_logs",
            "_compile_filter_pattern",
            "_subscription_pattern_matches",
            "_filter_log_events",
            "_put_subscription_filter",
            "_put_metric_filter",
            "_start_live_tail",
        ),
        after=("filter_log_events_pages",),
    ),
    Patch(
        "codedeploy",
        Kind.FIDELITY,
        'no CodeDeploy ("Unsupported service"); CodeDeploy for Lambda, its CloudFormation types and the '
        "alias UpdatePolicy (harness/emulator/services/codedeploy/)",
        (
            *upstream("core.router", "SERVICE_PATTERNS"),
            *upstream("app", "SERVICE_HANDLERS"),
            *_ON_RESET,
            *upstream(_HANDLERS, "_RESOURCE_HANDLERS[AWS::Lambda::Alias]"),
            *upstream(
                "services.cloudformation.stacks",
                "_runs_on_worker_thread",
                "_topological_sort",
                "_deploy_stack_async",
                "_roll_back_operation",
            ),
            *upstream("services.cloudformation.handlers", "_deploy_stack_async"),
            *upstream("services.cloudformation.changesets", "_deploy_stack_async"),
        ),
    ),
    Patch(
        "scheduled_rules_clock",
        Kind.FIDELITY,
        "EventBridge rate() rules fire on the real clock; on the stack's local clock (harness/clock.py)",
        upstream("services.eventbridge", "_parse_rate_seconds", "_SCHEDULER_TICK_INTERVAL"),
    ),
    Patch(
        "api_function_errors",
        Kind.FIDELITY,
        "a REST API whose function fails hands the client the whole error payload, stack trace included; "
        'API Gateway\'s 502 {"message": "Internal server error"}',
        upstream("services.apigateway_v1", "_lambda_proxy_response"),
    ),
    Patch(
        "api_payload_limit",
        Kind.FIDELITY,
        "a REST API takes any body size; over 10 MB it answers API Gateway's 413 Request Too Long before "
        "any integration runs",
        upstream("services.apigateway_v1", "handle_execute"),
    ),
    Patch(
        "fault_injection",
        Kind.TEST_ONLY,
        "POST /_harness/faults makes chosen operations (by X-Amz-Target, or s3:GetObject) fail with an AWS "
        "error, or only slow down (delayOnly), on purpose; inert until armed",
        (*_ASGI_APP, *_ON_RESET),
    ),
    Patch(
        "clock_ticks",
        Kind.TEST_ONLY,
        "GET /_harness/clock answers how many ticks the emulator's clock has run",
        _ASGI_APP,
    ),
    Patch(
        "execution_roles",
        Kind.SECURITY,
        "the executor skips the execution role's trust policy; the emulator issues each function's role "
        "credentials as the Lambda service obtains them (trust policy, aws:SourceAccount, aws:SourceArn)",
        (*upstream("core.iam_evaluator", "_trust_principal_matches"), *_ASGI_APP),
    ),
    Patch(
        "loopback_transport",
        Kind.FIDELITY,
        "aws:SecureTransport is false over plain HTTP; a loopback request counts as TLS, so TLS-only "
        "resource policies hold locally",
        upstream("app", "pin_request_origin"),
    ),
    Patch(
        "cloudformation_refs",
        Kind.FIDELITY,
        "Ref of a secret is its name; its ARN, as on AWS, so a policy naming it by Ref grants what it grants "
        "on AWS",
        upstream("services.cloudformation.engine", "_resolve_refs"),
    ),
    Patch(
        "denial_messages",
        Kind.FIDELITY,
        "an AccessDenied leaves out the resource; it names it (... on resource: <arn> because ...)",
        upstream("core.iam_actions", "access_denied_response"),
    ),
    Patch(
        "registry_auth",
        Kind.SECURITY,
        "its ECR registry (/v2/) answers anyone and GetAuthorizationToken one constant password; issued "
        "tokens only, ECR's 401 challenge, browsers refused",
        (*upstream("services.ecr", "_get_authorization_token"), *_ASGI_APP),
    ),
    Patch(
        "loopback_hosts",
        Kind.SECURITY,
        "any Host header is answered and every reply allows any origin (CORS); loopback names only, no CORS "
        "on the control plane",
        _ASGI_APP,
        # Its guard covers the endpoints these add.
        after=("fault_injection", "clock_ticks", "execution_roles", "registry_auth"),
    ),
    Patch(
        "cloudwatch_alarms",
        Kind.FIDELITY,
        "alarms are evaluated on PutMetricData over every dimension; on the emulator's clock over their "
        "exact dimensions, with DatapointsToAlarm, TreatMissingData, state reasons, history and actions",
        upstream("services.cloudwatch", "_evaluate_alarm", "_evaluate_all_alarms", "TWO_WEEKS_SECONDS"),
    ),
    Patch(
        "service_metrics",
        Kind.FIDELITY,
        "no AWS/ApiGateway, AWS/States or AWS/SQS metrics, Lambda metrics counted twice; published as AWS "
        "publishes them (harness/emulator/services/service_metrics/)",
        (
            *upstream("services.apigateway_v1", "handle_execute", "_call_lambda_raw"),
            *upstream("services.stepfunctions", "_emit_execution_status_event"),
            *upstream(
                "services.sqs",
                "_collect_msgs",
                "_act_delete_message",
                "_act_delete_message_batch",
                "_HANDLERS[DeleteMessage]",
                "_HANDLERS[DeleteMessageBatch]",
                "_delete_messages_for_esm",
            ),
            *upstream("services.lambda_svc", "_acquire_execution_slot", "_emit_lambda_metrics"),
        ),
        after=("api_payload_limit",),  # the API's metrics count its 413s
    ),
    Patch(
        "dynamodb_expressions",
        Kind.CPU,
        "every expression is tokenised on every evaluation and each SET deep-copies the item; tokens kept "
        "per expression text, only the assigned values copied",
        upstream("services.dynamodb", "_tokenize", "_apply_set"),
    ),
    Patch(
        "s3_notification_filter",
        Kind.CPU,
        "every write to a bucket with notifications starts a thread and parses the configuration; "
        "unwanted events dropped first, a configuration parsed once",
        upstream("services.s3", "_parse_notification_config_raw", "_fire_s3_event_async"),
    ),
    Patch(
        "xray",
        Kind.FIDELITY,
        'no X-Ray ("Unsupported service"); the API, the daemon\'s UDP protocol and the segments API '
        "Gateway, Lambda and Step Functions record (harness/emulator/services/xray/)",
        (
            *upstream("app", "SERVICE_HANDLERS"),
            *_ON_RESET,
            *upstream("services.apigateway_v1", "handle_execute"),
            *upstream("services.lambda_svc", "_execute_function_proxy"),
            *upstream(_HANDLERS, "_RESOURCE_HANDLERS[AWS::StepFunctions::StateMachine]"),
            *upstream(
                "services.stepfunctions",
                "_create_state_machine",
                "_update_state_machine",
                "handle_request",
                "_start_execution",
                "_describe_execution",
                "_run_execution",
                "_execute_task",
            ),
        ),
        # It wraps the proxy proxy_errors installs, and the API's entry point outside the metrics' wrapper.
        after=("proxy_errors", "service_metrics"),
    ),
    Patch(
        "dynamodb_transactions",
        Kind.CPU,
        "TransactWriteItems applies each Update three times on deep copies and re-serialises the request; "
        "each Update applied once",
        upstream("services.dynamodb", "handle_request", "_transact_write_items"),
    ),
    Patch(
        "dynamodb_threads",
        Kind.FIDELITY,
        "Step Functions' DynamoDB integrations and the TTL reaper write tables from their own threads "
        "while the API's thread reads them (a Query on an index fails with a 500 mid-write); the API and "
        "those writes hold one lock",
        upstream(
            "services.dynamodb",
            "handle_request",
            "_lock",
            "_put_item",
            "_get_item",
            "_delete_item",
            "_update_item",
        ),
        after=("dynamodb_transactions",),
    ),
    Patch(
        "s3_latest_version",
        Kind.CPU,
        "a versioned write clears the latest flag on every version of the key; on the previous latest only",
        upstream("services.s3", "_record_object_version", "_record_delete_marker"),
    ),
    Patch(
        "root_credential",
        Kind.SECURITY,
        "the key test, any account id or no key is root, its signature unchecked; the configured key pair "
        "only, its signature checked like any other key's",
        (
            *upstream(
                "core.iam_evaluator",
                "is_root_access_key",
                "_is_root_key",
                "enforce",
                "pin_signed_request",
                "caller_verified",
            ),
            *upstream("services.sts", "is_root_access_key"),
            *upstream("app", "pin_signed_request"),
        ),
    ),
    Patch(
        "presigned_expiry",
        Kind.SECURITY,
        "a presigned SigV4 request is good for the clock-skew window whatever its X-Amz-Expires; refused "
        "once expired (RequestExpired)",
        upstream("core.iam_evaluator", "authenticate"),
    ),
    Patch(
        "ecr_manifest_digests",
        Kind.FIDELITY,
        "a manifest stored with PutImage cannot be pulled by digest (MANIFEST_UNKNOWN); it can, and a "
        "PutImage naming another digest gets ImageDigestDoesNotMatchException",
        upstream("services.ecr", "_put_image"),
    ),
    Patch(
        "rest_api_overwrite",
        Kind.FIDELITY,
        "a stack update that changes a REST API's OpenAPI Body makes a new API (new id and URL); it "
        "overwrites the same API, as CloudFormation does",
        upstream(_HANDLERS, "_RESOURCE_HANDLERS[AWS::ApiGateway::RestApi][update]"),
    ),
    Patch(
        "control_plane",
        Kind.SECURITY,
        "/_ministack/* (reset, config, queued messages) and /_harness/* answer anyone; the stack's "
        "credential asked for, browsers refused",
        _ASGI_APP,
        after=("loopback_hosts",),  # the outermost guard: it covers every endpoint the patches add
    ),
)

BY_NAME = {patch.name: patch for patch in PATCHES}


def apply(disabled: set[str] | None = None) -> list[str]:
    """Install the patches (all but ``disabled``), in ``PATCHES``' order; return the names installed."""
    installed = version("ministack")
    if installed != MINISTACK_VERSION:
        raise RuntimeError(
            f"harness patches are written for ministack=={MINISTACK_VERSION}, found {installed}: "
            "re-check each patch against the new version before moving the pin "
            "(python -m harness.emulator.seams names the patches it breaks)"
        )
    disabled = disabled or set()
    unknown = disabled - BY_NAME.keys()
    if unknown:
        raise ValueError(f"unknown patch names {sorted(unknown)}; known: {', '.join(BY_NAME)}")
    applied = [patch for patch in PATCHES if patch.name not in disabled]
    for patch in applied:
        importlib.import_module(patch.module).install()
    return [patch.name for patch in applied]


_PAGE = """# MiniStack patches

Every change the harness makes to MiniStack {version}, in the order the emulator applies them.
Generated from the registry, harness/emulator/patches/__init__.py, by
`python -m harness.emulator.patches > docs/patches.md`;
tests/unit/harness/emulator/test_patch_registry.py fails when this page and the registry differ. Each
patch is the module of its name in harness/emulator/patches/; `HARNESS_DISABLE_PATCHES=name,...` leaves
patches out (each one's test starts an emulator without it to show the gap).

Kinds: **fidelity**, MiniStack answers otherwise than AWS; **security**, someone other than the stack's
owner could drive or read the stack; **CPU**, the same answers as upstream for less work;
**test-only**, an endpoint for tests that AWS does not have.

Upgrading MiniStack: install the new version and run `python -m harness.emulator.seams`. It names
each patch whose upstream names the new version lacks: those of the last column, and every name the
patch's code reads. A patch whose names all remain can still need work: its test says.

| patch | kind | what MiniStack does; what the patch does | runs after | upstream names it replaces or wraps |
|---|---|---|---|---|
{rows}
"""


def markdown() -> str:
    """docs/patches.md: the registry as a table."""
    rows = [
        f"| `{patch.name}` | {patch.kind.value} | {patch.summary} | "
        f"{', '.join(f'`{name}`' for name in patch.after)} | "
        f"{', '.join(f'`{_short(seam)}`' for seam in patch.replaces)} |"
        for patch in PATCHES
    ]
    return _PAGE.format(version=MINISTACK_VERSION, rows="\n".join(rows))


def _short(seam: str) -> str:
    """``ministack.services.lambda_svc:_invoke`` as ``lambda_svc._invoke``."""
    module, _, name = seam.partition(":")
    return f"{module.removeprefix('ministack.').removeprefix('services.')}.{name}"
