"""TransactWriteItems with each Update applied once (patch ``dynamodb_transactions``).

Upstream (``services/dynamodb.py``, ``_transact_write_items``) applies every Update's
expression three times: in the up-front validation (index keys), in the per-member validation (types,
item size, nesting) and in the write, each time on a deep copy of a deep copy of the stored item, and
serialises the whole request again to check the 4 MB limit. A feed object's transaction (a Put and ten
Updates) spends most of its CPU there.

Here the same checks run in the same order with the same answers (tests/integration/test_cpu_patches.py
compares both on conditions failing at different positions, ReturnValuesOnConditionCheckFailure,
duplicate items and the 100-item and 4 MB limits), but:

- each Update's expression is applied once, in the up-front pass, and the result (or its error) is what
  the later passes check and what is written. That is the item the write computed upstream: members
  address distinct items (a second operation on one item is rejected first), so no write of the
  transaction changes the item an Update read;
- the old image is the stored item itself, not a copy: writes replace a stored item, never change it in
  place (upstream's stream records already hold stored items);
- the 4 MB check serialises the request only when it could be over: ``json.dumps`` of a parsed body is at
  most 4.5 times the body's size (a non-ASCII character of 2 bytes becomes ``\\uXXXX``, 6; ``1e15``
  becomes ``1000000000000000.0``; a separator gains a space), so a body under a fifth of the limit
  passes as it does upstream.

Could be proposed to MiniStack as is, as a change of ``_transact_write_items``.
"""

from __future__ import annotations

import contextvars
import copy
import json

# Upper bound of len(json.dumps(json.loads(body))) / len(body), with a margin (see above).
_DUMPS_EXPANSION_BOUND = 5
_request_body_bytes: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "harness_transact_body_bytes", default=None
)


def install() -> None:
    from ministack.services import dynamodb

    handle_request = dynamodb.handle_request

    async def handle_request_noting_size(method, path, headers, body, query_params):
        if not headers.get("x-amz-target", "").endswith(".TransactWriteItems"):
            return await handle_request(method, path, headers, body, query_params)
        token = _request_body_bytes.set(len(body or b""))
        try:
            return await handle_request(method, path, headers, body, query_params)
        finally:
            _request_body_bytes.reset(token)

    dynamodb.handle_request = handle_request_noting_size
    dynamodb._transact_write_items = _transact_write_items


def _over_size_limit(ddb, data: dict) -> bool:
    body_bytes = _request_body_bytes.get()
    if body_bytes is not None and body_bytes * _DUMPS_EXPANSION_BOUND <= ddb._DDB_TXN_MAX_BYTES:
        return False
    try:
        return len(json.dumps(data).encode("utf-8")) > ddb._DDB_TXN_MAX_BYTES
    except (TypeError, ValueError):
        return False


def _key_values(ddb, tbl: dict, key: dict) -> tuple:
    pk_val = ddb._extract_key_val(key.get(tbl["pk_name"]))
    sk_val = ddb._extract_key_val(key.get(tbl["sk_name"])) if tbl["sk_name"] else "__no_sort__"
    return pk_val, sk_val


def _stored(ddb, tbl: dict, key: dict) -> dict | None:
    pk_val, sk_val = _key_values(ddb, tbl, key)
    return tbl["items"].get(pk_val, {}).get(sk_val)


def _members_of_known_tables(ddb, items_list: list):
    """(index, operation type, operation, table name, table) of each member whose table exists."""
    for idx, transact in enumerate(items_list):
        op_type, op = ddb._extract_transact_op(transact)
        if op is None:
            continue
        table_name = op.get("TableName", "")
        tbl = ddb._tables.get(table_name)
        if tbl:
            yield idx, op_type, op, table_name, tbl


def _updated(ddb, tbl: dict, op: dict, key_src: dict):
    """The item an Update member writes, or the ValueError its expression raises."""
    existing = _stored(ddb, tbl, key_src)
    try:
        # _apply_update_expression works on a deep copy of what it is given.
        item, _ = ddb._apply_update_expression(
            existing or dict(key_src),
            op.get("UpdateExpression", ""),
            op.get("ExpressionAttributeValues", {}),
            op.get("ExpressionAttributeNames", {}),
        )
    except ValueError as error:
        return error
    return item


