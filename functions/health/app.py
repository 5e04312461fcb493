"""GET /health: liveness of the API and of the function version serving it."""

import json
import os


def handler(event, context):
    body = {
        "status": "ok",
        "function": context.function_name,
        "version": context.function_version,
        "region": os.environ.get("AWS_REGION"),
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
