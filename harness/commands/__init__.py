"""The CLI's commands, grouped by what they need: ``harness/cli.py`` names each command's function here
and imports its module only when that command runs, so a command starts without the others'
dependencies (as SAM CLI loads a command's package only when it is invoked).

    running     what the stack `harness up` runs is: its session, status, env, outputs, url
    lifecycle   up, deploy, sync, reset, down
    logs        a function's log lines
    calls       commands that call the stack's AWS APIs: aws, token, seed
    alarms      every alarm of the stack
    suites      e2e, test, rehearse: a stack of their own around pytest
    images      images, push, emulator-image
    release     release promote, mark-tested, status, history, rollback
    tune        a function at each memory size (harness/tune)

They sit in the CLI's layer (tests/unit/test_layers.py): they import anything below it.
"""
