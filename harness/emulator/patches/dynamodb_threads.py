"""DynamoDB's state read and written by one thread at a time (patch ``dynamodb_threads``).

Upstream serves DynamoDB's API on the event loop's thread, but other threads write the same tables:
Step Functions' optimized integrations (``arn:aws:states:::dynamodb:putItem`` and the like,
``services/stepfunctions.py``'s ``_invoke_dynamodb``) call ``_put_item``, ``_get_item``,
``_delete_item`` and ``_update_item`` from each execution's thread, and the TTL reaper deletes from its
own. A Query on an index iterates the index's members while such a write changes them:
``RuntimeError: dictionary changed size during iteration``, a 500 where AWS answers (seen in the e2e
suite beside a CI run: a Query on the orders table's customer index while the order workflows' updateItem
tasks wrote the table).

Here the API's handler and those four functions hold one re-entrant lock: upstream's own ``_lock``
(which the reaper already takes), made re-entrant so that a request holding it may call code that
takes it again. The handler awaits nothing, so holding a thread lock in it never blocks the event loop
on itself. Could be proposed to MiniStack as is.
"""

from __future__ import annotations

import functools
import threading

# What Step Functions' threads call (services/stepfunctions.py, _invoke_dynamodb).
CALLED_FROM_OTHER_THREADS = ("_put_item", "_get_item", "_delete_item", "_update_item")


def install() -> None:
    from ministack.services import dynamodb

    dynamodb._lock = lock = threading.RLock()
    handle_request = dynamodb.handle_request

    async def handle_request_holding_the_lock(method, path, headers, body, query_params):
        with lock:
            return await handle_request(method, path, headers, body, query_params)

    dynamodb.handle_request = handle_request_holding_the_lock
    for name in CALLED_FROM_OTHER_THREADS:
        setattr(dynamodb, name, _holding(lock, getattr(dynamodb, name)))


def _holding(lock: threading.RLock, operation):
    @functools.wraps(operation)
    def holding(*args, **kwargs):
        with lock:
            return operation(*args, **kwargs)

    return holding
