"""The function runtime: the Lambda Runtime API, execution environments (process or container), their
concurrency, timeouts, logs and metrics. A process of its own (``python -m harness.runtime``); the
rest of the harness talks to it over HTTP only, through ``client``.

May import the foundation modules (aws) only.
"""