def _transact_write_items(data):
    """Upstream's ``_transact_write_items`` with each Update applied once."""
    from ministack.services import dynamodb as ddb

    items_list = data.get("TransactItems", [])
    for _txn_item in items_list if isinstance(items_list, list) else []:
        for _txn_op in _txn_item.values() if isinstance(_txn_item, dict) else []:
            if isinstance(_txn_op, dict) and "TableName" in _txn_op:
                _txn_op["TableName"] = ddb._normalize_table_name(_txn_op["TableName"])
    if not items_list:
        return ddb.error_response_json(
            "ValidationException",
            "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
            400,
        )
    if len(items_list) > ddb._DDB_TXN_WRITE_MAX_ITEMS:
        return ddb.error_response_json(
            "ValidationException",
            f"1 validation error detected: Value '[{', '.join(repr(i) for i in items_list)}]' at "
            "'transactItems' failed to satisfy constraint: Member must have length less than or equal to "
            f"{ddb._DDB_TXN_WRITE_MAX_ITEMS}",
            400,
        )
    err = ddb._transact_write_members_error(data, items_list)
    if err:
        return err
    for member in items_list:
        err = ddb._transact_write_action_error(*ddb._extract_transact_op(member))
        if err:
            return err
    if _over_size_limit(ddb, data):
        return ddb.error_response_json(
            "ValidationException", "Transaction request exceeds the 4MB transaction size limit", 400
        )
    crt = data.get("ClientRequestToken")
    signature = None
    if crt:
        prior = ddb._txn_token_lookup(crt)
        signature = {k: v for k, v in data.items() if k != "ClientRequestToken"}
        if prior is not None:
            return _replay(ddb, data, prior, signature)

    updated: dict[int, object] = {}  # member index -> the item an Update writes, or its ValueError
    seen_targets = set()
    for idx, op_type, op, tn, tbl in _members_of_known_tables(ddb, items_list):
        key_src = op.get("Item", {}) if op_type == "Put" else op.get("Key", {})
        for kn in (tbl.get("pk_name"), tbl.get("sk_name")):
            if kn and kn in key_src:
                err = ddb._empty_key_value_error(kn, key_src[kn])
                if err:
                    return err
        if op_type == "Put":
            item_err = ddb._validate_item(key_src, tbl.get("pk_name"), tbl.get("sk_name"))
            if item_err:
                return item_err
            msg = ddb._index_key_empty_reason(tbl, key_src) or ddb._vector_write_reason(tbl, key_src)
            if msg:
                return ddb.error_response_json("ValidationException", msg, 400)
        elif op_type == "Update" and op.get("UpdateExpression"):
            updated[idx] = _updated(ddb, tbl, op, key_src)
            if not isinstance(updated[idx], ValueError):
                msg = ddb._index_key_empty_reason(tbl, updated[idx], update_expr=True)
                if msg:
                    return ddb.error_response_json("ValidationException", msg, 400)
        target = (
            tn,
            ddb._extract_key_val(key_src.get(tbl.get("pk_name") or "")),
            ddb._extract_key_val(key_src.get(tbl.get("sk_name") or "")) if tbl.get("sk_name") else None,
        )
        if target in seen_targets:
            return ddb.error_response_json(
                "ValidationException",
                "Transaction request cannot include multiple operations on one item",
                400,
            )
        seen_targets.add(target)

    val_reasons = {}
    expr_reasons = {}
    for idx, transact in enumerate(items_list):
        op_type, op = ddb._extract_transact_op(transact)
        if op is None:
            continue
        tbl = ddb._tables.get(op.get("TableName", ""))
        if not tbl:
            return ddb.error_response_json("ResourceNotFoundException", "Requested resource not found", 400)
        key_src = op.get("Item", {}) if op_type == "Put" else op.get("Key", {})
        type_msg = ddb._key_type_mismatch_reason(tbl, key_src)
        if type_msg:
            val_reasons[idx] = (
                type_msg if op_type == "Put" else "The provided key element does not match the schema"
            )
            continue
        if op_type == "Put":
            imsg = ddb._index_key_type_reason(tbl, key_src)
            if imsg:
                val_reasons[idx] = imsg
                continue
        if idx in updated:
            probe = updated[idx]
            if isinstance(probe, ValueError):
                expr_reasons[idx] = str(probe)
            elif imsg := ddb._index_key_type_reason(tbl, probe):
                val_reasons[idx] = imsg
            elif ddb._item_size_bytes(probe) > ddb._DDB_ITEM_MAX_BYTES:
                val_reasons[idx] = ddb._UPDATE_SIZE_MSG
            elif any(ddb._nesting_exceeded(v) for v in probe.values()):
                val_reasons[idx] = "Nesting Levels have exceeded supported limits"
    if val_reasons:
        return ddb._transact_validation_cancel_response(len(items_list), val_reasons)

    failures = {}  # idx -> existing item (ReturnValuesOnConditionCheckFailure ALL_OLD) or None
    for idx, transact in enumerate(items_list):
        op_type, op = ddb._extract_transact_op(transact)
        if op is None:
            continue
        tbl = ddb._tables[op.get("TableName", "")]
        cond = op.get("ConditionExpression", "")
        if cond:
            key = (
                ddb._extract_key_from_item(tbl, op.get("Item", {})) if op_type == "Put" else op.get("Key", {})
            )
            existing = ddb._get_item_by_key(tbl, key)
            try:
                holds = ddb._evaluate_condition(
                    cond,
                    existing or {},
                    op.get("ExpressionAttributeValues", {}),
                    op.get("ExpressionAttributeNames", {}),
                )
            except ValueError as exc:
                return ddb.error_response_json("ValidationException", str(exc), 400)
            if not holds:
                failures[idx] = (
                    existing if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                )
    expr_reasons = {i: msg for i, msg in expr_reasons.items() if i not in failures}
    if failures or expr_reasons:
        return ddb._transact_cancel_response(len(items_list), failures, expr_reasons)

    effects = _write(ddb, items_list, updated)
    result, txn_sizes = _consumed_capacity(ddb, effects, data.get("ReturnConsumedCapacity", "NONE"))
    if crt:
        ddb._txn_token_store(crt, {"signature": signature, "response": result, "sizes": txn_sizes})
    return ddb.json_response(result)


