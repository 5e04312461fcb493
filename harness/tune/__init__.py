"""Memory and CPU tuning of a function on the running stack, as AWS Lambda Power Tuning does on AWS.

    prices      AWS's published Lambda prices (one table, its source and date), cost per million
    results     one size's figures (cold start, warm invocations), their statistics, the
                recommendations (cheapest, fastest, balanced) and the table
    run         a scratch copy of the function, one version per memory size, invoked through the
                Lambda API; the copy is deleted afterwards
    feed        events for the feed processor: a feed file uploaded anew for every invocation, in
                the SQS batch shape, with the live function's queue mapping paused meanwhile
    picture     duration and cost against memory, drawn with matplotlib
    apply       a MemorySize written into template.yaml, the diff shown first

Sits beside inspect (tests/unit/test_layers.py): imports the layers below, runtime's CPU figures
among them.
"""
