"""CodeDeploy's own exceptions, answered as its JSON protocol does (``__type`` and ``message``)."""

from __future__ import annotations


class CodeDeployError(Exception):
    """A 400 answer named after the CodeDeploy exception (botocore raises it under that name)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def required(data: dict, field: str, code: str, what: str) -> str:
    """``data[field]`` as a non-empty string, else the operation's *RequiredException."""
    value = data.get(field)
    if not value:
        raise CodeDeployError(code, f"{what} is required ({field}).")
    if not isinstance(value, str):
        raise CodeDeployError(
            "InvalidInputException", f"{field} must be a string, got {type(value).__name__}."
        )
    return value
