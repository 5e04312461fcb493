"""DynamoDB expressions evaluated without repeated work (patch ``dynamodb_expressions``).

Same results as upstream (tests/integration/test_cpu_patches.py compares both on a table of
expressions); written so each part could be proposed to MiniStack as it is:

- ``_tokenize`` scanned every condition and update expression character by character on every
  evaluation: a TransactWriteItems with ten Updates tokenises each of its expressions three times
  (two validation passes and the write), about a sixth of its CPU. Tokens depend on the text alone, so
  they are kept per expression text; each caller gets a list of its own.
- ``_apply_set`` deep-copied the whole item (already a copy of the stored one) to resolve every right-hand
  side against the item as it was before the update. Resolving reads the item and never changes it, so
  resolving every value first, then assigning, is that same snapshot; only the values are copied, so
  that no two paths of the stored item share an object (``SET a = b`` and a later in-place ``ADD`` on
  ``a``).
"""

from __future__ import annotations

import copy
import functools

# Distinct expression texts kept; a service sends a handful, a test suite a few hundred.
TOKENIZED_EXPRESSIONS = 4096


def install() -> None:
    from ministack.services import dynamodb

    dynamodb._tokenize = _remembered(dynamodb._tokenize)
    dynamodb._apply_set = _apply_set


def _remembered(tokenize):
    remembered = functools.lru_cache(maxsize=TOKENIZED_EXPRESSIONS)(lambda expr: tuple(tokenize(expr)))

    def _tokenize(expr):
        return list(remembered(expr))

    return _tokenize


def _apply_set(item, tokens, attr_values, attr_names, updated_attrs):
    """Upstream's ``_apply_set`` (services/dynamodb.py) without the item's snapshot."""
    from ministack.services import dynamodb

    pending = []
    for assignment in dynamodb._split_by_comma(tokens):
        eq_idx = next((i for i, tok in enumerate(assignment) if tok[0] == "EQ"), None)
        if eq_idx is None:
            continue
        path_parts = dynamodb._parse_path_from_tokens(assignment[:eq_idx], attr_names)
        value = dynamodb._eval_set_value(assignment[eq_idx + 1 :], item, attr_values, attr_names)
        if path_parts and value is not None:
            # AWS rejects SET on a path whose intermediate ancestor doesn't exist.
            if len(path_parts) > 1 and dynamodb._get_at_path(item, path_parts[:-1]) is None:
                ancestor = ".".join(str(p) for p in path_parts[:-1])
                raise ValueError(
                    f"The document path provided in the update expression is invalid for update: {ancestor}"
                )
            pending.append((path_parts, copy.deepcopy(value)))
            updated_attrs.add(tuple(path_parts))
    for path_parts, value in pending:
        dynamodb._set_at_path(item, path_parts, value)
