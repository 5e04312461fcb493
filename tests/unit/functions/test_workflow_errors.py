"""Each error name the order workflow retries or catches is an exception class of the function its
task invokes: Lambda reports an unhandled exception with its class name as ``errorType``, and Step
Functions matches ``ErrorEquals`` against that name, so renaming either side silently stops the retry
or the compensation. Here renaming one fails this test."""

from __future__ import annotations

import json

from payment_service.simulator import PaymentDeclined, PaymentProviderUnavailable
from stock_reservation.logic import InventoryBusy, OutOfStock

from harness.paths import Paths

ASL = json.loads((Paths.discover().root / "statemachines" / "order.asl.json").read_text())
# Names Step Functions and its service integrations define (States.ALL, Lambda.ServiceException, ...).
SERVICE_ERROR_PREFIXES = ("States.", "Lambda.", "DynamoDB.", "SNS.")
# The function each task invokes (its DefinitionSubstitution) -> the exceptions the workflow expects of it.
FUNCTION_ERRORS = {
    "${PaymentFunctionArn}": (PaymentDeclined, PaymentProviderUnavailable),
    "${InventoryFunctionArn}": (InventoryBusy, OutOfStock),
}


def _function_errors_named() -> dict[str, set[str]]:
    """Invoked function -> every error name of its tasks' Retry and Catch that is not a service's."""
    named: dict[str, set[str]] = {}
    for state in ASL["States"].values():
        function = (state.get("Parameters") or {}).get("FunctionName")
        if function is None:
            continue
        names = named.setdefault(function, set())
        for rule in [*state.get("Retry", []), *state.get("Catch", [])]:
            names |= {name for name in rule["ErrorEquals"] if not name.startswith(SERVICE_ERROR_PREFIXES)}
    return named


def test_every_error_the_workflow_names_is_an_exception_of_the_invoked_function():
    expected = {
        function: {error.__name__ for error in errors} for function, errors in FUNCTION_ERRORS.items()
    }
    assert _function_errors_named() == expected


def test_each_expected_exception_lives_in_its_functions_package():
    packages = {"${PaymentFunctionArn}": "payment_service.", "${InventoryFunctionArn}": "stock_reservation."}
    for function, errors in FUNCTION_ERRORS.items():
        for error in errors:
            assert issubclass(error, Exception) and error.__module__.startswith(packages[function]), error
