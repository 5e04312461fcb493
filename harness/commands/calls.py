"""Commands that call the running stack's AWS APIs: ``aws``, ``token``, ``seed``."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import aws
from harness.commands.running import deployed_outputs, running_session
from harness.console import say
from harness.paths import Paths
from harness.stack import awscli, users
from harness.stack import seed as stack_seed


def aws_arguments(aws_command) -> None:
    aws_command.add_argument("arguments", nargs=argparse.REMAINDER, help="aws CLI arguments")


def aws_cli(paths: Paths, args) -> int:
    return awscli.run(running_session(paths)["endpointUrl"], args.arguments)


def token_arguments(token) -> None:
    token.add_argument("--user", default=users.DEFAULT_USER, help=f"user name (default {users.DEFAULT_USER})")


def token(paths: Paths, args) -> int:
    endpoint_url, outputs = deployed_outputs(paths)
    print(users.id_token(aws.client("cognito-idp", endpoint_url), outputs, args.user))
    return 0


def seed_arguments(seed_command) -> None:
    seed_command.add_argument("file", help="JSON list of {sku, priceCents, currency, available, name?}")


def seed(paths: Paths, args) -> int:
    endpoint_url, outputs = deployed_outputs(paths)
    try:
        products = stack_seed.read_catalog(Path(args.file))
    except stack_seed.CatalogFileError as error:
        raise SystemExit(f"harness: {error}") from None
    dynamodb = aws.resource("dynamodb", endpoint_url)
    count = stack_seed.load(dynamodb, outputs["CatalogTableName"], products)
    say(f"loaded {count} products into {outputs['CatalogTableName']}")
    return 0
