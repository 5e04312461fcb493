"""The order flow's contract, shared by the orders API, payment, inventory and recovery functions: the
API's and tasks' models, the order item and its writers (order_item.py), its timestamps, the workflow's
start."""
