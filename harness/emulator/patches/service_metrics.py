"""MiniStack patch ``service_metrics``: the AWS/ApiGateway, AWS/States, AWS/SQS and AWS/Lambda (throttles)
metrics AWS publishes on its own, one module per source (harness/emulator/services/service_metrics/).
"""

from __future__ import annotations

from harness.emulator.services.service_metrics import apigateway, lambda_throttles, sqs, stepfunctions


def install() -> None:
    apigateway.install()
    stepfunctions.install()
    sqs.install()
    lambda_throttles.install()
