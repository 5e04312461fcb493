"""Local emulation harness: the AWS emulator, the function runtime, images, deploys and end-to-end runs.

One folder per responsibility; imports flow one way, from the CLI down (tests/unit/test_layers.py
fails on an upward import or a circle):

    cli            builds the parser from commands/ and runs a command (expected failures: exit statuses)
    commands/      the table of commands and one module per group: arguments, code, printing
    inspect/       looking into a running stack: an order's workflow execution and picture, its trace
    release/       release tooling: promote image digests into a stage, follow CodeDeploy, records
    stack/         a local stack's life: start (session), deploy, outputs, reset, stop; data into it
    emulator/      the AWS emulator behind one interface: how it runs (process, server, container), the
                   patches to MiniStack and their registry, the services MiniStack lacks
    images/        the Docker engine, the base image, building and pushing the function images
    runtime/       the function runtime: Lambda's Runtime API and execution environments
    console, errors, paths, aws, processes, template, clock, metric_dimensions, filter_patterns
                   used by all of the above; import nothing above
"""
