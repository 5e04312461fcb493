"""CodeDeploy for Lambda, served at the emulator's endpoint (MiniStack has no CodeDeploy module).

Owns the CodeDeploy API (``service``), the deployment lifecycle it runs (``lifecycle``: hooks, traffic
shifting on the alias, alarms, rollback), the deployment configurations (``configs``), the local time
scale CodeDeploy waits on (``clock``), and the CloudFormation resource types and alias UpdatePolicy
(``cloudformation``). Imports MiniStack only in ``cloudformation`` and in the registration
(harness/emulator/ministack_patches.py); everything else talks to Lambda and CloudWatch through their
public APIs at the emulator's endpoint, as CodeDeploy does on AWS.
"""
