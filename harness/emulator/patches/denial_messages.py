"""MiniStack patch ``denial_messages``: an AccessDenied names the resource, as AWS's does.

AWS words an identity-policy denial ``User: <principal> is not authorized to perform: <action> on
resource: <arn> because no identity-based policy allows the <action> action`` (DynamoDB, SQS, SNS,
Step Functions, Secrets Manager, Lambda alike); upstream leaves out ``on resource: <arn>`` for every
service but IoT, SSM and Logs, so a developer reading a local denial cannot tell which table or queue
the policy misses. Where upstream knows the resource (the generic request path passes it), the message
names it; a denial of an action on ``*`` (no resource) keeps upstream's wording.
"""

from __future__ import annotations


def naming_the_resource(original, identity_denial_message):
    def access_denied_response(service, action, principal_arn, request_id, *args, **kwargs):
        resource_arn = kwargs.get("resource_arn", "*")
        if not kwargs.get("message") and resource_arn != "*" and not kwargs.get("resource_policy_arn"):
            kwargs["message"] = identity_denial_message(
                action, principal_arn, resource_arn, kwargs.get("explicit_deny", False)
            )
        return original(service, action, principal_arn, request_id, *args, **kwargs)

    return access_denied_response


def install() -> None:
    from ministack.core import iam_actions

    iam_actions.access_denied_response = naming_the_resource(
        iam_actions.access_denied_response, iam_actions.identity_denial_message
    )
