"""The order workflow's inventory task: reserve every line of an order in one transaction."""
