"""The CodeDeploy API (JSON protocol, ``X-Amz-Target: CodeDeploy_20141006.<Operation>``) for the Lambda
compute platform: one method per operation, each bad input a CodeDeployError named as CodeDeploy names it.

Served by MiniStack's dispatcher through ``handle_request`` (registered by the patch ``codedeploy``,
harness/emulator/patches/codedeploy.py). The state is the emulator's, in memory, wiped by ``reset``
(MiniStack's /_ministack/reset).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable

from harness.emulator.services.codedeploy import appspec, authorization, configs
from harness.emulator.services.codedeploy.clock import Clock, ScaledClock
from harness.emulator.services.codedeploy.deployment import (
    CREATED,
    FINAL,
    SUCCEEDED,
    Deployment,
    StopRequest,
    is_deployment_id,
    new_deployment_id,
    overview,
)
from harness.emulator.services.codedeploy.errors import CodeDeployError, required
from harness.emulator.services.codedeploy.lifecycle import ON_ALARM, ON_FAILURE, ON_REQUEST, Lifecycle
from harness.emulator.services.codedeploy.ports import AwsPorts, Ports

TARGET_PREFIX = "CodeDeploy_20141006."
LAMBDA = "Lambda"
COMPUTE_PLATFORMS = ("Server", "Lambda", "ECS")
DEFAULT_LAMBDA_CONFIG = f"{configs.PREFIX}AllAtOnce"
_LAMBDA_STYLE = {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
_ROLLBACK_EVENTS = (ON_FAILURE, ON_ALARM, ON_REQUEST)
_NAME = re.compile(r"^[A-Za-z0-9_.+\-]{1,100}$")
_REGION = re.compile(r"Credential=[^/]+/[^/]+/([a-z0-9-]+)/")


class CodeDeployService:
    def __init__(self, ports_for: Callable[[str], Ports], clock: Clock):
        self.ports_for = ports_for
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            for deployment in getattr(self, "_deployments", {}).values():
                if deployment.status() not in FINAL:
                    deployment.stop_request = StopRequest(auto_rollback=False)
                    deployment.wake.set()
            self._applications: dict[str, dict] = {}
            self._groups: dict[tuple[str, str], dict] = {}
            self._configs: dict[str, dict] = {}
            self._deployments: dict[str, Deployment] = {}

    def group_of_deployment(self, deployment_id: str) -> tuple[str, str] | None:
        deployment = self._deployments.get(deployment_id)
        if deployment is None:
            return None
        return deployment.info["applicationName"], deployment.info["deploymentGroupName"]

    def dispatch(self, operation: str, data: dict, region: str) -> dict:
        method = getattr(self, _snake(operation), None)
        if method is None or operation not in OPERATIONS:
            raise CodeDeployError(
                "InvalidActionException", f"CodeDeploy has no operation {operation!r} here."
            )
        return method(data, region) if operation == "CreateDeployment" else method(data)

    # --- applications ------------------------------------------------------------------------------

    def create_application(self, data: dict) -> dict:
        name = _application_name(data)
        platform = data.get("computePlatform", "Server")
        if platform not in COMPUTE_PLATFORMS:
            raise CodeDeployError(
                "InvalidComputePlatformException", f"The computePlatform {platform!r} is not valid."
            )
        with self._lock:
            if name in self._applications:
                raise CodeDeployError(
                    "ApplicationAlreadyExistsException",
                    f"The application {name} already exists with the IAM user or AWS account.",
                )
            self._applications[name] = {
                "applicationId": str(uuid.uuid4()),
                "applicationName": name,
                "createTime": time.time(),
                "linkedToGitHub": False,
                "computePlatform": platform,
            }
            return {"applicationId": self._applications[name]["applicationId"]}

    def get_application(self, data: dict) -> dict:
        return {"application": dict(self._application(_application_name(data)))}

    def delete_application(self, data: dict) -> dict:
        name = _application_name(data)
        with self._lock:
            self._applications.pop(name, None)
            for key in [key for key in self._groups if key[0] == name]:
                del self._groups[key]
        return {}

    # --- deployment groups -------------------------------------------------------------------------

    def create_deployment_group(self, data: dict) -> dict:
        application = self._application(_application_name(data))
        name = _group_name(data, "deploymentGroupName")
        group = self._group_settings(application, data, {})
        with self._lock:
            key = (application["applicationName"], name)
            if key in self._groups:
                raise CodeDeployError(
                    "DeploymentGroupAlreadyExistsException", f"The deployment group {name} already exists."
                )
            group.update(deploymentGroupId=str(uuid.uuid4()), deploymentGroupName=name)
            self._groups[key] = group
            return {"deploymentGroupId": group["deploymentGroupId"]}

    def update_deployment_group(self, data: dict) -> dict:
        application = self._application(_application_name(data))
        current = self._group(application["applicationName"], _group_name(data, "currentDeploymentGroupName"))
        new_name = data.get("newDeploymentGroupName") or current["deploymentGroupName"]
        updated = self._group_settings(application, data, current)
        with self._lock:
            del self._groups[(application["applicationName"], current["deploymentGroupName"])]
            updated["deploymentGroupName"] = new_name
            self._groups[(application["applicationName"], new_name)] = updated
        return {"hooksNotCleanedUp": []}

    def get_deployment_group(self, data: dict) -> dict:
        application = self._application(_application_name(data))
        return {
            "deploymentGroupInfo": dict(
                self._group(application["applicationName"], _group_name(data, "deploymentGroupName"))
            )
        }

    def list_deployment_groups(self, data: dict) -> dict:
        application = self._application(_application_name(data))["applicationName"]
        with self._lock:
            names = sorted(group for app, group in self._groups if app == application)
        return {"applicationName": application, "deploymentGroups": names}

    def delete_deployment_group(self, data: dict) -> dict:
        application = _application_name(data)
        with self._lock:
            self._groups.pop((application, _group_name(data, "deploymentGroupName")), None)
        return {"hooksNotCleanedUp": []}

    # --- deployment configurations -----------------------------------------------------------------

    def create_deployment_config(self, data: dict) -> dict:
        name = required(
            data,
            "deploymentConfigName",
            "DeploymentConfigNameRequiredException",
            "The deployment configuration name",
        )
        if name.startswith("CodeDeployDefault.") or not _NAME.match(name):
            raise CodeDeployError(
                "InvalidDeploymentConfigNameException",
                f"The deployment configuration name {name!r} is not valid.",
            )
        platform = data.get("computePlatform", "Server")
        if platform != LAMBDA:
            raise CodeDeployError(
                "InvalidComputePlatformException",
                f"Only the Lambda compute platform is emulated here, not {platform!r}.",
            )
        routing = data.get("trafficRoutingConfig") or {"type": configs.ALL_AT_ONCE}
        problem = configs.validate_routing(routing)
        if problem:
            raise CodeDeployError(
                "InvalidTrafficRoutingConfigurationException",
                f"The trafficRoutingConfig is not valid: {problem}.",
            )
        with self._lock:
            if name in self._configs:
                raise CodeDeployError(
                    "DeploymentConfigAlreadyExistsException",
                    f"The deployment configuration {name} already exists.",
                )
            self._configs[name] = {
                "deploymentConfigId": str(uuid.uuid4()),
                "deploymentConfigName": name,
                "createTime": time.time(),
                "computePlatform": LAMBDA,
                "trafficRoutingConfig": routing,
            }
            return {"deploymentConfigId": self._configs[name]["deploymentConfigId"]}

    def get_deployment_config(self, data: dict) -> dict:
        name = required(
            data,
            "deploymentConfigName",
            "DeploymentConfigNameRequiredException",
            "The deployment configuration name",
        )
        return {"deploymentConfigInfo": self._config(name)}

    def list_deployment_configs(self, data: dict) -> dict:
        with self._lock:
            return {"deploymentConfigsList": [*configs.PREDEFINED, *sorted(self._configs)]}

    def delete_deployment_config(self, data: dict) -> dict:
        name = required(
            data,
            "deploymentConfigName",
            "DeploymentConfigNameRequiredException",
            "The deployment configuration name",
        )
        if name in configs.PREDEFINED:
            raise CodeDeployError(
                "InvalidOperationException", f"The predefined configuration {name} cannot be deleted."
            )
        with self._lock:
            if any(group["deploymentConfigName"] == name for group in self._groups.values()):
                raise CodeDeployError(
                    "DeploymentConfigInUseException", f"The deployment configuration {name} is in use."
                )
            self._configs.pop(name, None)
        return {}

    # --- deployments -------------------------------------------------------------------------------

    def create_deployment(self, data: dict, region: str, creator: str = "user") -> dict:
        application = self._application(_application_name(data))
        group = self._group(application["applicationName"], _group_name(data, "deploymentGroupName"))
        if application["computePlatform"] != LAMBDA:
            raise CodeDeployError(
                "InvalidComputePlatformException",
                "Only deployments to the Lambda compute platform are emulated here.",
            )
        content = _appspec_content(data.get("revision"))
        spec = appspec.parse(content)
        config_name = data.get("deploymentConfigName") or group["deploymentConfigName"]
        config = self._config(config_name)
        auto_rollback = data.get("autoRollbackConfiguration") or group["autoRollbackConfiguration"]
        _check_auto_rollback(auto_rollback)
        alarm_config = group["alarmConfiguration"]
        alarms = (
            [alarm["name"] for alarm in alarm_config.get("alarms", [])] if alarm_config.get("enabled") else []
        )
        info = {
            "applicationName": application["applicationName"],
            "deploymentGroupName": group["deploymentGroupName"],
            "deploymentConfigName": config_name,
            "deploymentId": new_deployment_id(),
            "revision": _revision(content),
            "status": CREATED,
            "createTime": time.time(),
            "deploymentOverview": overview(pending=1),
            "description": data.get("description", ""),
            "creator": creator,
            "autoRollbackConfiguration": auto_rollback,
            "deploymentStyle": dict(_LAMBDA_STYLE),
            "computePlatform": LAMBDA,
        }
        deployment = Deployment(
            info,
            spec,
            config["trafficRoutingConfig"],
            alarms,
            bool(alarm_config.get("ignorePollAlarmFailure")),
        )
        with self._lock:
            active = [
                d.id
                for d in self._deployments.values()
                if d.info["deploymentGroupName"] == group["deploymentGroupName"]
                and d.info["applicationName"] == application["applicationName"]
                and d.status() not in FINAL
            ]
            if active:
                raise CodeDeployError(
                    "DeploymentLimitExceededException",
                    f"The deployment group {group['deploymentGroupName']} already has an active "
                    f"deployment {active[0]}.",
                )
            self._deployments[deployment.id] = deployment
            group["lastAttemptedDeployment"] = {
                "deploymentId": deployment.id,
                "status": CREATED,
                "createTime": info["createTime"],
            }
        lifecycle = Lifecycle(
            deployment, self.ports_for(region), self._clock, auto_rollback, self._record_rollback
        )
        threading.Thread(
            target=self._run, args=(lifecycle, group), name=f"codedeploy-{deployment.id}", daemon=True
        ).start()
        return {"deploymentId": deployment.id}

    def get_deployment(self, data: dict) -> dict:
        return {"deploymentInfo": self.deployment(_deployment_id(data)).snapshot()}

    def batch_get_deployments(self, data: dict) -> dict:
        ids = data.get("deploymentIds")
        if not ids:
            raise CodeDeployError(
                "DeploymentIdRequiredException", "At least one deployment id is required (deploymentIds)."
            )
        if len(ids) > 25:
            raise CodeDeployError(
                "BatchLimitExceededException", "At most 25 deployment ids can be given at once."
            )
        found = []
        for deployment_id in ids:
            if not is_deployment_id(deployment_id):
                raise CodeDeployError(
                    "InvalidDeploymentIdException", f"The deployment id {deployment_id!r} is not valid."
                )
            with self._lock:
                deployment = self._deployments.get(deployment_id)
            if deployment is not None:  # BatchGet leaves unknown ids out
                found.append(deployment.snapshot())
        return {"deploymentsInfo": found}

    def list_deployments(self, data: dict) -> dict:
        application = data.get("applicationName")
        group = data.get("deploymentGroupName")
        if group and not application:
            raise CodeDeployError(
                "ApplicationNameRequiredException", "applicationName is required with deploymentGroupName."
            )
        if application:
            self._application(application)
            if group:
                self._group(application, group)
        statuses = data.get("includeOnlyStatuses") or []
        with self._lock:
            deployments = list(self._deployments.values())
        ids = [
            d.id
            for d in reversed(deployments)  # newest first
            if (not application or d.info["applicationName"] == application)
            and (not group or d.info["deploymentGroupName"] == group)
            and (not statuses or d.status() in statuses)
        ]
        return {"deployments": ids}

    def stop_deployment(self, data: dict) -> dict:
        deployment = self.deployment(_deployment_id(data))
        auto_rollback = data.get("autoRollbackEnabled")
        deployment.request_stop(None if auto_rollback is None else bool(auto_rollback))
        return {"status": "Pending", "statusMessage": "Stopping the deployment."}

    def put_lifecycle_event_hook_execution_status(self, data: dict) -> dict:
        deployment = self.deployment(_deployment_id(data))
        execution_id = data.get("lifecycleEventHookExecutionId")
        if not execution_id:
            raise CodeDeployError(
                "InvalidLifecycleEventHookExecutionIdException", "lifecycleEventHookExecutionId is required."
            )
        deployment.put_hook_status(execution_id, data.get("status", ""))
        return {"lifecycleEventHookExecutionId": execution_id}

    # --- lookups used by CloudFormation too --------------------------------------------------------

    def deployment(self, deployment_id: str) -> Deployment:
        with self._lock:
            deployment = self._deployments.get(deployment_id)
        if deployment is None:
            raise CodeDeployError(
                "DeploymentDoesNotExistException", f"The deployment {deployment_id} could not be found."
            )
        return deployment

    # --- internals ---------------------------------------------------------------------------------

    def _run(self, lifecycle: Lifecycle, group: dict) -> None:
        lifecycle.run()
        info = lifecycle.deployment.snapshot()
        with self._lock:
            summary = {
                "deploymentId": info["deploymentId"],
                "status": info["status"],
                "endTime": info["completeTime"],
                "createTime": info["createTime"],
            }
            group["lastAttemptedDeployment"] = summary
            if info["status"] == SUCCEEDED:
                group["lastSuccessfulDeployment"] = summary

    def _record_rollback(self, failed: Deployment, reason: str) -> str:
        """The rollback deployment: created by CodeDeploy, already done (the alias is routed back)."""
        original = failed.snapshot()
        now = time.time()
        info = {
            **{
                key: original[key]
                for key in (
                    "applicationName",
                    "deploymentGroupName",
                    "deploymentConfigName",
                    "revision",
                    "autoRollbackConfiguration",
                    "deploymentStyle",
                    "computePlatform",
                )
            },
            "deploymentId": new_deployment_id(),
            "previousRevision": original["revision"],
            "status": SUCCEEDED,
            "createTime": now,
            "startTime": now,
            "completeTime": now,
            "deploymentOverview": overview(succeeded=1),
            "description": f"Rollback of deployment {failed.id}",
            "creator": "codeDeployRollback",
            "rollbackInfo": {
                "rollbackTriggeringDeploymentId": failed.id,
                "rollbackMessage": f"Rolled back deployment {failed.id}: {reason}",
            },
        }
        rollback = Deployment(info, failed.spec, {"type": configs.ALL_AT_ONCE}, [], False)
        rollback.done.set()
        with self._lock:
            self._deployments[rollback.id] = rollback
        failed.record_rollback(
            rollback.id, f"Deployment {failed.id} was rolled back by {rollback.id}: {reason}"
        )
        return rollback.id

    def _application(self, name: str) -> dict:
        with self._lock:
            application = self._applications.get(name)
        if application is None:
            raise CodeDeployError(
                "ApplicationDoesNotExistException", f"No application found for name: {name}"
            )
        return application

    def _group(self, application: str, name: str) -> dict:
        with self._lock:
            group = self._groups.get((application, name))
        if group is None:
            raise CodeDeployError(
                "DeploymentGroupDoesNotExistException", f"No Deployment Group found for name: {name}"
            )
        return group

    def _config(self, name: str) -> dict:
        if name in configs.PREDEFINED:
            return {
                "deploymentConfigId": configs.config_id(name),
                "deploymentConfigName": name,
                "createTime": 0.0,
                "computePlatform": LAMBDA,
                "trafficRoutingConfig": configs.PREDEFINED[name],
            }
        with self._lock:
            config = self._configs.get(name)
        if config is None:
            raise CodeDeployError(
                "DeploymentConfigDoesNotExistException",
                f"The deployment configuration {name} does not exist.",
            )
        return dict(config)

    def _group_settings(self, application: dict, data: dict, current: dict) -> dict:
        """A group's settings from CreateDeploymentGroup/UpdateDeploymentGroup ``data`` over ``current``."""
        if application["computePlatform"] != LAMBDA:
            raise CodeDeployError(
                "InvalidComputePlatformException",
                "Only deployment groups of Lambda applications are emulated here.",
            )
        role = data.get("serviceRoleArn") or current.get("serviceRoleArn")
        if not role:
            raise CodeDeployError("RoleRequiredException", "A service role ARN is required (serviceRoleArn).")
        if not str(role).startswith("arn:"):
            raise CodeDeployError(
                "InvalidRoleException", f"The service role {role!r} is not an IAM role ARN."
            )
        config_name = (
            data.get("deploymentConfigName") or current.get("deploymentConfigName") or DEFAULT_LAMBDA_CONFIG
        )
        try:
            self._config(config_name)
        except CodeDeployError:
            raise CodeDeployError(
                "DeploymentConfigDoesNotExistException",
                f"The deployment configuration {config_name} does not exist.",
            ) from None
        style = data.get("deploymentStyle") or current.get("deploymentStyle") or dict(_LAMBDA_STYLE)
        if style != _LAMBDA_STYLE:
            raise CodeDeployError(
                "InvalidDeploymentStyleException",
                "A Lambda deployment group's style is BLUE_GREEN WITH_TRAFFIC_CONTROL.",
            )
        alarms = (
            data.get("alarmConfiguration")
            or current.get("alarmConfiguration")
            or {"enabled": False, "alarms": []}
        )
        if alarms.get("enabled") and not alarms.get("alarms"):
            raise CodeDeployError(
                "InvalidAlarmConfigException", "An enabled alarm configuration must name at least one alarm."
            )
        if len(alarms.get("alarms") or []) > 10:
            raise CodeDeployError(
                "AlarmsLimitExceededException", "A deployment group can watch at most 10 alarms."
            )
        auto_rollback = (
            data.get("autoRollbackConfiguration")
            or current.get("autoRollbackConfiguration")
            or {"enabled": False, "events": []}
        )
        _check_auto_rollback(auto_rollback)
        return {
            **current,
            "applicationName": application["applicationName"],
            "deploymentConfigName": config_name,
            "serviceRoleArn": role,
            "alarmConfiguration": {
                "enabled": bool(alarms.get("enabled")),
                "ignorePollAlarmFailure": bool(alarms.get("ignorePollAlarmFailure")),
                "alarms": list(alarms.get("alarms") or []),
            },
            "autoRollbackConfiguration": auto_rollback,
            "deploymentStyle": style,
            "computePlatform": LAMBDA,
            "triggerConfigurations": data.get("triggerConfigurations")
            or current.get("triggerConfigurations")
            or [],
        }


