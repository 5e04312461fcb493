"""The AWS services MiniStack lacks, served at the emulator's endpoint: CodeDeploy for Lambda
(``codedeploy``), X-Ray (``xray``) and the metrics AWS services publish on their own
(``service_metrics``). Each is plugged into MiniStack by the patch of the same name
(harness/emulator/patches/), which lists the upstream names it touches.
"""
