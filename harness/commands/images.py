"""Function images: ``images`` (build), ``push`` (into the stack's ECR or the account's),
``emulator-image``."""

from __future__ import annotations

import botocore.exceptions

from harness import aws
from harness.commands import Registry
from harness.errors import USAGE, HarnessError
from harness.images import engine as docker_engine
from harness.images import project as images
from harness.images.mode import ImageMode
from harness.images.process_mode import ProcessMode
from harness.paths import Paths
from harness.stack.current import current_stack


def register(commands: Registry) -> None:
    commands.add("images", build_images)
    commands.add("emulator-image", build_emulator_image)
    push = commands.add("push", push_images)
    push.add_argument("--aws", action="store_true", help="the account's ECR (default credentials chain)")
    push.add_argument(
        "--prebuilt", action="store_true", help="push the images the engine holds (no build): the tested ones"
    )


def build_images(paths: Paths, args) -> int:
    image_mode = ImageMode(paths, with_fixtures=True)
    try:
        image_mode.prepare()
        for image in image_mode.images:
            print(image.local_reference(image_mode.tags[image.repository]))
    finally:
        image_mode.stop()
    return 0


def push_images(paths: Paths, args) -> int:
    """Push the template's functions: into the running stack's ECR (image mode: their container images,
    built from cache; process mode: their code images, no engine), or with --aws the container images
    into the account's ECR."""
    stack = None if args.aws else current_stack(paths)
    endpoint_url = stack.emulator_url if stack else None
    if stack and stack.mode != "image":
        if args.prebuilt:
            raise HarnessError(
                "push --prebuilt pushes images an engine holds; this stack runs in process mode, "
                "where push packs each function's code itself",
                USAGE,
            )
        for reference in ProcessMode(paths).publish(stack.emulator_url).values():
            print(reference)
        return 0
    try:
        ecr = aws.client("ecr", endpoint_url)  # before any build: a missing region fails at once
    except botocore.exceptions.NoRegionError:
        raise HarnessError(
            "no AWS region for `push --aws`: set AWS_REGION (or AWS_DEFAULT_REGION), or a region "
            "in the profile (`aws configure`)"
        ) from None
    # The test fixtures go only to the stacks their own suites start: a push is the template's functions.
    image_mode = ImageMode(paths)
    try:
        try:
            image_mode.prepare(build=not args.prebuilt)
        except docker_engine.EngineUnavailable as error:
            reason = str(error).replace(docker_engine.OR_PROCESS_MODE, "")
            raise docker_engine.EngineUnavailable(
                f"push {'--aws ' if args.aws else ''}builds container images (Lambda runs images), which "
                f"needs a Docker engine: {reason}"
            ) from None
        if endpoint_url is None:
            registry = images.registry_host(ecr)
            references = images.push_images(
                image_mode.prepared_engine, ecr, registry, image_mode.images, image_mode.tags
            )
        else:
            references = image_mode.publish(endpoint_url)
    finally:
        image_mode.stop()
    for reference in references.values():
        print(reference)
    return 0


def build_emulator_image(paths: Paths, args) -> int:
    from harness.emulator.run.container import COMPOSE_TAG, emulator_image

    engine = docker_engine.ensure_engine(paths.engine_state)
    try:
        reference = emulator_image(paths, engine)
        engine.client().images.get(reference).tag(COMPOSE_TAG)
    finally:
        engine.stop()
    print(f"{reference}\n{COMPOSE_TAG}")
    return 0
