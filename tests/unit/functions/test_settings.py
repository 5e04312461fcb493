"""function_settings: a function's environment read into its Settings, a missing variable named."""

from dataclasses import dataclass

import pytest
from function_settings import MissingSetting, load


@dataclass(frozen=True)
class Settings:
    catalog_table_name: str
    orders_table_name: str
    fault_injection: str = ""


def test_each_field_is_read_from_its_upper_case_variable():
    settings = load(Settings, {"CATALOG_TABLE_NAME": "catalog", "ORDERS_TABLE_NAME": "orders", "OTHER": "x"})
    assert settings == Settings("catalog", "orders", "")


def test_a_field_with_a_default_may_be_absent_and_is_read_when_present():
    environment = {"CATALOG_TABLE_NAME": "c", "ORDERS_TABLE_NAME": "o", "FAULT_INJECTION": '{"keys": "k"}'}
    assert load(Settings, environment).fault_injection == '{"keys": "k"}'


def test_every_missing_variable_is_named():
    with pytest.raises(
        MissingSetting,
        match=r"^Settings needs environment variable\(s\) CATALOG_TABLE_NAME, ORDERS_TABLE_NAME$",
    ):
        load(Settings, {"FAULT_INJECTION": ""})


def test_an_empty_value_is_a_value():
    assert load(Settings, {"CATALOG_TABLE_NAME": "", "ORDERS_TABLE_NAME": "o"}).catalog_table_name == ""
