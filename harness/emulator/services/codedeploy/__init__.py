"""CodeDeploy for Lambda, served at the emulator's endpoint (MiniStack has no CodeDeploy module).

Owns the CodeDeploy API (``service``), the deployment lifecycle it runs (``lifecycle``: hooks, traffic
shifting on the alias, alarms, rollback), the deployment configurations (``configs``), the local time
scale CodeDeploy waits on (``clock``), the CloudFormation resource types and alias UpdatePolicy
(``cloudformation``), whose deployments in one stack update run side by side where no dependency orders
them (``alias_batch``). Imports MiniStack only in ``cloudformation`` and ``alias_batch``; the patch
``codedeploy`` (harness/emulator/patches/codedeploy.py) plugs it in. Everything else talks to Lambda and
CloudWatch through their public APIs at the emulator's endpoint, as CodeDeploy does on AWS.
"""
