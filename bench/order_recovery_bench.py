"""Recovery of orders whose workflow start failed -> ``pending_recovery_*`` in bench/results/orders.json
(`make bench`, or `python -m bench.order_recovery_bench`; the file's other figures are kept).

On a fresh local stack (process mode): StartExecution is made to fail (the emulator's test-only faults)
for every one of ORDERS orders placed by 10 clients in a burst, so each is left to the recovery sweep.
pending_recovery_p50_s / p99 / max: POST answered (202 PENDING) until GET shows the final status
(every order polled every 100 ms once all are placed).
The grace period (10 s, the orders API's timeout) dominates: the sweep runs every local minute.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import RESULTS, percentile, sized, write
from harness import aws
from harness.paths import Paths
from harness.stack import users
from harness.stack.lifecycle import running_stack
from testkit.faults import START_EXECUTION, EmulatorFaults
from testkit.orders import Catalog, OrdersApi
from testkit.polling import until

ORDERS = sized(100, 4)
CLIENTS = sized(10, 2)
TIMEOUT_S = 120
NOTES_MARK = " Pending recovery:"


def accepted(api: OrdersApi, sku: str) -> tuple[str, float] | None:
    """(order id, when the 202 arrived) of one order placed, or None if it was not accepted."""
    response = api.place([{"sku": sku, "quantity": 1}], "tok_ok")
    return (response.body["orderId"], time.perf_counter()) if response.status == 202 else None


def recovery_s(api: OrdersApi, placed: list[tuple[str, float]]) -> dict[str, float]:
    """order id -> seconds from its 202 until GET showed it final (orders not final in time left out)."""
    finished: dict[str, float] = {}

    def all_finished() -> bool:
        for order_id, at in placed:
            if order_id not in finished and api.final_order(order_id):
                finished[order_id] = time.perf_counter() - at
        return len(finished) == len(placed)

    until(all_finished, TIMEOUT_S)
    return finished


def main() -> int:
    paths = Paths.discover()
    with running_stack(paths, "process") as running:
        endpoint_url = running.servers.endpoint_url
        outputs = running.deploy().outputs
        sku = Catalog(aws.resource("dynamodb", endpoint_url).Table(outputs["CatalogTableName"])).add(100_000)
        api = OrdersApi(
            outputs["ApiUrl"], users.id_token(aws.client("cognito-idp", endpoint_url), outputs, "b")
        )
        with ThreadPoolExecutor(CLIENTS) as pool:
            warm = [order for order in pool.map(lambda _: accepted(api, sku), range(CLIENTS)) if order]
            recovery_s(api, warm)  # every function warm, nothing pending
            faults = EmulatorFaults(endpoint_url)
            # Every start the API attempts is refused (all of them land well within the grace period).
            faults.arm(START_EXECUTION, failures=ORDERS)
            placed = [order for order in pool.map(lambda _: accepted(api, sku), range(ORDERS)) if order]
        refused = faults.of(START_EXECUTION)["failed"]
        recovered = list(recovery_s(api, placed).values())
        unfinished = ORDERS - len(recovered)
    figures = {
        "pending_recovery_p50_s": round(percentile(recovered, 0.5), 2),
        "pending_recovery_p99_s": round(percentile(recovered, 0.99), 2),
        "pending_recovery_max_s": round(max(recovered), 2),
        "pending_recovery_errors": unfinished,
    }
    previous = json.loads((RESULTS / "orders.json").read_text()) if (RESULTS / "orders.json").exists() else {}
    notes = previous.pop("notes", "").split(NOTES_MARK)[0]
    previous.pop("machine", None)
    write(
        "orders",
        {**previous, **figures},
        f"{notes}{NOTES_MARK} {ORDERS} orders from {CLIENTS} clients with StartExecution refused at the "
        f"emulator ({refused} refusals), each started by the recovery sweep (grace 10 s, a sweep every "
        "local minute, 0.6 s at the default time scale); seconds from the 202 to the final status seen "
        "by polling GET every 100 ms; pending_recovery_errors: orders not final within "
        f"{TIMEOUT_S} s.",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
