"""MiniStack patch ``rest_api_overwrite``: a stack update that changes a REST API's OpenAPI ``Body``
changes that API, as CloudFormation does on AWS.

On AWS the update puts the new definition into the same API (PutRestApi with ``mode=overwrite``: its
resources, methods and authorizers become the definition's; its id, stages and deployments stay), so
its URL does not change; the Body is no replacement property of AWS::ApiGateway::RestApi. MiniStack
(``_apigw_rest_api_update``) creates a new API and deletes the old one instead: a new id, a new
URL, whenever a template's routes change; and when the API's id is chosen with MiniStack's
``ms-custom-id`` tag (as a local deploy does, harness/stack/project.py), the new API asks for the id
the old one still holds and the update fails.
"""

from __future__ import annotations

from ministack.services import apigateway_v1
from ministack.services.cloudformation import provisioners

_REST_API = "AWS::ApiGateway::RestApi"


def overwrite(api_id: str, definition: dict) -> None:
    """PutRestApi ``mode=overwrite`` of an OpenAPI ``definition`` into the existing API ``api_id``:
    every resource but the root removed, every method and authorizer, then the definition's imported
    as upstream's ImportRestApi imports them (``_import_rest_api``)."""
    resources = apigateway_v1._resources[api_id]
    root = next(resource for resource in resources.values() if resource["path"] == "/")
    resources.clear()
    resources[root["id"]] = {**root, "resourceMethods": {}}
    apigateway_v1._authorizers_v1[api_id] = {}
    schemes = apigateway_v1._import_security_schemes(api_id, definition)
    for path, item in (definition.get("paths") or {}).items():
        apigateway_v1._import_path_item(api_id, path, item, schemes, definition.get("security"))


def install() -> None:
    handlers = provisioners._RESOURCE_HANDLERS[_REST_API]
    update = handlers["update"]

    def update_in_place(physical_id, old_props, new_props, stack_name, logical_id=None):
        body = new_props.get("Body")
        if (
            isinstance(body, dict)
            and body != old_props.get("Body")
            and physical_id in apigateway_v1._rest_apis
        ):
            overwrite(physical_id, body)
            old_props = {**old_props, "Body": body}  # upstream's update then changes the rest in place
        return update(physical_id, old_props, new_props, stack_name, logical_id)

    handlers["update"] = update_in_place