OPERATIONS = (
    "CreateApplication", "GetApplication", "DeleteApplication",
    "CreateDeploymentGroup", "UpdateDeploymentGroup", "GetDeploymentGroup", "ListDeploymentGroups",
    "DeleteDeploymentGroup",
    "CreateDeploymentConfig", "GetDeploymentConfig", "ListDeploymentConfigs", "DeleteDeploymentConfig",
    "CreateDeployment", "GetDeployment", "BatchGetDeployments", "ListDeployments", "StopDeployment",
    "PutLifecycleEventHookExecutionStatus",
)  # fmt: skip


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _application_name(data: dict) -> str:
    name = required(
        data,
        "applicationName",
        "ApplicationNameRequiredException",
        "The minimum number of required application names was not specified",
    )
    if not _NAME.match(name):
        raise CodeDeployError(
            "InvalidApplicationNameException", f"The application name {name!r} is not valid."
        )
    return name


def _group_name(data: dict, field: str) -> str:
    name = required(data, field, "DeploymentGroupNameRequiredException", "The deployment group name")
    if not _NAME.match(name):
        raise CodeDeployError(
            "InvalidDeploymentGroupNameException", f"The deployment group name {name!r} is not valid."
        )
    return name


def _deployment_id(data: dict) -> str:
    deployment_id = data.get("deploymentId")
    if not deployment_id:
        raise CodeDeployError(
            "DeploymentIdRequiredException", "At least one deployment ID must be specified (deploymentId)."
        )
    if not is_deployment_id(deployment_id):
        raise CodeDeployError(
            "InvalidDeploymentIdException",
            f"The deployment id {deployment_id!r} is not valid: d- and nine letters or digits.",
        )
    return deployment_id


