"""A local stack's whole life: the emulator and function runtime processes (servers), the one
lifecycle every caller uses (lifecycle: start, deploy, reset, stop), deploying template.yaml the way
``sam deploy`` does (deploy, project), the data a deployed stack is given (seed, users, openapi), and
which stack a command acts on (current).

May import emulator/, images/, runtime/ (its client only) and the foundation modules.
"""
