"""Local emulation harness: the AWS emulator, the function runtime, deploys and end-to-end runs."""
