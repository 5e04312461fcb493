#!/bin/sh
# The AWS Lambda base image's entrypoint contract, for the offline stand-in base image:
# CMD is the handler; with AWS_LAMBDA_RUNTIME_API set (Lambda, or the harness's function runtime)
# the runtime interface client runs it. The real image would start its Runtime Interface Emulator
# when the variable is unset; the stand-in has none (it is on no registry reachable here).
if [ "$#" -ne 1 ]; then
    echo "lambda-entrypoint.sh: expected exactly one argument, the handler (module.function)" >&2
    exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    echo "lambda-entrypoint.sh: AWS_LAMBDA_RUNTIME_API is not set and this stand-in base has no" \
         "Runtime Interface Emulator; run it through the harness (or on the AWS base image)" >&2
    exit 1
fi
exec /var/runtime/bootstrap
