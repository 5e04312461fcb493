"""Loads a catalog JSON file into the stack's catalog table (`harness seed FILE`).

The file is a list of ``{"sku", "priceCents", "currency", "available", "name"?}`` objects; an existing
sku is overwritten (its stock is set, not added).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import HarnessError

REQUIRED = {"sku": str, "priceCents": int, "currency": str, "available": int}


class CatalogFileError(HarnessError):
    """The catalog file is not a list of valid products; the message names the entry and field."""


def read_catalog(path: Path) -> list[dict]:
    try:
        products = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CatalogFileError(f"{path}: {error}") from error
    if not isinstance(products, list):
        raise CatalogFileError(f"{path}: expected a JSON list of products")
    for index, product in enumerate(products):
        for field, kind in REQUIRED.items():
            value = product.get(field) if isinstance(product, dict) else None
            if (
                not isinstance(value, kind)
                or isinstance(value, bool)
                or (isinstance(value, int) and value < 0)
            ):
                raise CatalogFileError(f"{path}: entry {index}: {field} must be a {kind.__name__} (>= 0)")
    return products


def load(dynamodb, table_name: str, products: list[dict]) -> int:
    """Write ``products`` into the catalog table; returns how many."""
    now = datetime.now(UTC).isoformat()
    with dynamodb.Table(table_name).batch_writer(overwrite_by_pkeys=["sku"]) as batch:
        for product in products:
            batch.put_item(Item={**product, "updatedAt": now})
    return len(products)
