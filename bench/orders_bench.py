"""Order flow benchmarks -> bench/results/orders.json (`make bench`, or `python -m bench.orders_bench`).

On a fresh local stack (emulator + function runtime, template deployed, one product with ample stock):
- api_post_p50_ms / p99, orders_per_s: 10 concurrent clients, each placing one order (tok_ok) every
  200 ms for 60 s, 50 orders/s in all: the POST latency they see, and the orders confirmed divided by
  the time until every one of them was final.
- order_completion_p50_ms / p99: POST until GET shows a final status, 10 concurrent clients each
  placing an order and polling it every 10 ms (20 orders each).
- api_post_saturated_p50_ms / p99: the same 10 clients posting back to back (50 orders each), which
  measures the machine's saturation point rather than latency: by Little's law 10 clients in a closed
  loop see 10 / throughput seconds per request whatever the service time.
- errors: answers other than 202 in every phase plus orders that did not end CONFIRMED within 120 s.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import CpuMeter, load_average_5m, percentile, sized, write
from harness import aws
from harness.paths import Paths
from harness.stack import users
from harness.stack.lifecycle import running_stack
from testkit.orders import FINAL_STATUSES, Catalog, OrdersApi
from testkit.polling import until

CLIENTS = sized(10, 2)
SATURATED_POSTS_PER_CLIENT = sized(50, 2)
COMPLETIONS_PER_CLIENT = sized(20, 2)
CLIENT_INTERVAL_S = 0.2  # each client's pace: 10 clients x 5 orders/s = 50 orders/s
SUSTAINED_S = sized(60, 2)
DRAIN_TIMEOUT_S = 120


def timed_post(api: OrdersApi, sku: str) -> tuple[float, str | None]:
    started = time.perf_counter()
    response = api.place([{"sku": sku, "quantity": 1}], "tok_ok")
    elapsed_ms = (time.perf_counter() - started) * 1000
    return elapsed_ms, response.body.get("orderId") if response.status == 202 else None


def completion_ms(api: OrdersApi, sku: str) -> float | None:
    started = time.perf_counter()
    _, order_id = timed_post(api, sku)
    if order_id is None:
        return None

    def final_after_ms() -> float | None:
        return (time.perf_counter() - started) * 1000 if api.final_order(order_id) else None

    return until(final_after_ms, 30 - (time.perf_counter() - started), interval_s=0.01)


def statuses(orders_table, order_ids: set[str]) -> dict[str, str]:
    """orderId -> status of ``order_ids`` (the table resource's client returns plain values)."""
    found = {}
    scan = orders_table.meta.client.get_paginator("scan").paginate(
        TableName=orders_table.name,
        ProjectionExpression="orderId, #s",
        ExpressionAttributeNames={"#s": "status"},
    )
    for page in scan:
        found.update(
            {item["orderId"]: item["status"] for item in page["Items"] if item["orderId"] in order_ids}
        )
    return found


def paced_client(api: OrdersApi, sku: str, start: float) -> list[tuple[float, str | None]]:
    """One client placing an order every CLIENT_INTERVAL_S from ``start`` (late when a POST is slow)."""
    posts = []
    for index in range(int(SUSTAINED_S / CLIENT_INTERVAL_S)):
        time.sleep(max(0.0, start + index * CLIENT_INTERVAL_S - time.perf_counter()))
        posts.append(timed_post(api, sku))
    return posts


def sustained(api: OrdersApi, sku: str, orders_table) -> tuple[list[float], float, int, int]:
    """(POST latencies, confirmed orders per second, answers other than 202, accepted orders not
    CONFIRMED in time) of CLIENTS paced clients, their starts spread over one interval."""
    started = time.perf_counter()
    offsets = [started + CLIENT_INTERVAL_S * client / CLIENTS for client in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = pool.map(lambda start: paced_client(api, sku, start), offsets)
        posts = [post for client_posts in clients for post in client_posts]
    order_ids = {order_id for _, order_id in posts} - {None}
    found: dict[str, str] = {}

    def all_final() -> bool:
        found.update(statuses(orders_table, order_ids))
        return all(found.get(order_id) in FINAL_STATUSES for order_id in order_ids)

    until(all_final, DRAIN_TIMEOUT_S, interval_s=0.5)
    elapsed = time.perf_counter() - started
    confirmed = sum(1 for status in found.values() if status == "CONFIRMED")
    latencies = [elapsed_ms for elapsed_ms, order_id in posts if order_id]
    return latencies, confirmed / elapsed, len(posts) - len(order_ids), len(order_ids) - confirmed


def main() -> int:
    paths = Paths.discover()
    load_at_start = os.getloadavg()[1]
    with running_stack(paths, "process") as running:
        session = running.servers
        outputs = running.deploy().outputs
        dynamodb = aws.resource("dynamodb", session.endpoint_url)
        sku = Catalog(dynamodb.Table(outputs["CatalogTableName"])).add(available=10_000_000)
        token = users.id_token(aws.client("cognito-idp", session.endpoint_url), outputs, "bench")
        api = OrdersApi(outputs["ApiUrl"], token)
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(lambda _: completion_ms(api, sku), range(CLIENTS * 2)))  # warm every function
            completions = list(
                pool.map(lambda _: completion_ms(api, sku), range(CLIENTS * COMPLETIONS_PER_CLIENT))
            )
        completed_ms = [elapsed for elapsed in completions if elapsed is not None]
        orders_table = dynamodb.Table(outputs["OrdersTableName"])
        cpu = CpuMeter(session)
        cpu.start()
        post_ms, orders_per_s, rejected, unfinished = sustained(api, sku, orders_table)
        cpu.stop()
        cpu_ms_per_order = {part: round(spent * 1000 / len(post_ms), 1) for part, spent in cpu.spent.items()}
        print(f"POST p50 {percentile(post_ms, 0.5):.1f} ms at 50/s; {orders_per_s:.1f} orders/s", flush=True)
        with ThreadPoolExecutor(CLIENTS) as pool:
            saturated = list(
                pool.map(lambda _: timed_post(api, sku), range(CLIENTS * SATURATED_POSTS_PER_CLIENT))
            )
        saturated_ms = [elapsed for elapsed, order_id in saturated if order_id]
    figures = {
        "api_post_p50_ms": round(percentile(post_ms, 0.5), 1),
        "api_post_p99_ms": round(percentile(post_ms, 0.99), 1),
        "order_completion_p50_ms": round(percentile(completed_ms, 0.5), 1),
        "order_completion_p99_ms": round(percentile(completed_ms, 0.99), 1),
        "orders_per_s": round(orders_per_s, 1),
        "errors": rejected
        + unfinished
        + (len(completions) - len(completed_ms))
        + (len(saturated) - len(saturated_ms)),
        "api_post_saturated_p50_ms": round(percentile(saturated_ms, 0.5), 1),
        "api_post_saturated_p99_ms": round(percentile(saturated_ms, 0.99), 1),
        "cpu_ms_per_order": round(sum(cpu_ms_per_order.values()), 1),
        **{f"cpu_ms_per_order_{part}": ms for part, ms in cpu_ms_per_order.items()},
        "machine_load_average_5m": load_average_5m(load_at_start),
    }
    write(
        "orders",
        figures,
        f"Local stack in process mode. POST latency and throughput: {CLIENTS} concurrent clients, each "
        f"placing an order every {CLIENT_INTERVAL_S * 1000:.0f} ms for {SUSTAINED_S} s (50/s offered); "
        f"orders_per_s = confirmed orders divided by the time until all were final; {rejected} answers "
        f"other than 202 and {unfinished} accepted orders not CONFIRMED within {DRAIN_TIMEOUT_S} s. "
        f"Completion: {CLIENTS} clients x {COMPLETIONS_PER_CLIENT}, polling GET every 10 ms. Saturated: "
        f"{CLIENTS} clients posting back to back ({SATURATED_POSTS_PER_CLIENT} each), where latency is "
        "queueing (Little's law). cpu_ms_per_order: CPU spent during the paced phase per order placed, "
        "in total and by the emulator, the function runtime, the function instances (3 invocations an "
        "order) and this benchmark's client threads; 2 cores give 2,000 ms of CPU a second. "
        "machine_load_average_5m: the shared machine's load while it ran (other sessions' tests).",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
