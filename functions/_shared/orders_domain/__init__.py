"""The order flow's contract, shared by the orders API, payment and inventory functions."""
