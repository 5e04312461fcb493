"""Looking into a running stack: an order's workflow execution (its timeline and its picture), the
latest executions, and an order's X-Ray trace.

Reads through the AWS APIs only (Step Functions, X-Ray), so the same code reads a deployed stack.
May import the shared modules (harness.aws, harness.paths, harness.processes, harness.console); nothing
of the stack's life (that is harness.stack) and nothing above.
"""
