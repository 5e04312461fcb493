"""A function's settings, read once at init from the environment the template gives it.

Each function declares one frozen dataclass of string fields; ``load`` fills field ``catalog_table_name``
from variable ``CATALOG_TABLE_NAME``. A variable that is missing (and has no default in the model) is a
``MissingSetting`` naming it, raised in the init phase, rather than a bare ``KeyError`` from deep
inside a module import. A dataclass, not pydantic-settings: the feed processor and the health function
ship without pydantic.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Settings = TypeVar("Settings", bound="DataclassInstance")


class MissingSetting(Exception):
    """An environment variable the function needs is not set."""


def load(model: type[Settings], environment: Mapping[str, str] = os.environ) -> Settings:
    """``model`` with every field read from its upper-case environment variable."""
    values: dict[str, Any] = {}
    missing = []
    for field in dataclasses.fields(model):
        variable = field.name.upper()
        if variable in environment:
            values[field.name] = environment[variable]
        elif field.default is dataclasses.MISSING:
            missing.append(variable)
    if missing:
        raise MissingSetting(f"{model.__name__} needs environment variable(s) {', '.join(missing)}")
    return model(**values)
