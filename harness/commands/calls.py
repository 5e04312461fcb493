"""Commands that call the running stack's AWS APIs: ``aws``, ``token``, ``seed``."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import aws
from harness.commands import Registry
from harness.console import say
from harness.paths import Paths
from harness.stack import awscli, users
from harness.stack import seed as stack_seed
from harness.stack.current import current_stack


def register(commands: Registry) -> None:
    commands.add("aws", aws_cli).add_argument("arguments", nargs=argparse.REMAINDER, help="aws CLI arguments")
    commands.add("token", token).add_argument(
        "--user", default=users.DEFAULT_USER, help=f"user name (default {users.DEFAULT_USER})"
    )
    commands.add("seed", seed).add_argument(
        "file", help="JSON list of {sku, priceCents, currency, available, name?}"
    )


def aws_cli(paths: Paths, args) -> int:
    return awscli.run(current_stack(paths).emulator_url, args.arguments)


def token(paths: Paths, args) -> int:
    stack = current_stack(paths)
    print(users.id_token(stack.client("cognito-idp"), stack.outputs, args.user))
    return 0


def seed(paths: Paths, args) -> int:
    stack = current_stack(paths)
    products = stack_seed.read_catalog(Path(args.file))
    table = stack.outputs["CatalogTableName"]
    count = stack_seed.load(aws.resource("dynamodb", stack.endpoint_url), table, products)
    say(f"loaded {count} products into {table}")
    return 0