def _appspec_content(revision: object) -> str:
    """The AppSpec of a Lambda revision (``AppSpecContent``, or the older ``String``)."""
    if not revision:
        raise CodeDeployError(
            "RevisionRequiredException", "A revision is required: the AppSpec of the Lambda deployment."
        )
    if not isinstance(revision, dict):
        raise CodeDeployError("InvalidRevisionException", "The revision must be a RevisionLocation object.")
    kind = revision.get("revisionType")
    location = {"AppSpecContent": "appSpecContent", "String": "string"}.get(kind or "")
    if location is None:
        raise CodeDeployError(
            "InvalidRevisionException",
            f"A Lambda deployment's revisionType is AppSpecContent or String, not {kind!r}.",
        )
    content = (revision.get(location) or {}).get("content")
    if not content:
        raise CodeDeployError("InvalidRevisionException", f"The revision's {location}.content is empty.")
    return content


def _revision(content: str) -> dict:
    """The revision as GetDeployment answers it ("The content property ... is always null")."""
    return {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": appspec.sha256(content)}}


def _check_auto_rollback(config: dict) -> None:
    unknown = [event for event in config.get("events") or [] if event not in _ROLLBACK_EVENTS]
    if unknown:
        raise CodeDeployError(
            "InvalidAutoRollbackConfigException",
            f"Unknown auto-rollback events {unknown}; known: {', '.join(_ROLLBACK_EVENTS)}.",
        )


# --- the emulator's dispatcher seam -------------------------------------------------------------------

_service: CodeDeployService | None = None
_ports: dict[str, Ports] = {}


def _ports_for(region: str) -> Ports:
    if region not in _ports:
        _ports[region] = AwsPorts(region)
    return _ports[region]


def service() -> CodeDeployService:
    global _service
    if _service is None:
        _service = CodeDeployService(_ports_for, ScaledClock())
    return _service


def region_of(headers: dict) -> str:
    match = _REGION.search(headers.get("authorization", ""))
    return match.group(1) if match else "us-east-1"


async def handle_request(method: str, path: str, headers: dict, body: bytes, query_params: dict):
    """MiniStack's service handler contract: (status, headers, body)."""
    target = headers.get("x-amz-target", "")
    operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
    try:
        data = json.loads(body) if body else {}
        if not isinstance(data, dict):
            raise CodeDeployError("SerializationException", "The request body must be a JSON object.")
        region = region_of(headers)
        resource = authorization.resource_arn(
            operation, data, region, _account_id(), service().group_of_deployment
        )
        refusal = authorization.denied(operation, resource, headers, query_params)
        if refusal:
            return refusal
        answer = service().dispatch(operation, data, region)
    except json.JSONDecodeError as error:
        return _answer(
            400, {"__type": "SerializationException", "message": f"The request body is not JSON: {error}"}
        )
    except CodeDeployError as error:
        return _answer(400, {"__type": error.code, "message": error.message})
    return _answer(200, answer)


def _account_id() -> str:
    from ministack.core.responses import get_account_id

    return get_account_id()


def _answer(status: int, document: dict):
    return status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(document).encode()


def reset() -> None:
    if _service is not None:
        _service.reset()
