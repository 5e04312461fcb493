"""`harness seed` reads a catalog file and names the first bad entry."""

import json

import pytest

from harness.paths import Paths
from harness.stack.seed import CatalogFileError, read_catalog


def test_the_shipped_catalog_is_valid():
    products = read_catalog(Paths.discover().root / "seed" / "catalog.json")
    assert products and all(product["available"] > 0 for product in products)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("{", "Expecting"),
        ('{"sku": "A"}', "list"),
        ('[{"sku": "A", "priceCents": "1", "currency": "EUR", "available": 1}]', "priceCents"),
        ('[{"sku": "A", "priceCents": 1, "currency": "EUR", "available": -1}]', "available"),
        ('[{"priceCents": 1, "currency": "EUR", "available": 1}]', "sku"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(tmp_path, content, named):
    path = tmp_path / "catalog.json"
    path.write_text(content)
    with pytest.raises(CatalogFileError, match=named):
        read_catalog(path)


def test_a_valid_file_is_read(tmp_path):
    path = tmp_path / "catalog.json"
    product = {"sku": "A", "priceCents": 100, "currency": "EUR", "available": 3}
    path.write_text(json.dumps([product]))
    assert read_catalog(path) == [product]
