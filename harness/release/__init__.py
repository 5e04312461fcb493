"""Release tooling for deployers: promote immutable image digests through stages.

A stage is a CloudFormation stack with its registry: the local stack, a second stack in the same
emulator, or a stack in an AWS account; only the endpoint and credentials differ (stages). Owns
resolving revisions to digests and the tested marks in ECR (registry), the release records kept in
each stage's SSM (records), a stage's live functions (live), updating the stack by change set
(changeset), following CodeDeploy deployments (follow), and the commands built on them: promote,
rollback, status (promote, rollback, status), and the post-deployment smoke tests (smoke).

May import harness.stack, harness.images (image names only) and the foundation modules.
"""
