"""Every handler imports with exactly the environment the template gives its function, and its
Settings names any table variable that is missing."""

import pytest
from function_settings import MissingSetting, load

from tests.unit.conftest import handler_module, template_environment

# The payment handler reads its API key from Secrets Manager at import: tested end to end only.
OFFLINE_HANDLERS = [
    "HealthFunction",
    "OrdersApiFunction",
    "InventoryFunction",
    "FeedProcessorFunction",
    "OrderRecoveryFunction",
]


@pytest.mark.parametrize("function_id", OFFLINE_HANDLERS)
def test_the_handler_imports_with_the_templates_environment(function_id):
    assert callable(handler_module(function_id).handler)


@pytest.mark.parametrize(
    "function_id",
    ["OrdersApiFunction", "InventoryFunction", "FeedProcessorFunction", "OrderRecoveryFunction"],
)
def test_each_table_variable_is_needed_and_named_when_missing(function_id):
    settings_model = handler_module(function_id).Settings
    environment = template_environment(function_id)
    tables = [name for name in environment if name.endswith("_TABLE_NAME")]
    assert tables
    for variable in tables:
        with pytest.raises(MissingSetting, match=variable):
            load(settings_model, {name: value for name, value in environment.items() if name != variable})
