"""MiniStack patch ``sfn_sns_attributes``: a Step Functions ``sns:publish`` task's ``MessageAttributes``
reach the topic's subscribers.

The task passes them in the API's JSON shape, ``{name: {DataType, StringValue}}``; upstream reads only the
query-string form ``MessageAttributes.entry.N.*`` and drops them silently.
"""

from __future__ import annotations

_SNS_PUBLISH = "arn:aws:states:::sns:publish"


def query_form_attributes(parameters: dict) -> dict:
    """``parameters`` with JSON-shaped ``MessageAttributes`` spelled as SNS's query-string entries."""
    attributes = parameters.get("MessageAttributes")
    if not isinstance(attributes, dict):
        return parameters
    flattened = {key: value for key, value in parameters.items() if key != "MessageAttributes"}
    for index, (name, value) in enumerate(attributes.items(), start=1):
        prefix = f"MessageAttributes.entry.{index}"
        flattened[f"{prefix}.Name"] = name
        for field in ("DataType", "StringValue", "BinaryValue"):
            if field in value:
                flattened[f"{prefix}.Value.{field}"] = value[field]
    return flattened


def install() -> None:
    from ministack.services import stepfunctions

    publish = stepfunctions._SERVICE_DISPATCH[_SNS_PUBLISH]

    def publish_with_attributes(resource, input_data):
        if isinstance(input_data, dict):
            input_data = query_form_attributes(input_data)
        return publish(resource, input_data)

    stepfunctions._SERVICE_DISPATCH[_SNS_PUBLISH] = publish_with_attributes
