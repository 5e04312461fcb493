"""`harness execution ORDER [--picture F.svg|F.png]` and `harness executions`: an order's workflow read back
from the real stack's Step Functions, as a timeline and as a Graphviz picture of the path taken."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from testkit.order_flow import configured_payment_attempts, place_and_wait

SVG = "{http://www.w3.org/2000/svg}"


def picture(
    harness, order_id: str, tmp_path
) -> tuple[dict[str, ElementTree.Element], list[ElementTree.Element]]:
    """(state name -> its SVG node group, every edge group) of the order's drawn workflow."""
    path = tmp_path / "workflow.svg"
    code, _, err = harness("execution", order_id, "--picture", str(path))
    assert code == 0, err
    root = ElementTree.parse(path).getroot()
    groups = list(root.iter(f"{SVG}g"))
    nodes = {
        group.findtext(f"{SVG}title"): group for group in groups if "node" in group.get("class", "").split()
    }
    return nodes, [group for group in groups if "edge" in group.get("class", "").split()]


def classes(group: ElementTree.Element) -> set[str]:
    return set(group.get("class", "").split())


def outline(group: ElementTree.Element) -> tuple[str, str]:
    shape = group.find(f"{SVG}path")
    assert shape is not None
    return shape.get("stroke", ""), shape.get("fill", "")


def finished_order(api, catalog, harness, payment_token: str, status: str) -> tuple[str, str]:
    """(order id, `harness execution ORDER` output) of a new order that finished in ``status``."""
    sku = catalog.add(available=5)
    order = place_and_wait(api, [{"sku": sku, "quantity": 1}], payment_token)
    assert order["status"] == status
    code, out, err = harness("execution", order["orderId"])
    assert code == 0, err
    return order["orderId"], out


def taken_edges(edges: list[ElementTree.Element]) -> set[str]:
    """The taken transitions, titled ``From->To`` by Graphviz."""
    return {edge.findtext(f"{SVG}title", "") for edge in edges if "taken" in classes(edge)}


def test_a_confirmed_order_shows_each_state_once_and_its_path(api, catalog, harness, tmp_path):
    order_id, out = finished_order(api, catalog, harness, "tok_ok", "CONFIRMED")
    assert re.search(r"^status\s+SUCCEEDED\b", out, re.MULTILINE), out
    states = re.findall(
        r"^\s+\+\d+\.\d{3}s\s+(\w+)\s+(\w+)\s+\d+\.\d{3}s\s+\d+ B\s+\d+ B$", out, re.MULTILINE
    )
    assert states == [
        ("AuthorizePayment", "Task"),
        ("ReserveInventory", "Task"),
        ("MarkConfirmed", "Task"),
        ("ConfirmedEvent", "Pass"),
        ("PublishConfirmed", "Task"),
    ], out
    assert "retry" not in out and "caught" not in out
    assert re.search(r"^output\s+\{.*\"OrderConfirmed\"", out, re.MULTILINE)

    nodes, edges = picture(harness, order_id, tmp_path)
    visited = {name for name, node in nodes.items() if "visited" in classes(node)}
    assert visited == {name for name, _ in states}
    drawn_states = set(nodes) - {"__start__", "__end__"}
    assert all("idle" in classes(nodes[name]) for name in drawn_states - visited)
    assert outline(nodes["MarkConfirmed"]) == ("#2e7d32", "#e8f5e9")
    assert outline(nodes["VoidAfterOutOfStock"]) == ("#9e9e9e", "#ffffff")
    assert taken_edges(edges) == {
        "__start__->AuthorizePayment",
        "AuthorizePayment->ReserveInventory",
        "ReserveInventory->MarkConfirmed",
        "MarkConfirmed->ConfirmedEvent",
        "ConfirmedEvent->PublishConfirmed",
        "PublishConfirmed->__end__",
    }