def _replay(ddb, data: dict, prior: dict, signature: dict):
    """A repeated ClientRequestToken: the stored answer, or the mismatch error (as upstream)."""
    if prior.get("signature") != signature:
        return ddb.error_response_json(
            "IdempotentParameterMismatchException",
            "Request token already in use for another request with a different payload",
            400,
        )
    replay = {k: v for k, v in prior.get("response", {}).items() if k != "ConsumedCapacity"}
    if data.get("ReturnConsumedCapacity", "NONE") != "NONE":
        consumed = []
        for tname, sizes in (prior.get("sizes") or {}).items():
            read_units = sum(2.0 * max(1.0, float(-(-sz // 4096))) for sz in sizes)
            consumed.append(
                {"TableName": tname, "CapacityUnits": read_units, "ReadCapacityUnits": read_units}
            )
        if consumed:
            replay["ConsumedCapacity"] = consumed
    return ddb.json_response(replay)


def _write(ddb, items_list: list, updated: dict) -> dict:
    """Apply the members; {table name: [(old item, new item)]} for the capacity they consume."""
    effects: dict = {}
    for idx, op_type, op, table_name, tbl in _members_of_known_tables(ddb, items_list):
        if op_type == "ConditionCheck":
            # Writes nothing but consumes transactional write capacity, as upstream.
            cc_key = op.get("Key", {})
            cc_ref = _stored(ddb, tbl, cc_key) or cc_key
            effects.setdefault(table_name, []).append((cc_ref, cc_ref))
            continue
        key = op["Item"] if op_type == "Put" else op["Key"]
        pk_val, sk_val = _key_values(ddb, tbl, key)
        old_item = tbl["items"].get(pk_val, {}).get(sk_val)
        if op_type == "Delete":
            ddb._remove_item(tbl, pk_val, sk_val)
            if old_item:
                ddb._emit_stream_event(table_name, "REMOVE", old_item, None)
            effects.setdefault(table_name, []).append((old_item, None))
            continue
        if op_type == "Put":
            item = op["Item"]
        elif idx in updated:
            item = updated[idx]
        else:  # an Update without an expression rewrites the item as it is, as upstream
            item = copy.deepcopy(old_item) if old_item else dict(key)
        ddb._set_item(tbl, pk_val, sk_val, item)
        ddb._emit_stream_event(table_name, "MODIFY" if old_item else "INSERT", old_item, item)
        effects.setdefault(table_name, []).append((old_item, item))
    return effects


def _consumed_capacity(ddb, effects: dict, rc: str) -> tuple[dict, dict]:
    """Upstream's ConsumedCapacity of the writes (2 x ceil(size/1KB) per item, index arms 1x) and the
    item sizes a token's replay reports."""
    result: dict = {}
    txn_sizes: dict = {}
    consumed = []
    for tname, table_effects in effects.items():
        tbl = ddb._tables.get(tname, {})
        sizes = []
        write_units = 0.0
        gsi_units: dict = {}
        lsi_units: dict = {}
        vector_bytes: dict = {}
        for old_it, new_it in table_effects:
            sz = max(
                ddb._item_size_bytes(old_it) if old_it else 0, ddb._item_size_bytes(new_it) if new_it else 0
            )
            sizes.append(sz)
            write_units += 2.0 * ddb._capacity_kb(sz)
            for kind, acc in (("GlobalSecondaryIndexes", gsi_units), ("LocalSecondaryIndexes", lsi_units)):
                for index in tbl.get(kind, []) or []:
                    units = ddb._index_write_units(tbl, index, old_it, new_it)
                    if units:
                        acc[index["IndexName"]] = acc.get(index["IndexName"], 0.0) + units
            for index_name, size in ddb._vector_write_bytes(tbl, old_it, new_it).items():
                vector_bytes[index_name] = vector_bytes.get(index_name, 0.0) + size
        txn_sizes[tname] = sizes
        if rc != "NONE":
            total = write_units + sum(gsi_units.values()) + sum(lsi_units.values())
            entry = {"TableName": tname, "CapacityUnits": total, "WriteCapacityUnits": write_units}
            if rc == "INDEXES":
                if gsi_units:
                    entry["GlobalSecondaryIndexes"] = {
                        n: {"CapacityUnits": u, "WriteCapacityUnits": u} for n, u in gsi_units.items()
                    }
                if lsi_units:
                    entry["LocalSecondaryIndexes"] = {
                        n: {"CapacityUnits": u, "WriteCapacityUnits": u} for n, u in lsi_units.items()
                    }
                if vector_bytes:
                    entry["VectorIndexes"] = {
                        n: {"VectorWriteRequestBytes": b} for n, b in vector_bytes.items()
                    }
            consumed.append(entry)
    if rc != "NONE" and consumed:
        result["ConsumedCapacity"] = consumed
    return result, txn_sizes
