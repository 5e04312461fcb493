"""GET /health: liveness of the API and of the function version serving it."""

import json
from dataclasses import dataclass

from function_settings import load


@dataclass(frozen=True)
class Settings:
    aws_region: str  # set by Lambda itself


settings = load(Settings)


# No Powertools in this image: ``context`` is the runtime's LambdaContext.
def handler(event: dict, context) -> dict:
    body = {
        "status": "ok",
        "function": context.function_name,
        "version": context.function_version,
        "region": settings.aws_region,
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