def test_a_flaky_payment_shows_each_retry_with_its_error_and_wait(api, catalog, harness, tmp_path):
    order_id, out = finished_order(api, catalog, harness, "tok_flaky_2", "CONFIRMED")
    retries = re.findall(r"retry (\d): (\w+) \(.*\), waited (\d+\.\d{3})s", out)
    assert [(number, error) for number, error, _ in retries] == [
        ("1", "PaymentProviderUnavailable"),
        ("2", "PaymentProviderUnavailable"),
    ], out
    assert all(float(wait) > 0 for _, _, wait in retries)

    nodes, edges = picture(harness, order_id, tmp_path)
    assert {"visited", "retried"} <= classes(nodes["AuthorizePayment"])
    assert outline(nodes["AuthorizePayment"]) == ("#ef6c00", "#fff3e0")
    assert "2 retries: PaymentProviderUnavailable" in "".join(nodes["AuthorizePayment"].itertext())
    loops = [edge for edge in edges if "retry" in classes(edge)]
    assert [edge.findtext(f"{SVG}title") for edge in loops] == ["AuthorizePayment->AuthorizePayment"]
    assert "retried 2x" in "".join(loops[0].itertext())


def test_a_payment_provider_down_shows_the_retries_the_catch_and_the_failure(api, catalog, harness, tmp_path):
    order_id, out = finished_order(api, catalog, harness, "tok_down", "FAILED")
    assert re.search(r"^status\s+FAILED\b", out, re.MULTILINE)
    assert len(re.findall(r"retry \d: PaymentProviderUnavailable", out)) == configured_payment_attempts() - 1
    assert re.search(r"caught PaymentProviderUnavailable \(.*\) -> PaymentFailed", out), out
    assert re.search(r"^failed in\s+OrderFailed: OrderFailed", out, re.MULTILINE), out

    nodes, edges = picture(harness, order_id, tmp_path)
    assert {"retried", "caught"} <= classes(nodes["AuthorizePayment"])
    assert "failed" in classes(nodes["OrderFailed"])
    assert outline(nodes["OrderFailed"]) == ("#c62828", "#ffebee")
    assert "ReserveInventory" not in {name for name, node in nodes.items() if "visited" in classes(node)}
    catch_taken = [edge for edge in edges if {"taken", "catch"} <= classes(edge)]
    assert [edge.findtext(f"{SVG}title") for edge in catch_taken] == ["AuthorizePayment->PaymentFailed"]


def test_a_declined_payment_shows_the_catch_of_its_own_error_name(api, catalog, harness):
    _, out = finished_order(api, catalog, harness, "tok_decline", "PAYMENT_DECLINED")
    assert re.search(r"caught PaymentDeclined \(.*\) -> PaymentWasDeclined", out), out
    assert "retry" not in out


def test_executions_lists_the_latest_and_filters_by_status(api, catalog, harness):
    sku = catalog.add(available=5)
    confirmed = place_and_wait(api, [{"sku": sku, "quantity": 1}], "tok_ok")["orderId"]
    failed = place_and_wait(api, [{"sku": sku, "quantity": 1}], "tok_down")["orderId"]

    # Other cases may start executions meanwhile (the suite runs side by side): a listing long enough
    # to hold both, and the order between the two, newest first.
    code, out, _ = harness("executions", "--limit", "500")
    assert code == 0
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert rows[confirmed] == "SUCCEEDED" and rows[failed] == "FAILED"
    assert list(rows).index(failed) < list(rows).index(confirmed)  # newest first

    code, out, _ = harness("executions", "--status", "FAILED", "--limit", "500")
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert failed in names and confirmed not in names
    assert all(line.split()[1] == "FAILED" for line in out.splitlines()[1:])


@pytest.mark.parametrize("order", ["no-such-order", "a:b"])
def test_an_unknown_order_is_one_clear_error(harness, order):
    code, out, err = harness("execution", order)
    assert code == 1 and out == ""
    assert err.startswith("harness: ") and order in err and "Traceback" not in err


def test_a_picture_is_drawn_as_png_too_and_another_kind_refused(api, catalog, harness, tmp_path):
    sku = catalog.add(available=5)
    order = place_and_wait(api, [{"sku": sku, "quantity": 1}], "tok_ok")
    code, _, err = harness("execution", order["orderId"], "--picture", str(tmp_path / "workflow.png"))
    assert code == 0, err
    assert (tmp_path / "workflow.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")  # PNG's signature
    code, _, err = harness("execution", order["orderId"], "--picture", str(tmp_path / "workflow.jpg"))
    assert code == 1 and "name a .svg or .png file, not 'workflow.jpg'" in err, err
    assert not (tmp_path / "workflow.jpg").exists()
