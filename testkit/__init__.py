"""What the test suites and the benchmarks share: clients of a deployed stack's order flow, the
test-only fixture functions (tests/fixtures/functions) created through the Lambda API, and alarms;
and CI's stages (ci_stages: the one list of what `make test` runs, run, timed and counted).

It may import ``harness``; neither ``tests`` nor ``bench`` (both import it).
"""
