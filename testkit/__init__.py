"""What the test suites and the benchmarks share: clients of a deployed stack's order flow, the
test-only fixture functions (tests/fixtures/functions) created through the Lambda API, alarms, and one
of each helper they all need: the poll with a deadline (``polling``), metric and log readers
(``metrics``, ``logs``), the CLI runner (``cli``), the emulator's test-only clock and faults
(``emulator_clock``, ``faults``), the bounds of a random count (``binomial``);
and CI's stages (ci_stages: the one list of what `make test` runs, run, timed and counted).

It may import ``harness``; neither ``tests`` nor ``bench`` (both import it).
"""
