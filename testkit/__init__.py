"""What the test suites and the benchmarks share (a helper of more than one suite lives here, never in one
suite's conftest or test module for the others to import): the suites' view of a stack (``local_stack``),
clients of a deployed stack's order and feed flows (``orders``; ``order_flow``: an order placed and
awaited, its execution, its bounds; ``feed_pipeline``), the test-only fixture functions and state machines
(tests/fixtures) created through the AWS APIs and invoked (``fixture_functions``,
``fixture_state_machines``), emulators of a test's own (``emulators``), alarms, policies, CodeDeploy
deployments (``codedeploy``), real revisions and the dev loop (``revisions``, ``devloop``), and one of each
helper they all need: the poll with a deadline (``polling``), metric and log readers (``metrics``,
``logs``), the CLI runner (``cli``), the emulator's test-only clock and faults (``emulator_clock``,
``faults``), the bounds of a random count (``binomial``), another local user or origin (``outsiders``), who
listens where (``sockets``); and CI's stages (ci_stages: the one list of what `make test` runs, run, timed
and counted).

Fixtures stay in the conftest.py of the folder whose tests use them: tests/conftest.py for those of
more than one suite.

It may import ``harness``; neither ``tests`` nor ``bench`` (both import it).
"""
