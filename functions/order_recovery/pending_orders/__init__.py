"""The order recovery sweep: starts the workflow of orders left PENDING without one (app -> logic -> data)."""
